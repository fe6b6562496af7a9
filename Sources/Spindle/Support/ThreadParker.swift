import NIOConcurrencyHelpers

/// Where one blocked thread waits to be woken: the blocking half of Spindle's primitives.
///
/// A primitive's state machine decides *who* wakes (it returns the parkers to unpark as an action);
/// the thread that ran the machine unparks them after releasing the primitive's lock. A parker is
/// used once: parked by its owner, unparked at most once by whoever the machine names.
///
/// Built on NIOConcurrencyHelpers' `ConditionLock` (a pthread mutex and condition variable), the
/// one lock family Spindle uses: Thread Sanitizer understands it.
@usableFromInline
final class ThreadParker: Sendable {
    private let woken = NIOConcurrencyHelpers.ConditionLock(value: false)

    @usableFromInline
    init() {}

    /// Blocks until ``unpark()`` is called.
    @usableFromInline
    func park() {
        woken.lock(whenValue: true)
        woken.unlock()
    }

    /// Blocks until ``unpark()`` is called or `timeout` passes. Returns true if it was unparked.
    ///
    /// A false return can race with an `unpark()` issued just after the timeout: the caller asks
    /// its state machine, under the primitive's lock, whether the wake-up was handed to it anyway.
    @usableFromInline
    func park(timeout: Duration) -> Bool {
        guard woken.lock(whenValue: true, timeoutSeconds: max(0, timeout.seconds)) else { return false }
        woken.unlock()
        return true
    }

    /// Wakes the parked thread (or lets its next `park` return at once).
    @usableFromInline
    func unpark() {
        woken.lock()
        woken.unlock(withValue: true)
    }
}
