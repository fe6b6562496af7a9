#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A pthread mutex with condition variables on the monotonic clock: the blocking half of
/// Spindle's primitives (`Future.result`, `BlockingQueue`, the thread pool's workers).
///
/// pthread-backed on purpose: Thread Sanitizer understands pthread mutexes and condition
/// variables, not futex-based locks.
// Safe: a pthread mutex is made to be shared between threads; the pointer never changes.
@usableFromInline
final class ConditionLock: @unchecked Sendable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    /// - Parameter adaptive: spin briefly before sleeping when the lock is taken (Linux's
    ///   PTHREAD_MUTEX_ADAPTIVE_NP): for locks held a few instructions by many threads at once.
    init(adaptive: Bool = false) {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if os(Linux)
        if adaptive { pthread_mutexattr_settype(&attributes, 3) }
        #endif
        precondition(pthread_mutex_init(mutex, &attributes) == 0, "pthread_mutex_init failed")
        pthread_mutexattr_destroy(&attributes)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    @inlinable @inline(__always)
    func lock() { pthread_mutex_lock(mutex) }

    @inlinable @inline(__always)
    func unlock() { pthread_mutex_unlock(mutex) }

    @inlinable @inline(__always)
    func withLock<T>(_ body: () throws -> T) rethrows -> T {
        lock()
        defer { unlock() }
        return try body()
    }
}

/// A condition variable used with one `ConditionLock`.
// Safe: a pthread condition variable is made to be shared between threads; the pointer never changes.
@usableFromInline
final class Condition: @unchecked Sendable {
    @usableFromInline let cond: UnsafeMutablePointer<pthread_cond_t>

    init() {
        cond = .allocate(capacity: 1)
        cond.initialize(to: pthread_cond_t())
        var attributes = pthread_condattr_t()
        pthread_condattr_init(&attributes)
        #if !canImport(Darwin)
        pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC)
        #endif
        precondition(pthread_cond_init(cond, &attributes) == 0, "pthread_cond_init failed")
        pthread_condattr_destroy(&attributes)
    }

    deinit {
        pthread_cond_destroy(cond)
        cond.deallocate()
    }

    /// Waits for a signal; `lock` must be held.
    @inline(__always)
    func wait(_ lock: ConditionLock) {
        pthread_cond_wait(cond, lock.mutex)
    }

    /// Waits for a signal or the deadline; `lock` must be held. Returns false once the deadline passed.
    func wait(_ lock: ConditionLock, until deadline: Deadline?) -> Bool {
        guard let deadline else {
            wait(lock)
            return true
        }
        if deadline.hasPassed { return false }
        var time = deadline.asTimespec
        let rc = pthread_cond_timedwait(cond, lock.mutex, &time)
        return rc != ETIMEDOUT || !deadline.hasPassed
    }

    @inlinable @inline(__always)
    func signal() { pthread_cond_signal(cond) }

    @inlinable @inline(__always)
    func broadcast() { pthread_cond_broadcast(cond) }
}
