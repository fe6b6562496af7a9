import DequeModule

/// What ``wait(for:timeout:returnWhen:)`` waits for, as in Python's `concurrent.futures.wait`.
public enum ReturnCondition: Sendable {
    /// Return when any future is done (or cancelled).
    case firstCompleted
    /// Return when any future fails; if none fails, when all are done.
    case firstFailure
    /// Return when every future is done.
    case allCompleted
}

/// The futures that were done and those that were not when ``wait(for:timeout:returnWhen:)`` returned.
public struct WaitResult<T: Sendable>: Sendable {
    public var done: Set<Future<T>>
    public var notDone: Set<Future<T>>
}

/// Blocks until `condition` holds for `futures` or `timeout` passes, then returns which are done.
/// A timeout is not an error: it shows as futures left in `notDone`.
@available(*, noasync, message: "blocks a thread: use the async wait(for:timeout:returnWhen:)")
public func wait<T>(
    for futures: [Future<T>],
    timeout: Duration? = nil,
    returnWhen condition: ReturnCondition = .allCompleted
) -> WaitResult<T> {
    let tracker = CompletionTracker(futures)
    let deadline = Deadline.after(timeout)
    while !tracker.satisfies(condition) {
        guard let future = tracker.nextBlocking(until: deadline) else { break }
        tracker.note(future)
    }
    return tracker.result()
}

/// Suspends until `condition` holds for `futures` or `timeout` passes, then returns which are done.
public func wait<T>(
    for futures: [Future<T>],
    timeout: Duration? = nil,
    returnWhen condition: ReturnCondition = .allCompleted
) async -> WaitResult<T> {
    let tracker = CompletionTracker(futures)
    let deadline = Deadline.after(timeout)
    while !tracker.satisfies(condition) {
        guard let future = try? await tracker.next(until: deadline) else { break }
        tracker.note(future)
    }
    return tracker.result()
}

/// The futures in the order they complete: those already done first, each future once (duplicates
/// in `futures` are dropped), as in Python's `as_completed`.
///
/// Iterate with `for try await future in asCompleted(...)` from a task, or call
/// ``CompletionSequence/next()`` from a thread. Throws ``SpindleError/Code/timeout`` when
/// `timeout` (counted from this call) passes with futures still pending.
public func asCompleted<T>(_ futures: [Future<T>], timeout: Duration? = nil) -> CompletionSequence<T> {
    CompletionSequence(CompletionTracker(futures), deadline: Deadline.after(timeout), timeout: timeout)
}

/// The sequence ``asCompleted(_:timeout:)`` returns.
public struct CompletionSequence<T: Sendable>: AsyncSequence, Sendable {
    public typealias Element = Future<T>
    let tracker: CompletionTracker<T>
    let deadline: Deadline?
    let timeout: Duration?

    init(_ tracker: CompletionTracker<T>, deadline: Deadline?, timeout: Duration?) {
        self.tracker = tracker
        self.deadline = deadline
        self.timeout = timeout
    }

    /// The next future to complete, blocking until one does; nil after the last.
    @available(*, noasync, message: "blocks a thread: iterate with `for try await` in async code")
    public func next() throws -> Future<T>? {
        guard tracker.hasMore else { return nil }
        guard let future = tracker.nextBlocking(until: deadline) else { throw timeoutError() }
        return future
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: CompletionSequence<T>
        public mutating func next() async throws -> Future<T>? {
            guard sequence.tracker.hasMore else { return nil }
            guard let future = try await sequence.tracker.next(until: sequence.deadline) else {
                throw sequence.timeoutError()
            }
            return future
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self) }

    private func timeoutError() -> SpindleError {
        SpindleError(.timeout, "\(tracker.remainingCount) of \(tracker.total) futures did not finish within \(timeout!)")
    }
}

/// Collects completions of a set of futures through their done callbacks.
final class CompletionTracker<T: Sendable>: @unchecked Sendable {
    private let lock = ConditionLock()
    private let arrived = Condition()
    let total: Int
    private let all: [Future<T>]
    // Protected by `lock`:
    private var completed = Deque<Future<T>>()
    private var handedOut = 0
    private var doneSet = Set<Future<T>>()
    private var anyFailed = false
    private var waiter: (id: Int, continuation: CheckedContinuation<Future<T>?, Never>)?
    private var nextWaiterID = 0

    init(_ futures: [Future<T>]) {
        var seen = Set<Future<T>>()
        all = futures.filter { seen.insert($0).inserted }
        total = all.count
        for future in all {
            future.onComplete { [weak self] done in self?.arrive(done) }
        }
    }

    var hasMore: Bool { lock.withLock { handedOut < total } }
    var remainingCount: Int { lock.withLock { total - handedOut } }

    private func arrive(_ future: Future<T>) {
        lock.lock()
        if let waiter {
            self.waiter = nil
            handedOut += 1
            lock.unlock()
            waiter.continuation.resume(returning: future)
            return
        }
        completed.append(future)
        arrived.signal()
        lock.unlock()
    }

    func nextBlocking(until deadline: Deadline?) -> Future<T>? {
        lock.lock()
        defer { lock.unlock() }
        while completed.isEmpty {
            guard handedOut < total, arrived.wait(lock, until: deadline) else {
                if !completed.isEmpty { break }
                return nil
            }
        }
        handedOut += 1
        return completed.removeFirst()
    }

    /// The next completed future, or nil when `deadline` passed first.
    func next(until deadline: Deadline?) async throws -> Future<T>? {
        let ready: Future<T>? = lock.withLock {
            guard let first = completed.popFirst() else { return nil }
            handedOut += 1
            return first
        }
        if let ready { return ready }
        let id = lock.withLock { nextWaiterID += 1; return nextWaiterID }
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try? await Task.sleep(for: deadline.remaining)
                self?.expire(id)
            }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Future<T>?, Never>) in
                lock.lock()
                if let first = completed.popFirst() {
                    handedOut += 1
                    lock.unlock()
                    continuation.resume(returning: first)
                } else if Task.isCancelled || deadline?.hasPassed == true {
                    lock.unlock()
                    continuation.resume(returning: nil)
                } else {
                    waiter = (id, continuation)
                    lock.unlock()
                }
            }
        } onCancel: {
            expire(id)
        }
    }

    private func expire(_ id: Int) {
        let expired: CheckedContinuation<Future<T>?, Never>? = lock.withLock {
            guard let waiter, waiter.id == id else { return nil }
            self.waiter = nil
            return waiter.continuation
        }
        expired?.resume(returning: nil)
    }

    /// Records a future handed out by `next`, for `wait`'s conditions.
    func note(_ future: Future<T>) {
        lock.withLock {
            doneSet.insert(future)
            if future.state == .failed { anyFailed = true }
        }
    }

    func satisfies(_ condition: ReturnCondition) -> Bool {
        lock.withLock {
            switch condition {
            case .firstCompleted: !doneSet.isEmpty || total == 0
            case .firstFailure: anyFailed || doneSet.count == total
            case .allCompleted: doneSet.count == total
            }
        }
    }

    func result() -> WaitResult<T> {
        // A future may have completed after the last `note`; report the state as it is now.
        let done = Set(all.filter(\.isDone))
        return WaitResult(done: done, notDone: Set(all).subtracting(done))
    }
}
