import NIOConcurrencyHelpers

/// A counting semaphore for tasks: the counterpart of Python's `asyncio.Semaphore`, for bounding
/// how many operations run at once (`withPermit { }`).
///
/// Waiters are served first come, first served. Cancellation-safe: a waiter cancelled before it
/// gets a permit throws `CancellationError` and takes none; a permit handed to a waiter just as
/// it is cancelled is kept by it (and released by `withPermit` as usual), so none leaks.
public final class AsyncSemaphore: Sendable {
    let storage: AsyncSemaphoreStorage

    /// Creates a semaphore with `value` permits (at least 0).
    public init(value: Int) {
        precondition(value >= 0, "AsyncSemaphore needs value >= 0, got \(value)")
        storage = AsyncSemaphoreStorage(permits: value)
    }

    /// Permits free now.
    public var availablePermits: Int { storage.withMachine { $0.permits } }

    /// Tasks waiting for a permit now.
    public var waitingCount: Int { storage.withMachine { $0.waitingCount } }

    /// Takes a permit, suspending until one is free.
    /// - Throws: `CancellationError` if the task is cancelled before it gets one.
    public func acquire() async throws {
        try await storage.acquire()
    }

    /// Takes a permit, giving up with ``SpindleError/Code/timeout`` after `timeout`.
    public func acquire(timeout: Duration) async throws {
        try await acquire(timeout: timeout, clock: ContinuousClock())
    }

    /// `acquire(timeout:)` with the time measured on `clock`.
    func acquire<C: Clock>(timeout: Duration, clock: C) async throws where C.Duration == Duration {
        try await withDeadline(timeout, clock: clock, label: "acquiring a semaphore permit") {
            try await self.acquire()
        }
    }

    /// Takes a permit if one is free at once.
    public func tryAcquire() -> Bool {
        storage.withMachine { $0.tryAcquire() }
    }

    /// Returns a permit, handing it to the longest-waiting task if there is one.
    public func release() {
        storage.withMachine { $0.release() }?.resume()
    }

    /// Runs `body` holding a permit, and returns the permit when it ends, also when it throws.
    public func withPermit<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }
}

/// An ``AsyncSemaphore``'s one lock and its state machine; resumes the continuations the machine
/// returns outside the lock.
final class AsyncSemaphoreStorage: @unchecked Sendable {
    typealias Machine = AsyncSemaphoreStateMachine<CheckedContinuation<Void, any Error>>
    // @unchecked Sendable: `machine` is only read or changed while `lock` is held.
    private let lock = NIOLock()
    private var machine: Machine

    init(permits: Int) {
        machine = Machine(permits: permits)
    }

    func withMachine<T>(_ body: (inout Machine) -> T) -> T {
        lock.withLock { body(&machine) }
    }

    func acquire() async throws {
        if withMachine({ $0.tryAcquire() }) { return }
        let id = withMachine { $0.makeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                switch withMachine({ $0.acquire(id: id, waiter: continuation, isCancelled: Task.isCancelled) }) {
                case .acquired: continuation.resume()
                case .cancelled: continuation.resume(throwing: CancellationError())
                case .suspended: break
                }
            }
        } onCancel: {
            withMachine { $0.cancel(id) }?.resume(throwing: CancellationError())
        }
    }
}
