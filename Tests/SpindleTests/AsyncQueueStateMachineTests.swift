import PropertyBased
import Testing

@testable import Spindle

/// `AsyncQueue`'s state machine, driven without tasks: getters and waiters are plain numbers.
@Suite("AsyncQueue state machine")
struct AsyncQueueStateMachineTests {
    typealias Machine = AsyncQueueStateMachine<Int, Int, Int>

    @Test("put and get without suspending: FIFO, full at maxSize, empty at zero")
    func putAndGet() {
        var machine = Machine(maxSize: 2)
        #expect(describe(machine.put(1)) == "added(nil)")
        #expect(describe(machine.put(2)) == "added(nil)")
        #expect(describe(machine.put(3)) == "full")
        #expect(describe(machine.get()) == "element(1, nil)")
        #expect(describe(machine.get()) == "element(2, nil)")
        #expect(describe(machine.get()) == "empty")
        #expect(machine.unfinishedTasks == 2)
    }

    @Test("a put goes to the longest-waiting getter; a get takes a waiting putter's element in")
    func handoff() {
        var machine = Machine(maxSize: 1)
        #expect(describe(machine.get(id: 1, getter: 10, isCancelled: false)) == "empty")
        #expect(describe(machine.get(id: 2, getter: 11, isCancelled: false)) == "empty")
        #expect(machine.waitingGetters == 2)
        #expect(describe(machine.put(7)) == "added(10)")
        #expect(machine.count == 0 && machine.waitingGetters == 1)

        _ = machine.cancelGet(2)
        _ = machine.put(8)
        #expect(describe(machine.put(9, id: 3, waiter: 20, isCancelled: false)) == "full")
        #expect(machine.waitingPutters == 1)
        #expect(describe(machine.get()) == "element(8, 20)")
        #expect(describe(machine.get()) == "element(9, nil)")
    }

    @Test("cancellation: a cancelled task does not wait; a waiter is removed once, and not after being served")
    func cancellation() {
        var machine = Machine(maxSize: 1)
        #expect(describe(machine.get(id: 1, getter: 10, isCancelled: true)) == "cancelled")
        #expect(machine.waitingGetters == 0)
        _ = machine.get(id: 2, getter: 11, isCancelled: false)
        #expect(machine.cancelGet(2) == 11)
        #expect(machine.cancelGet(2) == nil)
        #expect(describe(machine.put(5)) == "added(nil)")  // nobody waits any more: buffered

        #expect(describe(machine.put(6, id: 3, waiter: 20, isCancelled: true)) == "cancelled")
        _ = machine.put(6, id: 4, waiter: 21, isCancelled: false)
        #expect(machine.cancelPut(4) == 21)
        #expect(describe(machine.get()) == "element(5, nil)")
        #expect(describe(machine.get()) == "empty")  // the cancelled put added nothing

        _ = machine.get(id: 5, getter: 12, isCancelled: false)
        _ = machine.put(7)  // served before its cancellation arrives
        #expect(machine.cancelGet(5) == nil)
    }

    @Test("taskDone and join: joiners resume on the last taskDone; cancelled joiners are removed")
    func taskDoneAndJoin() {
        var machine = Machine(maxSize: 4)
        #expect(describe(machine.join()) == "done")
        _ = machine.put(1)
        #expect(describe(machine.join()) == "pending")
        #expect(describe(machine.join(id: 1, waiter: 30, isCancelled: true)) == "cancelled")
        #expect(describe(machine.join(id: 2, waiter: 31, isCancelled: false)) == "pending")
        #expect(describe(machine.join(id: 3, waiter: 32, isCancelled: false)) == "pending")
        #expect(machine.cancelJoin(3) == 32)
        _ = machine.get()
        #expect(describe(machine.taskDone()) == "counted([31])")
        #expect(describe(machine.taskDone()) == "overflow")
    }

    @Test("shutdown fails every waiter but the joiners; getters drain first unless immediate")
    func shutdown() {
        var full = Machine(maxSize: 1)
        _ = full.put(1)
        _ = full.put(2, id: 1, waiter: 20, isCancelled: false)
        let woken = full.shutdown(immediate: false)
        #expect(woken.putters == [20] && woken.getters == [] && woken.joiners == [])
        #expect(describe(full.put(3)) == "shutDown")
        #expect(describe(full.get()) == "element(1, nil)")
        #expect(describe(full.get()) == "shutDown")
        #expect(describe(full.get(id: 2, getter: 10, isCancelled: false)) == "shutDown")

        var empty = Machine(maxSize: 1)
        _ = empty.get(id: 1, getter: 10, isCancelled: false)
        #expect(empty.shutdown(immediate: false).getters == [10])

        var dropping = Machine(maxSize: 3)
        _ = dropping.put(1)
        _ = dropping.put(2)
        _ = dropping.join(id: 1, waiter: 30, isCancelled: false)
        let dropped = dropping.shutdown(immediate: true)
        #expect(dropped.joiners == [30])
        #expect(describe(dropping.get()) == "shutDown")
        #expect(dropping.unfinishedTasks == 0)
    }

