import DequeModule
import Foundation
import NIOConcurrencyHelpers

/// A pool of OS threads for blocking and CPU-heavy work that must stay off Swift's cooperative
/// thread pool: the Swift counterpart of Python's `concurrent.futures.ThreadPoolExecutor`.
///
/// Threads start as work arrives, up to ``maxWorkers``. Unlike Python's, the work queue can be
/// bounded (``queueCapacity``): a full queue makes ``submit(_:)`` wait, ``trySubmit(_:)`` throw,
/// and ``run(_:)`` suspend, so memory stays bounded under overload.
///
/// Always shut a pool down (or use ``withThreadPool(maxWorkers:threadNamePrefix:queueCapacity:initializer:_:)-swift.func``):
/// its threads keep it alive until then.
// Safe: the state machine, the only mutable state, is read and written only under `lock`.
public final class ThreadPoolExecutor: @unchecked Sendable {
    /// The default number of threads, as CPython 3.13 chooses it: min(32, cores + 4).
    public static var defaultMaxWorkers: Int {
        min(32, ProcessInfo.processInfo.activeProcessorCount + 4)
    }

    /// The most threads this pool runs at once.
    public let maxWorkers: Int
    /// The most work items waiting to start, or nil for no bound.
    public let queueCapacity: Int?
    /// Threads are named `<prefix>-<n>` (Linux shows the first 15 bytes).
    public let threadNamePrefix: String

    @usableFromInline typealias WorkItem = PoolWork

    /// A parked thread or a suspended task the machine names to wake.
    enum Waiter: Sendable {
        case thread(ThreadParker)
        case task(CheckedContinuation<Void, Never>)

        func wake() {
            switch self {
            case .thread(let parker): parker.unpark()
            case .task(let continuation): continuation.resume()
            }
        }
    }

    typealias Machine = ThreadPoolStateMachine<WorkItem, Waiter, pthread_t>

    private let initializer: (@Sendable () throws -> Void)?
    private let lock = NIOLock()
    /// Protected by `lock`.
    private var machine: Machine

    /// Creates a pool; threads start as work is submitted.
    ///
    /// - Parameters:
    ///   - maxWorkers: the most threads at once (at least 1); default ``defaultMaxWorkers``.
    ///   - threadNamePrefix: names the threads, for debuggers and `top -H`.
    ///   - queueCapacity: the most work items waiting to start; nil for no bound.
    ///   - initializer: runs at the start of every thread. If it throws, the pool is broken:
    ///     every pending and later submission fails with ``SpindleError/Code/brokenPool``.
    public init(
        maxWorkers: Int? = nil,
        threadNamePrefix: String = "spindle-pool",
        queueCapacity: Int? = nil,
        initializer: (@Sendable () throws -> Void)? = nil
    ) {
        let workers = maxWorkers ?? Self.defaultMaxWorkers
        precondition(workers >= 1, "ThreadPoolExecutor needs maxWorkers >= 1, got \(workers)")
        precondition((queueCapacity ?? 1) >= 1, "ThreadPoolExecutor needs queueCapacity >= 1 or nil, got \(queueCapacity!)")
        self.maxWorkers = workers
        self.queueCapacity = queueCapacity
        self.threadNamePrefix = threadNamePrefix
        self.initializer = initializer
        self.taskLabel = "\(threadNamePrefix) task"
        self.machine = Machine(maxWorkers: workers, queueCapacity: queueCapacity)
    }

    /// How many times an idle thread yields, looking for work, before it parks.
    private static var yieldsBeforeParking: Int { 100 }

    /// Names this pool's futures in error messages.
    @usableFromInline let taskLabel: String

    /// Work items waiting to start.
    public var pendingCount: Int { lock.withLock { machine.queue.count } }

    /// Threads started and not yet exited.
    public var threadCountNow: Int { lock.withLock { machine.workerCount } }

