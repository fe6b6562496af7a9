import PropertyBased
import Testing

@testable import Spindle

/// `BlockingQueue`'s state machine, driven without threads: parkers are plain numbers, and a
/// timeout is the `collect` of a waiter nobody served.
@Suite("BlockingQueue state machine")
struct BlockingQueueStateMachineTests {
    typealias Machine = BlockingQueueStateMachine<Int, Int>

    @Test("put and get without waiting: FIFO, full at maxSize, empty at zero")
    func putAndGet() {
        var machine = Machine(maxSize: 2)
        #expect(describe(machine.put(1, parker: nil)) == "added(nil)")
        #expect(describe(machine.put(2, parker: nil)) == "added(nil)")
        #expect(describe(machine.put(3, parker: nil)) == "full")
        #expect(machine.count == 2)
        #expect(describe(machine.get(parker: nil)) == "element(1, nil)")
        #expect(describe(machine.get(parker: nil)) == "element(2, nil)")
        #expect(describe(machine.get(parker: nil)) == "empty")
        #expect(machine.count == 0 && machine.waitingGetters == 0 && machine.waitingPutters == 0)
    }

    @Test("a put hands its element to the longest-waiting getter")
    func putServesWaitingGetter() {
        var machine = Machine(maxSize: 1)
        guard case .wait(let first) = machine.get(parker: 10), case .wait(let second) = machine.get(parker: 11) else {
            Issue.record("getters of an empty queue must wait")
            return
        }
        #expect(describe(machine.put(7, parker: nil)) == "added(10)")
        #expect(machine.count == 0)  // handed over, not buffered
        #expect(describe(machine.collect(first)) == "element(7)")
        #expect(machine.waitingGetters == 1)
        #expect(describe(machine.collect(second)) == "timedOut")  // its timeout: it stops waiting
        #expect(machine.waitingGetters == 0)
        #expect(machine.unfinishedTasks == 1)
    }

    @Test("a get takes the longest-waiting putter's element in and names it to unpark")
    func getServesWaitingPutter() {
        var machine = Machine(maxSize: 1)
        _ = machine.put(1, parker: nil)
        guard case .wait(let putter) = machine.put(2, parker: 20) else {
            Issue.record("a putter of a full queue must wait")
            return
        }
        #expect(describe(machine.put(3, parker: nil)) == "full")  // no overtaking the waiter
        #expect(describe(machine.get(parker: nil)) == "element(1, 20)")
        #expect(machine.count == 1)
        #expect(describe(machine.collect(putter)) == "served")
        #expect(describe(machine.get(parker: nil)) == "element(2, nil)")
    }

    @Test("a putter whose timeout passed first is removed and its element not added")
    func putterTimeout() {
        var machine = Machine(maxSize: 1)
        _ = machine.put(1, parker: nil)
        guard case .wait(let putter) = machine.put(2, parker: 20) else {
            Issue.record("expected the caller to wait")
            return
        }
        #expect(describe(machine.collect(putter)) == "timedOut")
        #expect(machine.waitingPutters == 0)
        #expect(describe(machine.get(parker: nil)) == "element(1, nil)")
        #expect(describe(machine.get(parker: nil)) == "empty")
        #expect(machine.unfinishedTasks == 1)
    }

    @Test("a timeout that loses the race to a wake-up still gets what it was handed")
    func timeoutAfterServed() {
        var machine = Machine(maxSize: 1)
        guard case .wait(let getter) = machine.get(parker: 10) else {
            Issue.record("expected the caller to wait")
            return
        }
        _ = machine.put(5, parker: nil)
        // The getter's park timed out just as the put unparked it: collect still hands it 5.
        #expect(describe(machine.collect(getter)) == "element(5)")
    }

    @Test("taskDone and join: joiners wait for the last taskDone; too many is an overflow")
    func taskDoneAndJoin() {
        var machine = Machine(maxSize: 4)
        #expect(describe(machine.join(parker: nil)) == "done")
        _ = machine.put(1, parker: nil)
        _ = machine.put(2, parker: nil)
        #expect(describe(machine.join(parker: nil)) == "pending")
        guard case .wait(let joiner) = machine.join(parker: 30), case .wait(let late) = machine.join(parker: 31) else {
            return #expect(Bool(false))
        }
        _ = machine.get(parker: nil)
        #expect(describe(machine.taskDone()) == "counted([])")
        #expect(describe(machine.collect(late)) == "timedOut")  // one joiner gave up
        _ = machine.get(parker: nil)
        #expect(describe(machine.taskDone()) == "counted([30])")
        #expect(describe(machine.collect(joiner)) == "served")
        #expect(describe(machine.taskDone()) == "overflow")
        #expect(machine.unfinishedTasks == 0)
    }

