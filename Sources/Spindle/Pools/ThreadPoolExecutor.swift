import DequeModule
import Foundation
import Synchronization

/// A pool of OS threads for blocking and CPU-heavy work that must stay off Swift's cooperative
/// thread pool: the Swift counterpart of Python's `concurrent.futures.ThreadPoolExecutor`.
///
/// Threads start as work arrives, up to ``maxWorkers``. Unlike Python's, the work queue can be
/// bounded (``queueCapacity``): a full queue makes ``submit(_:)`` wait, ``trySubmit(_:)`` throw,
/// and ``run(_:)`` suspend, so memory stays bounded under overload.
///
/// Always shut a pool down (or use ``withThreadPool(maxWorkers:threadNamePrefix:queueCapacity:initializer:_:)-swift.func``):
/// its threads keep it alive until then.
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

    private enum State {
        case running
        case shutDown
        case broken(any Error)
    }

    private let initializer: (@Sendable () throws -> Void)?
    private let lock = ConditionLock(adaptive: true)
    private let workAvailable = Condition()
    private let spaceAvailable = Condition()
    private let threadsExited = Condition()
    // Protected by `lock`:
    private var queue = Deque<WorkItem>()
    private var state = State.running
    private var threadCount = 0
    private var idleThreads = 0
    /// Idle threads signalled and not yet awake: a burst of submits wakes each idle thread once,
    /// not once per task (a wake-up is a system call).
    private var signalledThreads = 0
    /// Idle threads re-checking for work before they sleep: at most one, so an idle pool
    /// costs at most one thread's yields, while a pool fed task by task rarely sleeps.
    private var spinningThreads = 0
    /// `queue.count`, readable without the lock (for the spinning thread).
    private let queuedCount = Atomic<Int>(0)
    private var blockedSubmitters = 0
    private var asyncSubmitters = Deque<(id: Int, continuation: CheckedContinuation<Void, any Error>)>()
    private var nextSubmitterID = 0
    private var threadIDs = Set<pthread_t>()

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
    }

    /// How many times an idle thread yields, looking for work, before it sleeps.
    private static var yieldsBeforeSleeping: Int { 100 }

    /// Names this pool's futures in error messages.
    @usableFromInline let taskLabel: String

    /// Work items waiting to start.
    public var pendingCount: Int { lock.withLock { queue.count } }

    /// Threads started and not yet exited.
    public var threadCountNow: Int { lock.withLock { threadCount } }

    /// Submits `work` and returns its future. Waits while the queue is full.
    ///
    /// - Throws: ``SpindleError/Code/shutDown`` after ``shutdown(wait:cancelPending:)``;
    ///   ``SpindleError/Code/brokenPool`` if the initializer failed. The work's own errors are
    ///   not thrown here: they fail the future.
    @available(*, noasync, message: "may block a thread while the queue is full: use `try await pool.run { }`")
    @inlinable
    public func submit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) throws -> Future<T> {
        let future = Future<T>(label: taskLabel)
        // Built here, in the caller's module, so the run is specialised for T.
        try enqueue(PoolWork(future: future) { future.run(work) }, waitForSpace: true)
        return future
    }

    /// Submits `work` without waiting: throws ``SpindleError/Code/queueFull`` when the bounded
    /// queue is full (and the errors of ``submit(_:)``).
    @inlinable
    public func trySubmit<T: Sendable>(_ work: @escaping @Sendable () throws -> T) throws -> Future<T> {
        let future = Future<T>(label: taskLabel)
        try enqueue(PoolWork(future: future) { future.run(work) }, waitForSpace: false)
        return future
    }

    /// Runs `work` on the pool and returns its result, suspending (not blocking) while the queue
    /// is full and while the work runs. Cancelling the task before the work starts cancels it.
    public func run<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        var submitted: Future<T>?
        while submitted == nil {
            try await waitForSpace()
            do {
                submitted = try trySubmit(work)
            } catch let error as SpindleError where error.code == .queueFull {
                continue  // another submitter took the free slot first
            }
        }
        let future = submitted!
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
    @available(*, noasync, message: "may block: use `await pool.shutdownGracefully()` in async code")
    public func shutdown(wait: Bool = true, cancelPending: Bool = false) {
        lock.lock()
        let abandoned = beginShutdownLocked(cancelPending: cancelPending)
        if wait && !threadIDs.contains(pthread_self()) {
            while threadCount > 0 { threadsExited.wait(lock) }
        }
        lock.unlock()
        for item in abandoned { item.abandon(nil) }
    }

    /// Shuts down and waits for the threads without blocking the calling task's thread.
    public func shutdownGracefully(cancelPending: Bool = false) async {
        let abandoned = lock.withLock { beginShutdownLocked(cancelPending: cancelPending) }
        for item in abandoned { item.abandon(nil) }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            Thread.detachNewThread { [self] in
                lock.withLock { while threadCount > 0 { threadsExited.wait(lock) } }
                continuation.resume()
            }
        }
    }

    // MARK: - Internals

    @usableFromInline
    func enqueue(_ item: WorkItem, waitForSpace: Bool) throws {
        lock.lock()
        defer { lock.unlock() }
        while true {
            try checkAcceptingLocked()
            guard let capacity = queueCapacity, queue.count >= capacity else { break }
            guard waitForSpace else {
                throw SpindleError(.queueFull, "the thread pool's queue is full (\(capacity) tasks waiting)")
            }
            blockedSubmitters += 1
            spaceAvailable.wait(lock)
            blockedSubmitters -= 1
        }
        queue.append(item)
        queuedCount.store(queue.count, ordering: .relaxed)
        if idleThreads > signalledThreads {
            signalledThreads += 1
            workAvailable.signal()
        }
        if queue.count > idleThreads && threadCount < maxWorkers {
            startThreadLocked()
        }
    }

    /// Suspends until the bounded queue has room (at once when unbounded or not full).
    private func waitForSpace() async throws {
        guard let capacity = queueCapacity else { return }
        let id: Int? = try lock.withLock {
            try checkAcceptingLocked()
            guard queue.count >= capacity else { return nil }
            nextSubmitterID += 1
            return nextSubmitterID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.lock()
                defer { lock.unlock() }
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                } else if queue.count < capacity {
                    continuation.resume()
                } else if case .running = state {
                    asyncSubmitters.append((id, continuation))
                } else {
                    continuation.resume(throwing: acceptanceErrorLocked())
                }
            }
        } onCancel: {
            let waiter: CheckedContinuation<Void, any Error>? = lock.withLock {
                guard let index = asyncSubmitters.firstIndex(where: { $0.id == id }) else { return nil }
                return asyncSubmitters.remove(at: index).continuation
            }
            waiter?.resume(throwing: CancellationError())
        }
    }

    private func checkAcceptingLocked() throws {
        if case .running = state { return }
        throw acceptanceErrorLocked()
    }

    private func acceptanceErrorLocked() -> SpindleError {
        switch state {
        case .running, .shutDown:
            return SpindleError(.shutDown, "cannot submit to the thread pool '\(threadNamePrefix)': it was shut down")
        case .broken(let error):
            return SpindleError(.brokenPool, "the thread pool '\(threadNamePrefix)' is broken: its initializer threw: \(error)")
        }
    }

    /// Marks the pool shut down, wakes every waiter; returns the items to abandon (outside the lock).
    private func beginShutdownLocked(cancelPending: Bool) -> [WorkItem] {
        if case .running = state { state = .shutDown }
        var abandoned: [WorkItem] = []
        if cancelPending {
            abandoned = Array(queue)
            queue.removeAll()
            queuedCount.store(0, ordering: .relaxed)
        }
        wakeEveryoneLocked()
        return abandoned
    }

    private func wakeEveryoneLocked() {
        signalledThreads = idleThreads
        workAvailable.broadcast()
        spaceAvailable.broadcast()
        let error = acceptanceErrorLocked()
        while let submitter = asyncSubmitters.popFirst() {
            submitter.continuation.resume(throwing: error)
        }
    }

    private func startThreadLocked() {
        threadCount += 1
        let name = "\(threadNamePrefix)-\(threadCount)"
        let thread = Thread { [self] in
            workerMain(name: name)
        }
        thread.stackSize = 1 << 20
        thread.name = String(decoding: name.utf8.prefix(15), as: UTF8.self)
        thread.start()
    }

    private func workerMain(name: String) {
        setThreadName(name)
        lock.withLock { _ = threadIDs.insert(pthread_self()) }
        if let initializer {
            do {
                try initializer()
            } catch {
                breakPool(error)
                return
            }
        }
        lock.lock()
        while true {
            if let item = queue.popFirst() {
                queuedCount.store(queue.count, ordering: .relaxed)
                if blockedSubmitters > 0 { spaceAvailable.signal() }
                if let submitter = asyncSubmitters.popFirst() { submitter.continuation.resume() }
                lock.unlock()
                item.run()
                lock.lock()
                continue
            }
            if case .running = state {
                if spinningThreads == 0 {
                    spinningThreads += 1
                    lock.unlock()
                    for _ in 0..<Self.yieldsBeforeSleeping {
                        if queuedCount.load(ordering: .relaxed) > 0 { break }
                        sched_yield()
                    }
                    lock.lock()
                    spinningThreads -= 1
                    if !queue.isEmpty { continue }
                    guard case .running = state else { continue }
                }
                idleThreads += 1
                workAvailable.wait(lock)
                idleThreads -= 1
                if signalledThreads > 0 { signalledThreads -= 1 }
                continue
            }
            break
        }
        exitThreadLocked()
        lock.unlock()
    }

    private func breakPool(_ error: any Error) {
        lock.lock()
        state = .broken(error)
        let pending = Array(queue)
        queue.removeAll()
        queuedCount.store(0, ordering: .relaxed)
        wakeEveryoneLocked()
        let failure = acceptanceErrorLocked()
        exitThreadLocked()
        lock.unlock()
        for item in pending { item.abandon(failure) }
    }

    private func exitThreadLocked() {
        threadIDs.remove(pthread_self())
        threadCount -= 1
        if threadCount == 0 { threadsExited.broadcast() }
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
