import Testing

@testable import Spindle

/// The state machine behind `asCompleted` and `waitFor`, driven by hand: no threads, no clocks.
@Suite("Completion state machine")
struct CompletionStateMachineTests {
    typealias Machine = CompletionStateMachine<Int, String>

    @Test("items are handed out in arrival order, each once; a waiting consumer is handed the next arrival")
    func arrivalOrder() {
        var machine = Machine(total: 3)
        #expect(machine.arrive(2) == nil)
        #expect(machine.next("a") == .ready(2))
        guard case .wait(let id) = machine.next("b") else { Issue.record("b did not wait"); return }
        #expect(machine.arrive(1) == "b", "the waiting consumer takes the arrival")
        #expect(machine.expire(id: id) == nil, "a served consumer is no longer waiting")
        #expect(machine.arrive(3) == nil)
        #expect(machine.next("c") == .ready(3))
        #expect(machine.next("d") == .exhausted)
        #expect(!machine.hasMore)
    }

    @Test("a consumer that times out is withdrawn; the item arriving later is kept for the next taker")
    func timeout() {
        var machine = Machine(total: 1)
        guard case .wait(let id) = machine.next("timed out") else { Issue.record("no wait"); return }
        #expect(machine.expire(id: id) == "timed out")
        #expect(machine.remainingCount == 1)
        #expect(machine.arrive(7) == nil)
        #expect(machine.next("later") == .ready(7))
    }

    @Test("no more consumers wait than items remain")
    func noWaitPastTheEnd() {
        var machine = Machine(total: 1)
        guard case .wait = machine.next("first") else { Issue.record("no wait"); return }
        #expect(machine.next("second") == .exhausted)
    }

    @Test("waitFor's conditions: first completed, first failure, all completed; an empty set satisfies them all")
    func conditions() {
        var machine = Machine(total: 2)
        #expect(!machine.satisfies(.firstCompleted))
        machine.note(1, failed: false)
        #expect(machine.satisfies(.firstCompleted))
        #expect(!machine.satisfies(.firstFailure))
        #expect(!machine.satisfies(.allCompleted))
        machine.note(2, failed: true)
        #expect(machine.satisfies(.firstFailure))
        #expect(machine.satisfies(.allCompleted))

        var failedFirst = Machine(total: 3)
        failedFirst.note(1, failed: true)
        #expect(failedFirst.satisfies(.firstFailure))

        let empty = Machine(total: 0)
        #expect(empty.satisfies(.firstCompleted) && empty.satisfies(.firstFailure) && empty.satisfies(.allCompleted))
    }
}