    @Test("random operations keep the bounds, lose and duplicate nothing, and keep order")
    func randomOperations() async {
        await propertyCheck(
            count: 300, input: Gen.int(in: 1...3), Gen.int(in: 0...63).array(of: 1...80)
        ) { maxSize, operations in
            var machine = Machine(maxSize: maxSize)
            var added: [Int] = [], received: [Int] = [], dropped: [Int] = []
            var buffered: [Int] = []  // the model: what the buffer holds, in order
            var waitingGetters: [Int] = [], waitingPutters: [(id: Int, element: Int)] = []
            var done = 0
            for (step, code) in operations.enumerated() {
                let arg = code / 8
                switch code % 8 {
                case 0, 1:
                    let action = code % 8 == 0
                        ? machine.put(step) : machine.put(step, id: step, waiter: step, isCancelled: arg % 5 == 0)
                    switch action {
                    case .added(let getter):
                        added.append(step)
                        if let getter {
                            #expect(buffered.isEmpty && getter == waitingGetters.removeFirst())
                            received.append(step)
                        } else {
                            buffered.append(step)
                        }
                    case .full:
                        #expect(buffered.count == maxSize)
                        if code % 8 == 1 { waitingPutters.append((step, step)) }
                    case .shutDown, .cancelled:
                        break
                    }
                case 2, 3:
                    let action = code % 8 == 2
                        ? machine.get() : machine.get(id: step, getter: step, isCancelled: arg % 5 == 0)
                    switch action {
                    case .element(let element, let putter):
                        #expect(element == buffered.removeFirst())
                        received.append(element)
                        if let putter {
                            let first = waitingPutters.removeFirst()
                            #expect(putter == first.id)
                            buffered.append(first.element)
                            added.append(first.element)
                        }
                    case .empty:
                        #expect(buffered.isEmpty)
                        if code % 8 == 3 { waitingGetters.append(step) }
                    case .shutDown, .cancelled:
                        break
                    }
                case 4:
                    guard !waitingGetters.isEmpty else { continue }
                    let id = waitingGetters.remove(at: arg % waitingGetters.count)
                    #expect(machine.cancelGet(id) == id)
                case 5:
                    guard !waitingPutters.isEmpty else { continue }
                    let id = waitingPutters.remove(at: arg % waitingPutters.count).id
                    #expect(machine.cancelPut(id) == id)
                case 6:
                    if case .counted = machine.taskDone() { done += 1 }
                default:
                    guard arg % 3 == 0 else { continue }
                    if arg % 2 == 0 {
                        dropped += buffered
                        buffered = []
                    }
                    let woken = machine.shutdown(immediate: arg % 2 == 0)
                    #expect(woken.getters == waitingGetters && woken.putters == waitingPutters.map(\.id))
                    waitingGetters = []
                    waitingPutters = []
                }
                #expect(machine.count == buffered.count && machine.count <= maxSize)
                #expect(machine.waitingGetters == waitingGetters.count && machine.waitingPutters == waitingPutters.count)
                #expect(machine.unfinishedTasks == added.count - dropped.count - done)
            }
            _ = machine.shutdown(immediate: false)
            while case .element(let element, _) = machine.get() { received.append(element) }
            #expect(received == added.filter { !dropped.contains($0) })
        }
    }
}

private func describe(_ action: AsyncQueueStateMachine<Int, Int, Int>.PutAction) -> String {
    switch action {
    case .added(let getter): "added(\(getter.map(String.init) ?? "nil"))"
    case .full: "full"
    case .shutDown: "shutDown"
    case .cancelled: "cancelled"
    }
}

private func describe(_ action: AsyncQueueStateMachine<Int, Int, Int>.GetAction) -> String {
    switch action {
    case .element(let element, let putter): "element(\(element), \(putter.map(String.init) ?? "nil"))"
    case .empty: "empty"
    case .shutDown: "shutDown"
    case .cancelled: "cancelled"
    }
}

private func describe(_ action: AsyncQueueStateMachine<Int, Int, Int>.JoinAction) -> String {
    switch action {
    case .done: "done"
    case .pending: "pending"
    case .cancelled: "cancelled"
    }
}

private func describe(_ action: AsyncQueueStateMachine<Int, Int, Int>.TaskDoneAction) -> String {
    switch action {
    case .counted(let joiners): "counted(\(joiners))"
    case .overflow: "overflow"
    }
}
