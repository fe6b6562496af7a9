import PropertyBased
import Testing

@testable import Spindle

/// `Future`'s state machine, driven by hand: no threads, no clocks. Waiters are plain strings.
@Suite("Future state machine")
struct FutureStateMachineTests {
    typealias Machine = FutureStateMachine<Int, String>
    struct Boom: Error {}

    @Test("pending → running → finished: the waiters are returned once, in the order they were added")
    func completeWakesWaitersInOrder() throws {
        var machine = Machine()
        #expect(machine.state == .pending)
        #expect(machine.addWaiter("callback a") == .added(id: 1))
        #expect(machine.addWaiter("thread b") == .added(id: 2))
        #expect(machine.markRunning() == true)
        #expect(machine.state == .running)
        #expect(machine.markRunning() == false)
        #expect(machine.complete(.success(7)) == ["callback a", "thread b"])
        #expect(machine.state == .finished)
        #expect(try machine.result(label: "t")?.get() == 7)
        // A second completion keeps the first outcome and wakes nobody.
        #expect(machine.complete(.failure(Boom())).isEmpty)
        #expect(try machine.result(label: "t")?.get() == 7)
        // A waiter added once done is not kept: the caller runs it at once.
        #expect(machine.addWaiter("late") == .alreadyDone)
    }

    @Test("failing records the error for every waiter")
    func fail() {
        var machine = Machine()
        _ = machine.addWaiter("w")
        #expect(machine.complete(.failure(Boom())) == ["w"])
        #expect(machine.state == .failed)
        #expect(throws: Boom.self) { try machine.result(label: "t")?.get() }
    }

    @Test("cancel: a pending future cancels and wakes its waiters; a running or done one cannot")
    func cancel() throws {
        var pending = Machine()
        _ = pending.addWaiter("w")
        guard case .cancelled(let woken) = pending.cancel() else { Issue.record("not cancelled"); return }
        #expect(woken == ["w"])
        guard case .alreadyCancelled = pending.cancel() else { Issue.record("second cancel"); return }
        #expect(pending.markRunning() == false, "cancelled work must not run")
        #expect(pending.complete(.success(1)).isEmpty)
        let error = try #require(pending.result(label: "job x").flatMap { result -> SpindleError? in
            if case .failure(let error) = result { return error as? SpindleError }
            return nil
        })
        #expect(error.code == .cancelled)
        #expect(error.description.contains("job x"))

        var running = Machine()
        #expect(running.markRunning() == true)
        guard case .tooLate = running.cancel() else { Issue.record("cancelled while running"); return }
        _ = running.complete(.success(2))
        guard case .tooLate = running.cancel() else { Issue.record("cancelled when done"); return }
    }

    @Test("a waiter that times out is withdrawn; one already served is not (it was woken)")
    func timeoutWithdrawal() {
        var machine = Machine()
        guard case .added(let first) = machine.addWaiter("timed out"),
              case .added(let second) = machine.addWaiter("served")
        else { Issue.record("not added"); return }
        #expect(machine.removeWaiter(id: first) == "timed out")
        #expect(machine.removeWaiter(id: first) == nil)
        #expect(machine.complete(.success(1)) == ["served"])
        // The second waiter's park timed out just as the completion took it: it was served.
        #expect(machine.removeWaiter(id: second) == nil)
        #expect(machine.result(label: "t") != nil)
    }

    /// Operations on a future, as a generator's integers.
    enum Operation: CaseIterable { case addWaiter, removeOldest, markRunning, succeed, fail, cancel }

    @Test("random sequences of operations agree with a simple model")
    func againstModel() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0..<Operation.allCases.count).array(of: 0...30)) { codes in
            var machine = Machine()
            // The model: a state, the waiters not yet woken, and everyone woken so far.
            var state = FutureState.pending
            var waiting: [(Int, String)] = []
            var woken: [String] = []
            var wokenByMachine: [String] = []
            for (step, code) in codes.enumerated() {
                let name = "w\(step)"
                let done = [.finished, .failed, .cancelled].contains(state)
                switch Operation.allCases[code] {
                case .addWaiter:
                    let registration = machine.addWaiter(name)
                    if done {
                        #expect(registration == .alreadyDone)
                    } else if case .added(let id) = registration {
                        waiting.append((id, name))
                    } else {
                        Issue.record("waiter refused while not done")
                    }
                case .removeOldest:
                    guard let (id, oldest) = waiting.first else { continue }
                    #expect(machine.removeWaiter(id: id) == oldest)
                    waiting.removeFirst()
                case .markRunning:
                    #expect(machine.markRunning() == (state == .pending))
                    if state == .pending { state = .running }
                case .succeed, .fail:
                    let succeed = Operation.allCases[code] == .succeed
                    wokenByMachine += machine.complete(succeed ? .success(step) : .failure(Boom()))
                    if !done {
                        state = succeed ? .finished : .failed
                        woken += waiting.map(\.1)
                        waiting = []
                    }
                case .cancel:
                    switch machine.cancel() {
                    case .cancelled(let wake):
                        #expect(state == .pending)
                        wokenByMachine += wake
                        state = .cancelled
                        woken += waiting.map(\.1)
                        waiting = []
                    case .alreadyCancelled: #expect(state == .cancelled)
                    case .tooLate: #expect(state == .running || state == .finished || state == .failed)
                    }
                }
                #expect(machine.state == state)
                #expect(machine.isDone == (machine.result(label: "t") != nil))
            }
            // Every waiter is woken exactly once, in order, or still waits.
            #expect(wokenByMachine == woken)
            #expect(machine.waiters.map(\.waiter) == waiting.map(\.1))
        }
    }
}
