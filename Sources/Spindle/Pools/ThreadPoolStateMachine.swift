import DequeModule

/// The state of a ``ThreadPoolExecutor`` without locks, threads or clocks: what submitting,
/// running, shutting down and a failing initializer do, and what the pool must then do (start a
/// worker, wake a parked worker or submitter, abandon work, tell shutdown waiters). The executor
/// owns the one lock and performs the returned actions after releasing it.
///
/// `Work` is a queued item, `Waiter` a parked thread or suspended task to wake, `WorkerID`
/// identifies a worker thread (so a shutdown called from one does not wait for itself).
/// Tests use plain values.
struct ThreadPoolStateMachine<Work, Waiter, WorkerID: Hashable> {
    enum Lifecycle {
        case running
        case shutDown
        case broken(any Error)
    }

    /// Why a submission was refused.
    enum Rejection {
        case shutDown
        case broken(any Error)
        /// The bounded queue is full and the submitter does not wait.
        case full(capacity: Int)
    }

    /// What ``submit(_:waiter:)`` decided.
    enum SubmitAction {
        /// Queued: wake this parked worker, and start worker number `startWorker`.
        case enqueued(wake: Waiter?, startWorker: Int?)
        /// The queue is full: the waiter was registered under `id`; it is woken when a slot
        /// frees (or the pool closes) and then submits again.
        case wait(id: Int)
        case rejected(Rejection)
    }

    /// What a worker does next.
    enum WorkerAction {
        /// Run this work; wake this submitter, waiting for the slot the work freed.
        case run(Work, wakeSubmitter: Waiter?)
        /// Nothing queued: look again a few times before parking (at most one worker spins).
        case spin
        /// Nothing queued: the worker's waiter was registered as idle; park until woken.
        case park
        /// The pool is closed and drained: exit, waking these shutdown waiters (the last worker out).
        case exit(wake: [Waiter])
    }

    /// What a shutdown or a broken pool leaves to do.
    struct Closing {
        /// Work that will not run: cancel it (shutdown) or fail it (broken pool).
        var abandoned: [Work] = []
        /// Parked workers and submitters, and shutdown waiters when no worker is left.
        var wake: [Waiter] = []
    }

    let maxWorkers: Int
    let queueCapacity: Int?
    private(set) var lifecycle = Lifecycle.running
    private(set) var queue = Deque<Work>()
    /// Workers started and not yet exited.
    private(set) var workerCount = 0
    private var workersStarted = 0
    private var idleWorkers: [Waiter] = []
    /// Workers woken and not yet back: a burst of submits wakes each parked worker once.
    private var wakingWorkers = 0
    private var spinningWorkers = 0
    private var submitters = Deque<(id: Int, waiter: Waiter)>()
    private var exitWaiters: [Waiter] = []
    private var workerIDs = Set<WorkerID>()
    private var nextWaiterID = 0

    init(maxWorkers: Int, queueCapacity: Int?) {
        self.maxWorkers = maxWorkers
        self.queueCapacity = queueCapacity
    }

    var isRunning: Bool {
        if case .running = lifecycle { return true }
        return false
    }

    /// Whether a spinning worker should stop spinning: work arrived or the pool is closing.
    var workerHasSomethingToDo: Bool { !queue.isEmpty || !isRunning }

    /// Submits `work`. With a nil `waiter`, a full queue rejects it instead of registering.
    mutating func submit(_ work: Work, waiter: Waiter?) -> SubmitAction {
        if let rejection = closedRejection { return .rejected(rejection) }
        if let capacity = queueCapacity, queue.count >= capacity {
            guard let waiter else { return .rejected(.full(capacity: capacity)) }
            nextWaiterID += 1
            submitters.append((nextWaiterID, waiter))
            return .wait(id: nextWaiterID)
        }
        queue.append(work)
        var wake: Waiter?
        if let idle = idleWorkers.popLast() {
            wakingWorkers += 1
            wake = idle
        }
        var start: Int?
        if queue.count > idleWorkers.count + wakingWorkers && workerCount < maxWorkers {
            workerCount += 1
            workersStarted += 1
            start = workersStarted
        }
        return .enqueued(wake: wake, startWorker: start)
    }

    /// A waiting submitter gives up (its task was cancelled): returns it if it was still
    /// registered, nil if it was already woken.
    mutating func withdrawSubmitter(id: Int) -> Waiter? {
        guard let index = submitters.firstIndex(where: { $0.id == id }) else { return nil }
        return submitters.remove(at: index).waiter
    }

    /// A started worker's thread runs.
    mutating func workerStarted(_ id: WorkerID) {
        workerIDs.insert(id)
    }

    /// A worker asks for work.
    /// - Parameters:
    ///   - parker: registered as idle when the worker must park.
    ///   - woken: the worker comes back from a park.
    ///   - spun: the worker comes back from spinning (it then parks rather than spins again).
    mutating func nextForWorker(_ id: WorkerID, parker: Waiter, woken: Bool, spun: Bool) -> WorkerAction {
        if woken { wakingWorkers -= 1 }
        if spun { spinningWorkers -= 1 }
        if let work = queue.popFirst() {
            return .run(work, wakeSubmitter: submitters.popFirst()?.waiter)
        }
        guard isRunning else { return .exit(wake: workerExited(id)) }
        if !spun && spinningWorkers == 0 {
            spinningWorkers += 1
            return .spin
        }
        idleWorkers.append(parker)
        return .park
    }

    /// Stops accepting work; with `cancelPending`, the queued work is abandoned.
    mutating func shutdown(cancelPending: Bool) -> Closing {
        if case .running = lifecycle { lifecycle = .shutDown }
        var closing = Closing()
        if cancelPending {
            closing.abandoned = Array(queue)
            queue.removeAll()
        }
        closing.wake = wakeAll()
        return closing
    }

    /// A worker's initializer failed: the pool is broken, its queued work fails, and that
    /// worker exits.
    mutating func initializerFailed(_ id: WorkerID, error: any Error) -> Closing {
        lifecycle = .broken(error)
        var closing = Closing(abandoned: Array(queue))
        queue.removeAll()
        closing.wake = wakeAll() + workerExited(id)
        return closing
    }

    /// A shutdown wants to wait for the workers to exit. Returns true if `waiter` was registered
    /// (woken by the last worker out); false if there is nothing to wait for, or the caller is
    /// one of the pool's workers (which would wait for itself).
    mutating func waitForExit(_ waiter: Waiter, caller: WorkerID?) -> Bool {
        guard workerCount > 0, caller.map({ !workerIDs.contains($0) }) ?? true else { return false }
        exitWaiters.append(waiter)
        return true
    }

    private var closedRejection: Rejection? {
        switch lifecycle {
        case .running: nil
        case .shutDown: .shutDown
        case .broken(let error): .broken(error)
        }
    }

    private mutating func workerExited(_ id: WorkerID) -> [Waiter] {
        workerIDs.remove(id)
        workerCount -= 1
        guard workerCount == 0 else { return [] }
        defer { exitWaiters = [] }
        return exitWaiters
    }

    private mutating func wakeAll() -> [Waiter] {
        wakingWorkers += idleWorkers.count
        var wake = idleWorkers
        idleWorkers = []
        wake.append(contentsOf: submitters.map(\.waiter))
        submitters.removeAll()
        return wake
    }
}

extension ThreadPoolStateMachine.Rejection: Sendable {}
extension ThreadPoolStateMachine.SubmitAction: Sendable where Work: Sendable, Waiter: Sendable {}
