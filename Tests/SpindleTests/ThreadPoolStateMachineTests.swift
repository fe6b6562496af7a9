import PropertyBased
import Testing

@testable import Spindle

/// `ThreadPoolExecutor`'s state machine, driven by hand: no threads, no clocks. Work items are
/// strings, waiters are strings ("worker 1", "submitter"), worker ids are integers.
@Suite("Thread pool state machine")
struct ThreadPoolStateMachineTests {
    typealias Machine = ThreadPoolStateMachine<String, String, Int>
    struct InitFailed: Error {}

    /// Submits and expects it queued; returns (woken, started worker number).
    static func submit(_ machine: inout Machine, _ work: String) -> (String?, Int?) {
        guard case .enqueued(let wake, let start) = machine.submit(work, waiter: nil) else {
            Issue.record("\(work) was not queued")
            return (nil, nil)
        }
        return (wake, start)
    }

    @Test("work starts workers up to maxWorkers, then queues; workers take it in order")
    func submitStartsWorkersUpToTheBound() {
        var machine = Machine(maxWorkers: 2, queueCapacity: nil)
        #expect(Self.submit(&machine, "a") == (nil, 1))
        #expect(Self.submit(&machine, "b") == (nil, 2))
        #expect(Self.submit(&machine, "c") == (nil, nil), "no third worker past maxWorkers")
        #expect(machine.workerCount == 2)
        machine.workerStarted(1)
        guard case .run("a", nil) = machine.nextForWorker(1, parker: "p1", woken: false, spun: false) else {
            Issue.record("worker 1 did not get a"); return
        }
        guard case .run("b", nil) = machine.nextForWorker(1, parker: "p1", woken: false, spun: false) else {
            Issue.record("worker 1 did not get b"); return
        }
        #expect(machine.queue.count == 1)
    }

    @Test("an idle worker spins once, then parks; a submit wakes it once and starts no new thread")
    func idleWorkerSpinsThenParks() {
        var machine = Machine(maxWorkers: 4, queueCapacity: nil)
        _ = Self.submit(&machine, "a")
        machine.workerStarted(1)
        guard case .run = machine.nextForWorker(1, parker: "p1", woken: false, spun: false) else { Issue.record("no run"); return }
        guard case .spin = machine.nextForWorker(1, parker: "p1", woken: false, spun: false) else { Issue.record("no spin"); return }
        #expect(!machine.workerHasSomethingToDo)
        guard case .park = machine.nextForWorker(1, parker: "p1", woken: false, spun: true) else { Issue.record("no park"); return }
        // The parked worker is woken for the first item; the second (queued while it is waking)
        // needs a thread of its own.
        #expect(Self.submit(&machine, "b") == ("p1", nil))
        #expect(Self.submit(&machine, "c") == (nil, 2))
        guard case .run("b", _) = machine.nextForWorker(1, parker: "p1'", woken: true, spun: false) else { Issue.record("b"); return }
    }

    @Test("only one worker spins at a time; the others park")
    func oneSpinner() {
        var machine = Machine(maxWorkers: 2, queueCapacity: nil)
        guard case .spin = machine.nextForWorker(1, parker: "p1", woken: false, spun: false) else { Issue.record("1 spins"); return }
        guard case .park = machine.nextForWorker(2, parker: "p2", woken: false, spun: false) else { Issue.record("2 parks"); return }
    }

    @Test("a full bounded queue: trySubmit is refused, submit waits and is woken when a worker takes an item")
    func boundedQueue() {
        var machine = Machine(maxWorkers: 1, queueCapacity: 1)
        _ = Self.submit(&machine, "a")
        guard case .rejected(.full(capacity: 1)) = machine.submit("b", waiter: nil) else { Issue.record("not full"); return }
        guard case .wait(let first) = machine.submit("b", waiter: "submitter 1"),
              case .wait(let second) = machine.submit("b", waiter: "submitter 2")
        else { Issue.record("no wait"); return }
        // The second submitter's task is cancelled: withdrawn once, not woken later.
        #expect(machine.withdrawSubmitter(id: second) == "submitter 2")
        #expect(machine.withdrawSubmitter(id: second) == nil)
        guard case .run("a", "submitter 1") = machine.nextForWorker(1, parker: "p", woken: false, spun: false) else {
            Issue.record("the slot's submitter was not woken"); return
        }
        #expect(machine.withdrawSubmitter(id: first) == nil, "a woken submitter is no longer registered")
        _ = Self.submit(&machine, "b")
    }