    @Test("shutdown fails waiting putters and getters; getters drain what is left first")
    func shutdown() {
        var full = Machine(maxSize: 1)
        _ = full.put(1, parker: nil)
        guard case .wait(let putter) = full.put(2, parker: 20) else {
            Issue.record("expected the caller to wait")
            return
        }
        #expect(full.shutdown(immediate: false) == [20])
        #expect(describe(full.collect(putter)) == "shutDown")
        #expect(describe(full.put(3, parker: nil)) == "shutDown")
        #expect(describe(full.get(parker: 21)) == "element(1, nil)")
        #expect(describe(full.get(parker: 21)) == "shutDown")

        var empty = Machine(maxSize: 1)
        guard case .wait(let getter) = empty.get(parker: 10) else {
            Issue.record("expected the caller to wait")
            return
        }
        #expect(empty.shutdown(immediate: false) == [10])
        #expect(describe(empty.collect(getter)) == "shutDown")
    }

    @Test("shutdown(immediate:) drops what is left, counts it done and releases joiners")
    func immediateShutdown() {
        var machine = Machine(maxSize: 3)
        for i in 0..<3 { _ = machine.put(i, parker: nil) }
        _ = machine.get(parker: nil)
        guard case .wait(let joiner) = machine.join(parker: 30) else {
            Issue.record("expected the caller to wait")
            return
        }
        #expect(machine.shutdown(immediate: true) == [])  // one element is still unfinished
        #expect(machine.count == 0 && machine.unfinishedTasks == 1)
        #expect(describe(machine.get(parker: nil)) == "shutDown")
        #expect(describe(machine.taskDone()) == "counted([30])")
        #expect(describe(machine.collect(joiner)) == "served")

        var idle = Machine(maxSize: 2)
        _ = idle.put(1, parker: nil)
        guard case .wait(let waiting) = idle.join(parker: 31) else {
            Issue.record("expected the caller to wait")
            return
        }
        #expect(idle.shutdown(immediate: true) == [31])
        #expect(describe(idle.collect(waiting)) == "served")
    }

    @Test("random operations match the reference model; nothing is lost, duplicated or reordered")
    func matchesModel() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 1...3), Gen.int(in: 0...63).array(of: 1...80)
        ) { maxSize, operations in
            var machine = Machine(maxSize: maxSize)
            var model = BlockingQueueModel(maxSize: maxSize)
            for (step, code) in operations.enumerated() {
                guard let result = apply(code, step: step, to: &machine, and: &model) else { continue }
                #expect(result.actual == result.expected, "step \(step): operation \(code) on maxSize \(maxSize)")
                #expect(machine.count == model.items.count && machine.count <= maxSize)
                #expect(machine.waitingGetters == 0 || machine.count == 0)
                #expect(machine.waitingPutters == 0 || machine.count == maxSize)
                #expect(machine.unfinishedTasks == model.unfinished)
            }
            // Drain: everything added reaches a getter exactly once, in order, unless an
            // immediate shutdown dropped it.
            _ = machine.shutdown(immediate: false)
            _ = model.shutdown(immediate: false)
            for id in model.waiting {
                #expect(describe(machine.collect(id)) == model.collect(id))
            }
            while case .element(let element, _) = machine.get(parker: nil) {
                #expect(model.get(parker: nil) == "element(\(element), nil)")
            }
            #expect(model.received == model.added.filter { !model.dropped.contains($0) })
        }
    }

    /// Runs the operation `code` encodes on both; nil when it does not apply now.
    private func apply(
        _ code: Int, step: Int, to machine: inout Machine, and model: inout BlockingQueueModel
    ) -> (expected: String, actual: String)? {
        let arg = code / 8
        switch code % 8 {
        case 0:
            return (model.put(step, parker: nil), describe(machine.put(step, parker: nil)))
        case 1:
            return (model.put(step, parker: step), describe(machine.put(step, parker: step)))
        case 2:
            return (model.get(parker: nil), describe(machine.get(parker: nil)))
        case 3:
            return (model.get(parker: step), describe(machine.get(parker: step)))
        case 4, 5:
            guard !model.waiting.isEmpty else { return nil }
            let id = model.waiting[arg % model.waiting.count]
            return (model.collect(id), describe(machine.collect(id)))
        case 6:
            if arg % 2 == 0 { return (model.taskDone(), describe(machine.taskDone())) }
            let parker: Int? = arg % 4 == 1 ? step : nil
            return (model.join(parker: parker), describe(machine.join(parker: parker)))
        default:
            guard arg % 3 == 0 else { return nil }
            let immediate = arg % 2 == 0
            return (model.shutdown(immediate: immediate), "\(machine.shutdown(immediate: immediate))")
        }
    }
}

