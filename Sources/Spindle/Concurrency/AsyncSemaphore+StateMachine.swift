import DequeModule

/// The logic of an ``AsyncSemaphore``, without tasks, locks or clocks: each method changes the
/// state and returns what the caller must do (resume this waiter).
///
/// `Waiter` is whatever resumes one suspended task (a continuation in the semaphore; a plain value
/// in tests). Waiters are served first come, first served; a free permit is not taken by a newcomer
/// while others wait.
struct AsyncSemaphoreStateMachine<Waiter> {
    enum AcquireAction {
        /// The caller has a permit: resume its waiter.
        case acquired
        /// The task was cancelled before it waited: fail its waiter with `CancellationError`.
        case cancelled
        /// The waiter is queued; ``release()`` or ``cancel(_:)`` hands it back.
        case suspended
    }

    private(set) var permits: Int
    private var waiters = Deque<(id: Int, waiter: Waiter)>()
    private var nextID = 0

    init(permits: Int) {
        self.permits = permits
    }

    var waitingCount: Int { waiters.count }

    /// An id for a waiter about to suspend, so that its cancellation can find it.
    mutating func makeID() -> Int {
        nextID += 1
        return nextID
    }

    /// Takes a permit if one is free and nobody waits.
    mutating func tryAcquire() -> Bool {
        guard permits > 0, waiters.isEmpty else { return false }
        permits -= 1
        return true
    }

    /// Takes a permit for the waiter `id`, or queues it (unless its task is already cancelled).
    mutating func acquire(id: Int, waiter: Waiter, isCancelled: Bool) -> AcquireAction {
        if tryAcquire() { return .acquired }
        if isCancelled { return .cancelled }
        waiters.append((id, waiter))
        return .suspended
    }

    /// Removes the waiter `id` if it still waits (it gets no permit): the caller fails it with
    /// `CancellationError`. Nil when it was already served.
    mutating func cancel(_ id: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    /// Returns a permit: the longest waiter, to resume with it, or nil when the permit is kept free.
    mutating func release() -> Waiter? {
        if let first = waiters.popFirst() { return first.waiter }
        permits += 1
        return nil
    }
}

@available(*, unavailable, message: "a state machine is used under its owner's lock")
extension AsyncSemaphoreStateMachine: Sendable {}
