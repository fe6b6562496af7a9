import Logging

/// The state of a ``Future``.
public enum FutureState: Sendable, Hashable {
    /// Submitted, not started.
    case pending
    /// Started, not finished.
    case running
    /// Finished with a value.
    case finished
    /// Finished with an error.
    case failed
    /// Cancelled before it started.
    case cancelled
}

/// The eventual result of work submitted to a ``ThreadPoolExecutor`` or a ``ProcessPool``: the
/// Swift counterpart of Python's `concurrent.futures.Future`.
///
/// Wait for it from a thread with ``result(timeout:)``, from a task with ``value``, or be told
/// with ``onComplete(_:)``. Every waiter gets the same value or the same error.
public final class Future<Value: Sendable>: @unchecked Sendable {
    @usableFromInline
    enum Outcome {
        case pending
        case running
        case success(Value)
        case failure(any Error)
        case cancelled
    }

    /// A done callback: told the future once it is done.
    public typealias Callback = @Sendable (Future<Value>) throws -> Void

    /// Shared with other futures (striped): a future costs one allocation, not three.
    @inlinable var lock: ConditionLock { futureLocks.lock(for: ObjectIdentifier(self)) }
    // Protected by `lock`:
    @usableFromInline var outcome: Outcome = .pending
    @usableFromInline var callbacks: [Callback] = []
    @usableFromInline var blockedThreads = 0
    @usableFromInline var condition: Condition?
    @usableFromInline var asyncWaiters: [Int: CheckedContinuation<Void, Never>] = [:]
    private var nextWaiterID = 0

    /// A label used in error messages (for example the job's name).
    @usableFromInline let label: String

    @usableFromInline
    init(label: String = "task") {
        self.label = label
    }

    /// The current state.
    public var state: FutureState {
        lock.withLock {
            switch outcome {
            case .pending: .pending
            case .running: .running
            case .success: .finished
            case .failure: .failed
            case .cancelled: .cancelled
            }
        }
    }

    /// True once the future finished, failed or was cancelled.
    public var isDone: Bool {
        lock.withLock { Self.isDone(outcome) }
    }

    /// Cancels the work if it has not started. Returns false once it is running or done
    /// (true if it was already cancelled).
    @discardableResult
    public func cancel() -> Bool {
        lock.lock()
        switch outcome {
        case .pending:
            outcome = .cancelled
        case .cancelled:
            lock.unlock()
            return true
        case .running, .success, .failure:
            lock.unlock()
            return false
        }
        finishLocked()
        return true
    }

    /// Blocks the calling thread until the future is done and returns its value.
    ///
    /// - Parameter timeout: how long to wait; nil waits for as long as it takes.
    /// - Throws: the work's error; ``SpindleError/Code/cancelled`` if it was cancelled;
    ///   ``SpindleError/Code/timeout`` if the timeout passed first (the work goes on).
    @available(*, noasync, message: "blocks a thread: use `try await future.value` in async code")
    public func result(timeout: Duration? = nil) throws -> Value {
        let deadline = Deadline.after(timeout)
        lock.lock()
        while !Self.isDone(outcome) {
            if condition == nil { condition = Condition() }
            blockedThreads += 1
            let inTime = condition!.wait(lock, until: deadline)
            blockedThreads -= 1
            if !inTime && !Self.isDone(outcome) {
                lock.unlock()
                throw SpindleError(.timeout, "\(label) did not finish within \(timeout!)")
            }
        }
        let result = outcomeResult()
        lock.unlock()
        return try result.get()
    }

    /// The error the work failed with, blocking until done; nil if it finished with a value.
    @available(*, noasync, message: "blocks a thread: use `await future.error` in async code")
    public func error(timeout: Duration? = nil) throws -> (any Error)? {
        do {
            _ = try result(timeout: timeout)
            return nil
        } catch let error as SpindleError where error.code == .timeout && !isDone {
            throw error
        } catch {
            return error
        }
    }

    /// The value, waiting without blocking a thread. Cancelling the waiting task stops the wait
    /// (throwing `CancellationError`) but not the work: cancel the future for that.
    public var value: Value {
        get async throws {
            try await waitUntilDone()
            return try lock.withLock { outcomeResult() }.get()
        }
    }

    /// The value, waiting at most `timeout`; throws ``SpindleError/Code/timeout`` after it.
    public func value(timeout: Duration?) async throws -> Value {
        guard let timeout else { return try await value }
        return try await withDeadline(timeout, label: label) { try await self.value }
    }

