import DequeModule
import NIOConcurrencyHelpers

/// A counting semaphore for tasks: the counterpart of Python's `asyncio.Semaphore`, for bounding
/// how many operations run at once (`withPermit { }`).
///
/// Waiters are served first come, first served. Cancellation-safe: a waiter cancelled before it
/// gets a permit throws `CancellationError` and takes none; a permit handed to a waiter just as
/// it is cancelled is kept by it (and released by `withPermit` as usual), so none leaks.
public final class AsyncSemaphore: @unchecked Sendable {
    private struct Waiter {
        var id: Int
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let lock = NIOLock()
    // Protected by `lock`:
    private var permits: Int
    private var waiters = Deque<Waiter>()
    private var nextID = 0

    /// Creates a semaphore with `value` permits (at least 0).
    public init(value: Int) {
        precondition(value >= 0, "AsyncSemaphore needs value >= 0, got \(value)")
        permits = value
    }

    /// Permits free now.
    public var availablePermits: Int { lock.withLock { permits } }

    /// Tasks waiting for a permit now.
    public var waitingCount: Int { lock.withLock { waiters.count } }

    /// Takes a permit, suspending until one is free.
    /// - Throws: `CancellationError` if the task is cancelled before it gets one.
    public func acquire() async throws {
        if tryAcquire() { return }
        let id = lock.withLock { nextID += 1; return nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.withLockVoid {
                    if permits > 0 && waiters.isEmpty {
                        permits -= 1
                        continuation.resume()
                    } else if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        waiters.append(Waiter(id: id, continuation: continuation))
                    }
                }
            }
        } onCancel: {
            let waiter: Waiter? = lock.withLock {
                guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
                return waiters.remove(at: index)
            }
            waiter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Takes a permit, giving up with ``SpindleError/Code/timeout`` after `timeout`.
    public func acquire(timeout: Duration) async throws {
        try await withDeadline(timeout, label: "acquiring a semaphore permit") { try await self.acquire() }
    }

    /// Takes a permit if one is free at once.
    public func tryAcquire() -> Bool {
        lock.withLock {
            guard permits > 0, waiters.isEmpty else { return false }
            permits -= 1
            return true
        }
    }

    /// Returns a permit, handing it to the longest-waiting task if there is one.
    public func release() {
        let waiter: Waiter? = lock.withLock {
            if let first = waiters.popFirst() { return first }
            permits += 1
            return nil
        }
        waiter?.continuation.resume()
    }

    /// Runs `body` holding a permit, and returns the permit when it ends, also when it throws.
    public func withPermit<T>(_ body: () async throws -> T) async throws -> T {
        try await acquire()
        defer { release() }
        return try await body()
    }
}
