/// The state of one ``Future``, without locks or threads: what completing, cancelling and
/// waiting do, and who must be told. The future owns the lock and performs the returned actions
/// (resuming waiters, running callbacks) after releasing it.
///
/// `Waiter` is whatever the owner wakes (a parked thread, a suspended task, a done callback);
/// tests use plain values.
struct FutureStateMachine<Value, Waiter> {
        enum Outcome {
        case pending
        case running
        case success(Value)
        case failure(any Error)
        case cancelled
    }

    /// What ``addWaiter(_:)`` did.
        enum WaiterRegistration: Equatable {
        /// Registered under this id: it will be returned by a completion or removed.
        case added(id: Int)
        /// The future is already done: the waiter was not kept.
        case alreadyDone
    }

    /// What ``cancel()`` did.
        enum CancelAction {
        /// Cancelled now: wake these waiters, in order.
        case cancelled(wake: [Waiter])
        /// It had been cancelled before.
        case alreadyCancelled
        /// It is running or done: it cannot be cancelled.
        case tooLate
    }

    var outcome: Outcome = .pending
    /// Waiters in the order they were added (callbacks run in that order).
    var waiters: [(id: Int, waiter: Waiter)] = []
    var nextWaiterID = 0

    init() {}

    var isDone: Bool {
        switch outcome {
        case .pending, .running: false
        case .success, .failure, .cancelled: true
        }
    }

    var state: FutureState {
        switch outcome {
        case .pending: .pending
        case .running: .running
        case .success: .finished
        case .failure: .failed
        case .cancelled: .cancelled
        }
    }

    /// Pending → running. False if the future is not pending (cancelled): the work must not run.
    mutating func markRunning() -> Bool {
        guard case .pending = outcome else { return false }
        outcome = .running
        return true
    }

    /// Completes the future; returns the waiters to wake, in order. A future already done keeps
    /// its outcome and returns no waiters.
    mutating func complete(_ result: Result<Value, any Error>) -> [Waiter] {
        guard !isDone else { return [] }
        switch result {
        case .success(let value): outcome = .success(value)
        case .failure(let error): outcome = .failure(error)
        }
        return takeWaiters()
    }

    /// Cancels a pending future.
    mutating func cancel() -> CancelAction {
        switch outcome {
        case .pending:
            outcome = .cancelled
            return .cancelled(wake: takeWaiters())
        case .cancelled:
            return .alreadyCancelled
        case .running, .success, .failure:
            return .tooLate
        }
    }

    /// Registers a waiter to be returned by the completion, unless the future is done already.
    mutating func addWaiter(_ waiter: Waiter) -> WaiterRegistration {
        guard !isDone else { return .alreadyDone }
        nextWaiterID += 1
        waiters.append((nextWaiterID, waiter))
        return .added(id: nextWaiterID)
    }

    /// Withdraws a waiter that gave up (a timeout, a cancelled task). Returns it if it was still
    /// registered; nil if a completion already took it (it was, or is being, woken).
    mutating func removeWaiter(id: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    /// The outcome as a result once done; nil while pending or running.
    func result(label: String) -> Result<Value, any Error>? {
        switch outcome {
        case .success(let value): .success(value)
        case .failure(let error): .failure(error)
        case .cancelled: .failure(SpindleError(.cancelled, "\(label) was cancelled before it started"))
        case .pending, .running: nil
        }
    }

    mutating func takeWaiters() -> [Waiter] {
        guard !waiters.isEmpty else { return [] }
        defer { waiters = [] }
        return waiters.map(\.waiter)
    }
}
