/// The bookkeeping of a ``ProcessPool``'s workers without locks, processes or clocks: which
/// workers are idle or checked out by a driver, which died, whether a replacement is due, and
/// what a shutdown closes. The pool owns the one lock and does the process work (spawning,
/// killing, reaping, closing) after releasing it.
///
/// `Worker` is a worker process; tests use plain objects.
struct ProcessPoolStateMachine<Worker: AnyObject> {
    /// What ``checkOut()`` decided.
    enum CheckOut {
        /// Run the task on this idle worker (now checked out).
        case worker(Worker)
        /// No idle worker (one was not replaced): start one and register it with ``checkedOut(fresh:)``.
        case startFresh
        /// The pool is broken: fail the task with this error.
        case broken(SpindleError)
    }

    /// What ``checkIn(_:)`` decided for a worker that answered.
    enum CheckIn: Equatable {
        /// It is idle again.
        case idle
        /// The pool shut down: close it.
        case close
        /// The monitor saw it die after it answered: replace it like any dead worker (it stays
        /// checked out until ``replacementDue(for:ending:brokenError:)``).
        case replace
    }

    /// How a worker ended, for ``replacementDue(for:ending:brokenError:)``.
    struct Ending {
        var whileBusy: Bool
        var tasksDone: Int
        var exitedByItself: Bool
        var misconfigured: Bool
    }

    let maxWorkers: Int
    private(set) var idle: [Worker]
    /// Workers checked out by a driver.
    private(set) var busy: [Worker] = []
    private(set) var restarts = 0
    private(set) var completed = 0
    private(set) var shutDown = false
    /// Set when a worker proved the executable cannot serve jobs: every task fails with it.
    private(set) var broken: SpindleError?
    /// Workers that died idle before answering a task since the last answer: bounds the
    /// replacements of a worker that keeps dying as it starts.
    private(set) var startupDeaths = 0
    private var deathsNoticed = Set<ObjectIdentifier>()
    private var nextTaskID: UInt64 = 0

    init(workers: [Worker], maxWorkers: Int) {
        idle = workers
        self.maxWorkers = maxWorkers
    }

    /// A new task's id.
    mutating func takeTaskID() -> UInt64 {
        nextTaskID += 1
        return nextTaskID
    }

    /// The workers the monitor watches: those alive and not yet seen dying; nil once shut down.
    var watched: [Worker]? {
        shutDown ? nil : (idle + busy).filter { !deathsNoticed.contains(ObjectIdentifier($0)) }
    }

    mutating func checkOut() -> CheckOut {
        if let broken { return .broken(broken) }
        guard let worker = idle.popLast() else { return .startFresh }
        busy.append(worker)
        return .worker(worker)
    }

    /// A worker started for a driver that found none idle.
    mutating func checkedOut(fresh worker: Worker) {
        busy.append(worker)
    }

    /// A worker answered its task.
    mutating func checkIn(_ worker: Worker) -> CheckIn {
        removeBusy(worker)
        completed += 1
        startupDeaths = 0
        if shutDown { return .close }
        if deathsNoticed.contains(ObjectIdentifier(worker)) {
            busy.append(worker)
            return .replace
        }
        idle.append(worker)
        return .idle
    }

    /// A worker that answered reached its task limit and was closed; `fresh` is its replacement
    /// if one started. Returns false if `fresh` must be closed (the pool shut down meanwhile).
    mutating func recycled(_ worker: Worker, fresh: Worker?) -> Bool {
        removeBusy(worker)
        completed += 1
        startupDeaths = 0
        guard let fresh, !shutDown else { return false }
        idle.append(fresh)
        return true
    }

    /// The monitor saw `worker` end. Returns true if it was idle (it is taken out of the pool:
    /// the caller reaps and replaces it); false if a driver holds it (the driver sees it).
    mutating func workerEnded(_ worker: Worker) -> Bool {
        deathsNoticed.insert(ObjectIdentifier(worker))
        guard let index = idle.firstIndex(where: { $0 === worker }) else { return false }
        idle.remove(at: index)
        return true
    }

    /// A worker ended (reaped) and leaves the pool: whether to start a replacement now.
    mutating func replacementDue(for worker: Worker, ending: Ending, brokenError: @autoclosure () -> SpindleError) -> Bool {
        if ending.whileBusy { removeBusy(worker) }
        deathsNoticed.remove(ObjectIdentifier(worker))
        restarts += 1
        if ending.misconfigured, broken == nil { broken = brokenError() }
        if shutDown || ending.misconfigured { return false }
        if ending.whileBusy { return true }
        // An idle worker that exited by itself before answering anything would most likely
        // be followed by one that does the same; so would one that keeps dying as it starts.
        // Those are started when a task needs one, so the pool never spins starting workers.
        if ending.tasksDone == 0 {
            startupDeaths += 1
            if ending.exitedByItself { return false }
        }
        return startupDeaths <= 2 * maxWorkers
    }

    /// A replacement started: returns false if it must be closed (the pool shut down meanwhile).
    mutating func replacementStarted(_ replacement: Worker) -> Bool {
        guard !shutDown else { return false }
        idle.append(replacement)
        return true
    }

    /// Shuts down: returns the idle workers to close. Workers checked out are closed as they check in.
    mutating func shutdown() -> [Worker] {
        shutDown = true
        defer { idle.removeAll() }
        return idle
    }

    private mutating func removeBusy(_ worker: Worker) {
        if let index = busy.firstIndex(where: { $0 === worker }) { busy.remove(at: index) }
    }
}