/// The reference: `BlockingQueue`'s rules written the plainest way, with arrays, and what
/// every parked thread is owed written down as text.
struct BlockingQueueModel {
    let maxSize: Int
    var items: [Int] = []
    var getters: [(id: Int, parker: Int)] = []
    var putters: [(id: Int, parker: Int, element: Int)] = []
    var joiners: [(id: Int, parker: Int)] = []
    var owed: [Int: String] = [:]
    /// Ids registered as waiting and not yet collected.
    var waiting: [Int] = []
    var unfinished = 0
    var isOpen = true
    var nextID = 0
    /// Elements in the order they went in, the order getters received them, and those dropped.
    var added: [Int] = [], received: [Int] = [], dropped: [Int] = []

    init(maxSize: Int) { self.maxSize = maxSize }

    mutating func register() -> Int {
        nextID += 1
        waiting.append(nextID)
        return nextID
    }

    mutating func put(_ element: Int, parker: Int?) -> String {
        guard isOpen else { return "shutDown" }
        if !getters.isEmpty {
            let getter = getters.removeFirst()
            owed[getter.id] = "element(\(element))"
            added.append(element)
            received.append(element)
            unfinished += 1
            return "added(\(getter.parker))"
        }
        if items.count < maxSize {
            items.append(element)
            added.append(element)
            unfinished += 1
            return "added(nil)"
        }
        guard let parker else { return "full" }
        let id = register()
        putters.append((id, parker, element))
        return "wait(\(id))"
    }

    mutating func get(parker: Int?) -> String {
        if !items.isEmpty {
            let element = items.removeFirst()
            received.append(element)
            guard !putters.isEmpty else { return "element(\(element), nil)" }
            let putter = putters.removeFirst()
            items.append(putter.element)
            added.append(putter.element)
            unfinished += 1
            owed[putter.id] = "served"
            return "element(\(element), \(putter.parker))"
        }
        guard isOpen else { return "shutDown" }
        guard let parker else { return "empty" }
        let id = register()
        getters.append((id, parker))
        return "wait(\(id))"
    }

    mutating func taskDone() -> String {
        guard unfinished > 0 else { return "overflow" }
        unfinished -= 1
        return "counted(\(releaseJoiners()))"
    }

    mutating func join(parker: Int?) -> String {
        guard unfinished > 0 else { return "done" }
        guard let parker else { return "pending" }
        let id = register()
        joiners.append((id, parker))
        return "wait(\(id))"
    }

    mutating func shutdown(immediate: Bool) -> String {
        isOpen = false
        if immediate {
            dropped += items
            unfinished -= items.count
            items = []
        }
        var parkers: [Int] = []
        for putter in putters { owed[putter.id] = "shutDown"; parkers.append(putter.parker) }
        for getter in getters { owed[getter.id] = "shutDown"; parkers.append(getter.parker) }
        putters = []
        getters = []
        return "\(parkers + releaseJoiners())"
    }

    mutating func collect(_ id: Int) -> String {
        waiting.removeAll { $0 == id }
        if let outcome = owed.removeValue(forKey: id) { return outcome }
        getters.removeAll { $0.id == id }
        putters.removeAll { $0.id == id }
        joiners.removeAll { $0.id == id }
        return "timedOut"
    }

    private mutating func releaseJoiners() -> [Int] {
        guard unfinished == 0 else { return [] }
        defer { joiners = [] }
        for joiner in joiners { owed[joiner.id] = "served" }
        return joiners.map(\.parker)
    }
}

private func describe(_ action: BlockingQueueStateMachine<Int, Int>.PutAction) -> String {
    switch action {
    case .added(let parker): "added(\(parker.map(String.init) ?? "nil"))"
    case .full: "full"
    case .wait(let id): "wait(\(id))"
    case .shutDown: "shutDown"
    }
}

private func describe(_ action: BlockingQueueStateMachine<Int, Int>.GetAction) -> String {
    switch action {
    case .element(let element, let parker): "element(\(element), \(parker.map(String.init) ?? "nil"))"
    case .empty: "empty"
    case .wait(let id): "wait(\(id))"
    case .shutDown: "shutDown"
    }
}

private func describe(_ action: BlockingQueueStateMachine<Int, Int>.JoinAction) -> String {
    switch action {
    case .done: "done"
    case .pending: "pending"
    case .wait(let id): "wait(\(id))"
    }
}

private func describe(_ action: BlockingQueueStateMachine<Int, Int>.TaskDoneAction) -> String {
    switch action {
    case .counted(let parkers): "counted(\(parkers))"
    case .overflow: "overflow"
    }
}

private func describe(_ outcome: BlockingQueueStateMachine<Int, Int>.Outcome?) -> String {
    switch outcome {
    case .element(let element): "element(\(element))"
    case .served: "served"
    case .shutDown: "shutDown"
    case nil: "timedOut"
    }
}
