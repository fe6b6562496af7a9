import Testing

@testable import Spindle

/// `ProcessPool`'s worker bookkeeping, driven by hand: no processes, no threads.
@Suite("Process pool state machine")
struct ProcessPoolStateMachineTests {
    final class Worker: CustomStringConvertible {
        let name: String
        init(_ name: String) { self.name = name }
        var description: String { name }
    }
    typealias Machine = ProcessPoolStateMachine<Worker>
    typealias Ending = Machine.Ending

    static let notAWorker = SpindleError(.workerStartFailed, "not a worker")

    @Test("send and answer: a checked-out worker is busy until it checks in idle; an empty pool starts a fresh one")
    func sendAndAnswer() {
        let a = Worker("a")
        var machine = Machine(workers: [a], maxWorkers: 1)
        guard case .worker(let taken) = machine.checkOut() else { Issue.record("no worker"); return }
        #expect(taken === a)
        #expect(machine.busy.count == 1 && machine.idle.isEmpty)
        guard case .startFresh = machine.checkOut() else { Issue.record("expected a fresh start"); return }
        let fresh = Worker("fresh")
        machine.checkedOut(fresh: fresh)
        #expect(machine.checkIn(a) == .idle)
        #expect(machine.checkIn(fresh) == .idle)
        #expect(machine.completed == 2)
        #expect(machine.idle.count == 2 && machine.busy.isEmpty)
        #expect(machine.takeTaskID() == 1 && machine.takeTaskID() == 2)
    }

    @Test("a worker that dies idle is taken out and replaced; one that died busy is left to its driver")
    func diedIdleOrBusy() {
        let (a, b) = (Worker("a"), Worker("b"))
        var machine = Machine(workers: [a, b], maxWorkers: 2)
        guard case .worker(let busy) = machine.checkOut() else { Issue.record("no worker"); return }
        let idle = busy === a ? b : a
        #expect(machine.workerEnded(idle) == true)
        #expect(machine.watched?.contains { $0 === idle } == false)
        #expect(machine.replacementDue(for: idle, ending: Ending(whileBusy: false, tasksDone: 3, exitedByItself: false, misconfigured: false), brokenError: Self.notAWorker) == true)
        #expect(machine.replacementStarted(Worker("replacement")) == true)
        #expect(machine.restarts == 1)

        // The monitor sees the busy one die: the driver holds it; it is no longer watched.
        #expect(machine.workerEnded(busy) == false)
        #expect(machine.watched?.contains { $0 === busy } == false)
        // Had it answered first, checking in replaces it rather than making it idle.
        #expect(machine.checkIn(busy) == .replace)
        #expect(machine.replacementDue(for: busy, ending: Ending(whileBusy: true, tasksDone: 1, exitedByItself: false, misconfigured: false), brokenError: Self.notAWorker) == true)
        #expect(machine.busy.isEmpty)
    }

    @Test("workers that die as they start are not replaced at once past a bound; one that exits by itself at start is not replaced")
    func startupDeaths() {
        var machine = Machine(workers: [], maxWorkers: 1)
        let dying = Ending(whileBusy: false, tasksDone: 0, exitedByItself: false, misconfigured: false)
        #expect(machine.replacementDue(for: Worker("1"), ending: dying, brokenError: Self.notAWorker) == true)
        #expect(machine.replacementDue(for: Worker("2"), ending: dying, brokenError: Self.notAWorker) == true)
        #expect(machine.replacementDue(for: Worker("3"), ending: dying, brokenError: Self.notAWorker) == false, "over 2 × maxWorkers")
        var exits = Machine(workers: [], maxWorkers: 1)
        let exited = Ending(whileBusy: false, tasksDone: 0, exitedByItself: true, misconfigured: false)
        #expect(exits.replacementDue(for: Worker("x"), ending: exited, brokenError: Self.notAWorker) == false)
    }

    @Test("a worker that is not a worker breaks the pool: no replacement, every checkout fails")
    func misconfigured() {
        let a = Worker("a")
        var machine = Machine(workers: [a], maxWorkers: 1)
        _ = machine.checkOut()
        let ending = Ending(whileBusy: true, tasksDone: 0, exitedByItself: true, misconfigured: true)
        #expect(machine.replacementDue(for: a, ending: ending, brokenError: Self.notAWorker) == false)
        guard case .broken(let error) = machine.checkOut() else { Issue.record("not broken"); return }
        #expect(error.code == .workerStartFailed)
    }

    @Test("recycling after maxTasksPerWorker swaps in the fresh worker")
    func recycled() {
        let a = Worker("a")
        var machine = Machine(workers: [a], maxWorkers: 1)
        _ = machine.checkOut()
        let fresh = Worker("fresh")
        #expect(machine.recycled(a, fresh: fresh) == true)
        #expect(machine.idle.map(\.name) == ["fresh"])
        #expect(machine.restarts == 0, "recycling is not a restart")
    }

    @Test("shutdown closes the idle workers, then closes busy ones as they answer, and refuses replacements")
    func shutdown() {
        let (a, b) = (Worker("a"), Worker("b"))
        var machine = Machine(workers: [a, b], maxWorkers: 2)
        guard case .worker(let busy) = machine.checkOut() else { Issue.record("no worker"); return }
        #expect(machine.shutdown().count == 1)
        #expect(machine.watched == nil, "the monitor stops")
        #expect(machine.checkIn(busy) == .close)
        #expect(machine.replacementStarted(Worker("late")) == false)
        #expect(machine.recycled(busy, fresh: Worker("late")) == false)
        #expect(machine.replacementDue(for: busy, ending: Ending(whileBusy: true, tasksDone: 1, exitedByItself: false, misconfigured: false), brokenError: Self.notAWorker) == false)
    }
}