    @Test("shutdown: refuses work, wakes parked workers and waiting submitters, drains the queue, then the last worker out wakes the waiters")
    func shutdownDrains() {
        var machine = Machine(maxWorkers: 1, queueCapacity: 1)
        _ = Self.submit(&machine, "a")
        machine.workerStarted(1)
        guard case .wait = machine.submit("b", waiter: "submitter") else { Issue.record("no wait"); return }
        let closing = machine.shutdown(cancelPending: false)
        #expect(closing.abandoned.isEmpty)
        #expect(closing.wake == ["submitter"])
        guard case .rejected(.shutDown) = machine.submit("c", waiter: "late") else { Issue.record("accepted after shutdown"); return }
        #expect(machine.waitForExit("shutdown(wait:)", caller: 99) == true)
        #expect(machine.waitForExit("from the worker itself", caller: 1) == false, "a worker must not wait for itself")
        guard case .run("a", nil) = machine.nextForWorker(1, parker: "p", woken: false, spun: false) else { Issue.record("queue not drained"); return }
        guard case .exit(let waiters) = machine.nextForWorker(1, parker: "p", woken: false, spun: false) else { Issue.record("no exit"); return }
        #expect(waiters == ["shutdown(wait:)"])
        #expect(machine.workerCount == 0)
        #expect(machine.waitForExit("after", caller: nil) == false, "nothing left to wait for")
    }

    @Test("shutdown(cancelPending:) abandons the queued work and wakes parked workers, which exit")
    func shutdownCancelsPending() {
        var machine = Machine(maxWorkers: 2, queueCapacity: nil)
        _ = Self.submit(&machine, "a")
        machine.workerStarted(1)
        guard case .run = machine.nextForWorker(1, parker: "p1", woken: false, spun: false),
              case .spin = machine.nextForWorker(1, parker: "p1", woken: false, spun: false),
              case .park = machine.nextForWorker(1, parker: "p1", woken: false, spun: true)
        else { Issue.record("worker 1 did not park"); return }
        // Worker 1 is woken for "b" but the shutdown comes first.
        #expect(Self.submit(&machine, "b").0 == "p1")
        _ = Self.submit(&machine, "c")
        let closing = machine.shutdown(cancelPending: true)
        #expect(closing.abandoned == ["b", "c"])
        guard case .exit = machine.nextForWorker(1, parker: "p1", woken: true, spun: false) else { Issue.record("no exit"); return }
    }

    @Test("an initializer that throws breaks the pool: queued work fails, later submits are refused")
    func brokenPool() {
        var machine = Machine(maxWorkers: 1, queueCapacity: nil)
        _ = Self.submit(&machine, "a")
        _ = Self.submit(&machine, "b")
        machine.workerStarted(1)
        #expect(machine.waitForExit("waiter", caller: nil) == true)
        let closing = machine.initializerFailed(1, error: InitFailed())
        #expect(closing.abandoned == ["a", "b"])
        #expect(closing.wake == ["waiter"], "the last worker out wakes the shutdown waiters")
        guard case .rejected(.broken(let error)) = machine.submit("c", waiter: nil) else { Issue.record("not broken"); return }
        #expect(error is InitFailed)
        // A shutdown after breaking keeps the pool broken.
        _ = machine.shutdown(cancelPending: false)
        guard case .rejected(.broken) = machine.submit("d", waiter: nil) else { Issue.record("broken lost"); return }
    }