    /// Submits `work` and returns its future. Blocks the thread while the queue is full.
    ///
    /// - Throws: ``SpindleError/Code/shutDown`` after ``shutdown(wait:cancelPending:)``;
    ///   ``SpindleError/Code/brokenPool`` if the initializer failed. The work's own errors are
    ///   not thrown here: they fail the future.
    @available(*, noasync, renamed: "submit(_:)", message: "may block a thread while the queue is full: use `try await pool.submit { }`")
    @inlinable
    public func submit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) throws -> Future<T> {
        let future = Future<T>(label: taskLabel)
        // Built here, in the caller's module, so the run is specialised for T.
        try enqueueBlocking(PoolWork(future: future) { future.run(work) })
        return future
    }

    /// Submits `work` and returns its future, suspending (not blocking a thread) while the queue
    /// is full. Cancelling the task while it waits for room throws `CancellationError`.
    ///
    /// - Throws: the errors of the blocking ``submit(_:)``.
    @inlinable
    public func submit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> Future<T> {
        let future = Future<T>(label: taskLabel)
        try await enqueueSuspending(PoolWork(future: future) { future.run(work) })
        return future
    }

    /// Submits `work` without waiting: throws ``SpindleError/Code/queueFull`` when the bounded
    /// queue is full (and the errors of ``submit(_:)``).
    @inlinable
    public func trySubmit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) throws -> Future<T> {
        let future = Future<T>(label: taskLabel)
        try enqueueNow(PoolWork(future: future) { future.run(work) })
        return future
    }

    /// Runs `work` on the pool and returns its result, suspending (not blocking) while the queue
    /// is full and while the work runs. Cancelling the task before the work starts cancels it.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        let future = try await submit(work)
        return try await withTaskCancellationHandler {
            try await future.value
        } onCancel: {
            future.cancel()
        }
    }

    /// Stops accepting work and lets the threads exit once the queue is drained.
    ///
    /// - Parameters:
    ///   - wait: block until every thread has exited (not when called from one of the pool's
    ///     own threads, which would wait for itself).
    ///   - cancelPending: cancel work that has not started; its futures end cancelled.
    @available(*, noasync, renamed: "shutdownGracefully(cancelPending:)", message: "may block: use `await pool.shutdownGracefully()` in async code")
    public func shutdown(wait: Bool = true, cancelPending: Bool = false) {
        close(cancelPending: cancelPending)
        guard wait else { return }
        let parker = ThreadParker()
        if lock.withLock({ machine.waitForExit(.thread(parker), caller: pthread_self()) }) {
            parker.park()
        }
    }

    /// Shuts down and waits for the threads without blocking the calling task's thread.
    public func shutdownGracefully(cancelPending: Bool = false) async {
        close(cancelPending: cancelPending)
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            if !lock.withLock({ machine.waitForExit(.task(continuation), caller: nil) }) {
                continuation.resume()
            }
        }
    }

    // MARK: - Internals

    /// Queues `item` or throws: a full queue is an error.
    @usableFromInline
    func enqueueNow(_ item: WorkItem) throws {
        let action = lock.withLock { machine.submit(item, waiter: nil) }
        try perform(action)
    }

    /// Queues `item`, parking the thread while the queue is full.
    @usableFromInline
    func enqueueBlocking(_ item: WorkItem) throws {
        while true {
            var parker: ThreadParker?
            let action = lock.withLock { () -> Machine.SubmitAction in
                let action = machine.submit(item, waiter: nil)
                guard case .rejected(.full) = action else { return action }
                parker = ThreadParker()
                return machine.submit(item, waiter: .thread(parker!))
            }
            if case .wait = action {
                parker!.park()
                continue
            }
            return try perform(action)
        }
    }

    /// Queues `item`, suspending the task while the queue is full.
    @usableFromInline
    func enqueueSuspending(_ item: WorkItem) async throws {
        while true {
            // The machine's answer, stored under `lock`; nil if the task was cancelled first.
            let answer = NIOLockedValueBox<Machine.SubmitAction?>(nil)
            await withTaskCancellationHandler {
                await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                    let action = lock.withLock { () -> Machine.SubmitAction? in
                        if Task.isCancelled { return nil }
                        let action = machine.submit(item, waiter: .task(continuation))
                        answer.withLockedValue { $0 = action }
                        return action
                    }
                    if case .wait? = action { return }
                    continuation.resume()
                }
            } onCancel: {
                let waiter = lock.withLock { () -> Waiter? in
                    guard case .wait(let id)? = answer.withLockedValue({ $0 }) else { return nil }
                    return machine.withdrawSubmitter(id: id)
                }
                waiter?.wake()
            }
            switch answer.withLockedValue({ $0 }) {
            case nil:
                throw CancellationError()
            case .wait?:
                // Woken: a slot freed (or the pool closed); submit again.
                if Task.isCancelled { throw CancellationError() }
            case let action?:
                return try perform(action)
            }
        }
    }

    /// Performs a submission's action outside the lock: wakes a worker, starts one, or throws.
    private func perform(_ action: Machine.SubmitAction) throws {
        switch action {
        case .enqueued(let wake, let startWorker):
            wake?.wake()
            if let startWorker { startThread(number: startWorker) }
        case .wait:
            preconditionFailure("a submission without a waiter was told to wait")
        case .rejected(let rejection):
            throw error(for: rejection)
        }
    }

    private func close(cancelPending: Bool) {
        let closing = lock.withLock { machine.shutdown(cancelPending: cancelPending) }
        for waiter in closing.wake { waiter.wake() }
        for item in closing.abandoned { item.abandon(nil) }
    }

    private func error(for rejection: Machine.Rejection) -> SpindleError {
        switch rejection {
        case .shutDown:
            SpindleError(.shutDown, "cannot submit to the thread pool '\(threadNamePrefix)': it was shut down")
        case .broken(let error):
            SpindleError(.brokenPool, "the thread pool '\(threadNamePrefix)' is broken: its initializer threw: \(error)")
        case .full(let capacity):
            SpindleError(.queueFull, "the thread pool's queue is full (\(capacity) tasks waiting)")
        }
    }

    private func startThread(number: Int) {
        let name = "\(threadNamePrefix)-\(number)"
        let thread = Thread { [self] in
            workerMain(name: name)
        }
        thread.stackSize = 1 << 20
        thread.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        thread.start()
    }

    private func workerMain(name: String) {
        setThreadName(name)
        let id = pthread_self()
        lock.withLock { machine.workerStarted(id) }
        if let initializer {
            do {
                try initializer()
            } catch {
                let closing = lock.withLock { machine.initializerFailed(id, error: error) }
                for waiter in closing.wake { waiter.wake() }
                let failure = self.error(for: .broken(error))
                for item in closing.abandoned { item.abandon(failure) }
                return
            }
        }
        var parker = ThreadParker()
        var (woken, spun) = (false, false)
        while true {
            let action = lock.withLock {
                machine.nextForWorker(id, parker: .thread(parker), woken: woken, spun: spun)
            }
            (woken, spun) = (false, false)
            switch action {
            case .run(let item, let submitter):
                submitter?.wake()
                item.run()
            case .spin:
                // A pool fed task by task rarely parks: one idle thread looks again a few times.
                for _ in 0..<Self.yieldsBeforeParking {
                    sched_yield()
                    if lock.withLock({ machine.workerHasSomethingToDo }) { break }
                }
                spun = true
            case .park:
                parker.park()
                parker = ThreadParker()
                woken = true
            case .exit(let waiters):
                for waiter in waiters { waiter.wake() }
                return
            }
        }
    }
}

/// Work waiting in a pool's queue: the run, and its future for ending it without running.
@usableFromInline
struct PoolWork: Sendable {
    @usableFromInline let future: any AbandonableFuture
    @usableFromInline let run: @Sendable () -> Void

    @inlinable
    init(future: any AbandonableFuture, run: @escaping @Sendable () -> Void) {
        self.future = future
        self.run = run
    }

    /// Ends the work without running it: cancelled (nil) or failed with the error.
    func abandon(_ error: (any Error)?) { future.abandon(error) }
}

/// A future a pool can end without running its work.
@usableFromInline
protocol AbandonableFuture: AnyObject, Sendable {
    func abandon(_ error: (any Error)?)
}

extension Future: AbandonableFuture {
    @usableFromInline
    func abandon(_ error: (any Error)?) {
        if let error { complete(.failure(error)) } else { cancel() }
    }
}

/// Names the current thread (Linux keeps the first 15 bytes).
func setThreadName(_ name: String) {
    Thread.current.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
}
