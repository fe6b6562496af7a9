import Logging
import NIOConcurrencyHelpers

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
// Safe: every mutable field is the state machine, read and written only under `lock`.
public final class Future<Value: Sendable>: @unchecked Sendable {
    /// A done callback: told the future once it is done.
    public typealias Callback = @Sendable (Future<Value>) throws -> Void

    /// Who waits for this future: woken (or called) once it is done.
    enum Waiter {
        case thread(ThreadParker)
        case task(CheckedContinuation<Void, Never>)
        case callback(Callback)
    }

    /// Shared with other futures (striped): a future costs one allocation, not three.
    private var lock: NIOLock { futureLocks.lock(for: ObjectIdentifier(self)) }
    /// Protected by `lock`.
    private var machine = FutureStateMachine<Value, Waiter>()

    /// A label used in error messages (for example the job's name).
    @usableFromInline let label: String

    @usableFromInline
    init(label: String = "task") {
        self.label = label
    }

    /// The current state.
    public var state: FutureState {
        lock.withLock { machine.state }
    }

    /// True once the future finished, failed or was cancelled.
    public var isDone: Bool {
        lock.withLock { machine.isDone }
    }

    /// Cancels the work if it has not started. Returns false once it is running or done
    /// (true if it was already cancelled).
    @discardableResult
    public func cancel() -> Bool {
        switch lock.withLock({ machine.cancel() }) {
        case .cancelled(let waiters):
            wake(waiters)
            return true
        case .alreadyCancelled:
            return true
        case .tooLate:
            return false
        }
    }

    /// Blocks the calling thread until the future is done and returns its value.
    ///
    /// - Parameter timeout: how long to wait; nil waits for as long as it takes.
    /// - Throws: the work's error; ``SpindleError/Code/cancelled`` if it was cancelled;
    ///   ``SpindleError/Code/timeout`` if the timeout passed first (the work goes on).
    @available(*, noasync, renamed: "value(timeout:)", message: "blocks a thread: use `try await future.value(timeout:)` in async code")
    public func result(timeout: Duration? = nil) throws -> Value {
        if let result = peekResult() { return try result.get() }
        let parker = ThreadParker()
        let registration = lock.withLock { machine.addWaiter(.thread(parker)) }
        if case .added(let id) = registration {
            if let timeout {
                if !parker.park(timeout: timeout) {
                    // Timed out, unless the completion took this waiter meanwhile.
                    let gaveUp = lock.withLock { machine.removeWaiter(id: id) } != nil
                    if gaveUp { throw SpindleError(.timeout, "\(label) did not finish within \(timeout)") }
                }
            } else {
                parker.park()
            }
        }
        return try peekResult()!.get()
    }

    /// The error the work failed with, blocking until done; nil if it finished with a value.
    @available(*, noasync, renamed: "failure(timeout:)", message: "blocks a thread: use `await future.failure(timeout:)` in async code")
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

    /// The error the work failed with, waiting without blocking a thread; nil if it finished
    /// with a value. Throws ``SpindleError/Code/timeout`` if `timeout` passes first, and
    /// `CancellationError` if the waiting task is cancelled.
    public func failure(timeout: Duration? = nil) async throws -> (any Error)? {
        do {
            _ = try await value(timeout: timeout)
            return nil
        } catch let error as SpindleError where error.code == .timeout && !isDone {
            throw error
        } catch is CancellationError where !isDone {
            throw CancellationError()
        } catch {
            return error
        }
    }

    /// The value, waiting without blocking a thread. Cancelling the waiting task stops the wait
    /// (throwing `CancellationError`) but not the work: cancel the future for that.
    public var value: Value {
        get async throws {
            try await waitUntilDone()
            return try peekResult()!.get()
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
        if lock.withLock({ machine.addWaiter(.callback(callback)) }) == .alreadyDone {
            Self.run(callback, with: self)
        }
    }

    /// The outcome if the future is done, without waiting; nil while pending or running.
    func peekResult() -> Result<Value, any Error>? {
        lock.withLock { machine.result(label: label) }
    }

    // MARK: - Completing (for the pools)

    /// Moves a pending future to running. False if it was cancelled: the work must not run.
    @usableFromInline
    func markRunning() -> Bool {
        lock.withLock { machine.markRunning() }
    }

    /// Completes the future. A future that is already done keeps its outcome.
    @usableFromInline
    func complete(_ result: Result<Value, any Error>) {
        let waiters = lock.withLock { machine.complete(result) }
        if !waiters.isEmpty { wake(waiters) }
    }

    /// Runs `work` unless the future was cancelled, and completes the future with its outcome.
    @inlinable
    func run(_ work: () throws -> Value) {
        guard markRunning() else { return }
        complete(Result { try work() })
    }

    // MARK: - Internals

    /// Wakes the waiters a completion returned, outside the lock, in order.
    private func wake(_ waiters: [Waiter]) {
        for waiter in waiters {
            switch waiter {
            case .thread(let parker): parker.unpark()
            case .task(let continuation): continuation.resume()
            case .callback(let callback): Self.run(callback, with: self)
            }
        }
    }

    private func waitUntilDone() async throws {
        if isDone { return }
        // The id is stored and read under the future's lock: a cancellation handler that runs
        // first finds none, and the registration then sees the task cancelled.
        let registeredID = NIOLockedValueBox<Int?>(nil)
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let added = lock.withLock { () -> Bool in
                    if Task.isCancelled { return false }
                    guard case .added(let id) = machine.addWaiter(.task(continuation)) else { return false }
                    registeredID.withLockedValue { $0 = id }
                    return true
                }
                if !added { continuation.resume() }
            }
        } onCancel: {
            let waiter = lock.withLock {
                registeredID.withLockedValue { $0 }.flatMap { machine.removeWaiter(id: $0) }
            }
            if case .task(let continuation)? = waiter { continuation.resume() }
        }
        if !isDone { throw CancellationError() }
    }

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
let futureLocks = LockStripes(count: 64)

/// A fixed set of locks, picked by hash.
final class LockStripes: Sendable {
    let locks: [NIOLock]

        init(count: Int) {
        locks = (0..<count).map { _ in NIOLock() }
    }

    @inline(__always)
    func lock(for id: ObjectIdentifier) -> NIOLock {
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