    /// One step of a random run.
    enum Step: CaseIterable { case trySubmit, submitOrWait, workerNext, shutdown, cancelPendingShutdown, withdraw }

    @Test("random sequences against a model: no work is lost or run twice, worker bounds hold, every waiter is woken once")
    func againstModel() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0..<Step.allCases.count).array(of: 0...60), Gen.int(in: 1...3)) { codes, maxWorkers in
            var machine = Machine(maxWorkers: maxWorkers, queueCapacity: 2)
            machine.workerStarted(1)
            // The model: the queue in order, the registered submitters, what ran or was abandoned.
            var queued: [String] = []
            var waitingSubmitters: [(id: Int, name: String)] = []
            var ran: [String] = []
            var abandoned: [String] = []
            var submitted: [String] = []
            var open = true
            var parked: Set<String> = []
            var woken: [String] = []
            var started = 0
            var (workerWoken, workerSpinning, exited) = (false, false, false)
            for (step, code) in codes.enumerated() {
                if exited { break }
                let work = "work \(step)"
                switch Step.allCases[code] {
                case .trySubmit, .submitOrWait:
                    let waiter = Step.allCases[code] == .submitOrWait ? "submitter \(step)" : nil
                    switch machine.submit(work, waiter: waiter) {
                    case .enqueued(let wake, let start):
                        #expect(open && queued.count < 2)
                        queued.append(work)
                        submitted.append(work)
                        if let wake {
                            #expect(parked.remove(wake) != nil)
                            woken.append(wake)
                            workerWoken = true
                        }
                        if start != nil { started += 1 }
                    case .wait(let id):
                        #expect(open && queued.count == 2 && waiter != nil)
                        waitingSubmitters.append((id, waiter!))
                    case .rejected(.full):
                        #expect(open && queued.count == 2 && waiter == nil)
                    case .rejected(.shutDown):
                        #expect(!open)
                    case .rejected(.broken):
                        Issue.record("broken without an initializer")
                    }
                case .workerNext:
                    // Worker 1 asks, unless it is parked and not woken; it parks with a fresh parker.
                    guard parked.isEmpty else { continue }
                    let parker = "parker \(step)"
                    let action = machine.nextForWorker(1, parker: parker, woken: workerWoken, spun: workerSpinning)
                    (workerWoken, workerSpinning) = (false, false)
                    switch action {
                    case .run(let item, let submitter):
                        #expect(item == queued.first)
                        queued.removeFirst()
                        ran.append(item)
                        if let submitter {
                            #expect(submitter == waitingSubmitters.first?.name)
                            waitingSubmitters.removeFirst()
                            woken.append(submitter)
                        }
                    case .spin:
                        #expect(queued.isEmpty && open)
                        workerSpinning = true
                    case .park:
                        #expect(queued.isEmpty && open)
                        parked.insert(parker)
                    case .exit:
                        #expect(queued.isEmpty && !open)
                        exited = true
                    }
                case .shutdown, .cancelPendingShutdown:
                    let cancel = Step.allCases[code] == .cancelPendingShutdown
                    let closing = machine.shutdown(cancelPending: cancel)
                    open = false
                    if cancel {
                        #expect(closing.abandoned == queued)
                        abandoned += queued
                        queued = []
                    } else {
                        #expect(closing.abandoned.isEmpty)
                    }
                    #expect(Set(closing.wake) == parked.union(waitingSubmitters.map(\.name)))
                    woken += closing.wake
                    if !parked.isEmpty { workerWoken = true }
                    parked = []
                    waitingSubmitters = []
                case .withdraw:
                    guard let last = waitingSubmitters.popLast() else { continue }
                    #expect(machine.withdrawSubmitter(id: last.id) == last.name)
                }
                #expect(machine.queue.count == queued.count)
                #expect(started <= maxWorkers)
            }
            // Nothing lost, nothing twice; each waiter woken once.
            #expect((ran + abandoned + queued).sorted() == submitted.sorted())
            #expect(Set(woken).count == woken.count)
        }
    }
}