    /// Calls `callback` once the future is done, or at once (on this thread) if it already is.
    /// Callbacks run in the order they were added, each exactly once, on the thread that
    /// completes the future. A callback that throws is logged and does not stop the others.
    public func onComplete(_ callback: @escaping Callback) {
        lock.lock()
        if Self.isDone(outcome) {
            lock.unlock()
            Self.run(callback, with: self)
        } else {
            callbacks.append(callback)
            lock.unlock()
        }
    }

    /// The outcome if the future is done, without waiting; nil while pending or running.
    func peekResult() -> Result<Value, any Error>? {
        lock.withLock { Self.isDone(outcome) ? outcomeResult() : nil }
    }

    // MARK: - Completing (for the pools)

    /// Moves a pending future to running. False if it was cancelled: the work must not run.
    @inlinable
    func markRunning() -> Bool {
        lock.withLock {
            guard case .pending = outcome else { return false }
            outcome = .running
            return true
        }
    }

    /// Completes the future. A future that is already done keeps its outcome.
    @inlinable
    func complete(_ result: Result<Value, any Error>) {
        lock.lock()
        guard !Self.isDone(outcome) else {
            lock.unlock()
            return
        }
        switch result {
        case .success(let value): outcome = .success(value)
        case .failure(let error): outcome = .failure(error)
        }
        finishLocked()
    }

    /// Runs `work` unless the future was cancelled, and completes the future with its outcome.
    @inlinable
    func run(_ work: () throws -> Value) {
        guard markRunning() else { return }
        complete(Result { try work() })
    }

    // MARK: - Internals

    /// Called with the lock held after the outcome became final; releases the lock.
    @inlinable
    func finishLocked() {
        let callbacks = self.callbacks
        self.callbacks = []
        let waiters = asyncWaiters
        asyncWaiters = [:]
        if blockedThreads > 0 { condition?.broadcast() }
        lock.unlock()
        for waiter in waiters.values { waiter.resume() }
        for callback in callbacks { Self.run(callback, with: self) }
    }

    private func waitUntilDone() async throws {
        let id: Int? = lock.withLock {
            guard !Self.isDone(outcome) else { return nil }
            nextWaiterID += 1
            return nextWaiterID
        }
        guard let id else { return }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                lock.lock()
                if Self.isDone(outcome) || Task.isCancelled {
                    lock.unlock()
                    continuation.resume()
                } else {
                    asyncWaiters[id] = continuation
                    lock.unlock()
                }
            }
        } onCancel: {
            let waiter = lock.withLock { asyncWaiters.removeValue(forKey: id) }
            waiter?.resume()
        }
        if !isDone { throw CancellationError() }
    }

    /// The outcome as a result; the lock must be held and the future done.
    private func outcomeResult() -> Result<Value, any Error> {
        switch outcome {
        case .success(let value): return .success(value)
        case .failure(let error): return .failure(error)
        case .cancelled: return .failure(SpindleError(.cancelled, "\(label) was cancelled before it started"))
        case .pending, .running: preconditionFailure("outcome read before the future was done")
        }
    }

    @inlinable
    static func isDone(_ outcome: Outcome) -> Bool {
        switch outcome {
        case .pending, .running: false
        case .success, .failure, .cancelled: true
        }
    }

    @usableFromInline
    static func run(_ callback: Callback, with future: Future<Value>) {
        do {
            try callback(future)
        } catch {
            logger.error("a done callback threw; the other callbacks still run", metadata: ["error": "\(error)"])
        }
    }

    private static var logger: Logger { Logger(label: "spindle.future") }
}

/// The locks futures share: a future's lock is chosen by its address. A future never holds its
/// lock while taking another's, so sharing cannot deadlock; it only rarely contends.
@usableFromInline
let futureLocks = LockStripes(count: 64)

/// A fixed set of locks, picked by hash.
@usableFromInline
final class LockStripes: Sendable {
    @usableFromInline let locks: [ConditionLock]

    @usableFromInline
    init(count: Int) {
        locks = (0..<count).map { _ in ConditionLock() }
    }

    @inlinable @inline(__always)
    func lock(for id: ObjectIdentifier) -> ConditionLock {
        // Objects are 16-byte aligned: drop the bits that never vary, fold in higher ones.
        let address = UInt(bitPattern: id)
        return locks[Int(((address >> 4) ^ (address >> 12)) % UInt(locks.count))]
    }
}

extension Future: Hashable {
    public static func == (lhs: Future, rhs: Future) -> Bool { lhs === rhs }
    public func hash(into hasher: inout Hasher) { hasher.combine(ObjectIdentifier(self)) }
}

extension Future: CustomStringConvertible {
    public var description: String { "Future(\(label), \(state))" }
}
