import DequeModule
import NIOConcurrencyHelpers

/// What ``waitFor(_:timeout:returnWhen:)`` waits for, as in Python's `concurrent.futures.wait`.
public enum ReturnCondition: Sendable {
    /// Return when any future is done (or cancelled).
    case firstCompleted
    /// Return when any future fails; if none fails, when all are done.
    case firstFailure
    /// Return when every future is done.
    case allCompleted
}

/// The futures that were done and those that were not when ``waitFor(_:timeout:returnWhen:)`` returned.
public struct WaitResult<T: Sendable>: Sendable {
    public var done: Set<Future<T>>
    public var notDone: Set<Future<T>>
}

/// Blocks until `condition` holds for `futures` or `timeout` passes, then returns which are done.
/// A timeout is not an error: it shows as futures left in `notDone`. Python's
/// `concurrent.futures.wait`, under a name an XCTest case's `wait(for:)` does not hide.
@available(*, noasync, renamed: "waitFor(_:timeout:returnWhen:)", message: "blocks a thread: use `await waitFor(...)` in async code")
public func waitFor<T>(
    _ futures: [Future<T>],
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
public func waitFor<T>(
    _ futures: [Future<T>],
    timeout: Duration? = nil,
    returnWhen condition: ReturnCondition = .allCompleted
) async -> WaitResult<T> {
    let tracker = CompletionTracker(futures)
    let deadline = Deadline.after(timeout)
    while !tracker.satisfies(condition) {
        guard let future = await tracker.next(until: deadline) else { break }
        tracker.note(future)
    }
    return tracker.result()
}

/// Blocks until `condition` holds for `futures` or `timeout` passes (see ``waitFor(_:timeout:returnWhen:)-(_,_,_)``).
@available(*, noasync, renamed: "waitFor(_:timeout:returnWhen:)")
@available(*, deprecated, renamed: "waitFor(_:timeout:returnWhen:)", message: "in an XCTest case `wait(for:)` binds to XCTest's method")
public func wait<T>(
    for futures: [Future<T>],
    timeout: Duration? = nil,
    returnWhen condition: ReturnCondition = .allCompleted
) -> WaitResult<T> {
    waitFor(futures, timeout: timeout, returnWhen: condition)
}

/// Suspends until `condition` holds for `futures` or `timeout` passes.
@available(*, deprecated, renamed: "waitFor(_:timeout:returnWhen:)", message: "in an XCTest case `wait(for:)` binds to XCTest's method")
public func wait<T>(
    for futures: [Future<T>],
    timeout: Duration? = nil,
    returnWhen condition: ReturnCondition = .allCompleted
) async -> WaitResult<T> {
    await waitFor(futures, timeout: timeout, returnWhen: condition)
}

/// The futures in the order they complete: those already done first, each future once (duplicates
/// in `futures` are dropped), as in Python's `as_completed`.
///
/// From a thread, iterate with `for future in asCompleted(...)` (each step blocks); from a task,
/// with `for try await future in asCompleted(...)`. When `timeout` (counted from this call)
/// passes with futures still pending, the async iteration and ``CompletionSequence/next()``
/// throw ``SpindleError/Code/timeout``; a `for` loop (which cannot throw) ends early instead,
/// and ``CompletionSequence/remainingCount`` tells how many futures it did not reach.
public func asCompleted<T>(_ futures: [Future<T>], timeout: Duration? = nil) -> CompletionSequence<T> {
    CompletionSequence(CompletionTracker(futures), deadline: Deadline.after(timeout), timeout: timeout)
}

/// The sequence ``asCompleted(_:timeout:)`` returns: a `Sequence` of blocking steps for threads,
/// an `AsyncSequence` for tasks. Single-pass.
public struct CompletionSequence<T: Sendable>: Sequence, AsyncSequence, Sendable {
    public typealias Element = Future<T>
    let tracker: CompletionTracker<T>
    let deadline: Deadline?
    let timeout: Duration?

    init(_ tracker: CompletionTracker<T>, deadline: Deadline?, timeout: Duration?) {
        self.tracker = tracker
        self.deadline = deadline
        self.timeout = timeout
    }

    /// How many futures were not handed out yet.
    public var remainingCount: Int { tracker.remainingCount }

    /// The next future to complete, blocking until one does; nil after the last.
    /// Throws ``SpindleError/Code/timeout`` once the timeout passed.
    @available(*, noasync, message: "blocks a thread: iterate with `for try await` in async code")
    public func next() throws -> Future<T>? {
        guard tracker.hasMore else { return nil }
        guard let future = tracker.nextBlocking(until: deadline) else {
            if tracker.hasMore { throw timeoutError() }
            return nil
        }
        return future
    }

    /// Blocking steps for a `for` loop on a thread; the loop ends early at the timeout.
    public struct Iterator: IteratorProtocol {
        let sequence: CompletionSequence<T>
        public mutating func next() -> Future<T>? {
            guard sequence.tracker.hasMore else { return nil }
            return sequence.tracker.nextBlocking(until: sequence.deadline)
        }
    }

    public func makeIterator() -> Iterator { Iterator(sequence: self) }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let sequence: CompletionSequence<T>
        public mutating func next() async throws -> Future<T>? {
            guard sequence.tracker.hasMore else { return nil }
            guard let future = await sequence.tracker.next(until: sequence.deadline) else {
                if Task.isCancelled { throw CancellationError() }
                if sequence.tracker.hasMore { throw sequence.timeoutError() }
                return nil
            }
            return future
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(sequence: self) }

    private func timeoutError() -> SpindleError {
        SpindleError(.timeout, "\(tracker.remainingCount) of \(tracker.total) futures did not finish within \(timeout!)")
    }
}

/// Collects completions of a set of futures through their done callbacks: the storage of a
/// ``CompletionStateMachine``, which owns its one lock and wakes consumers outside it.
// Safe: the machine is read and written only under `lock`.
final class CompletionTracker<T: Sendable>: @unchecked Sendable {
    /// A consumer waiting for the next future.
    enum Waiter {
        case thread(ThreadParker, Handoff)
        case task(CheckedContinuation<Future<T>?, Never>)
    }

    /// Where a completion leaves its future for a parked thread.
    // Safe: written before the parker is unparked, read after `park` returns; the parker's
    // lock orders the two.
    final class Handoff: @unchecked Sendable {
        var future: Future<T>?
    }

    private let lock = NIOLock()
    private var machine: CompletionStateMachine<Future<T>, Waiter>
    let total: Int
    private let all: [Future<T>]

    init(_ futures: [Future<T>]) {
        var seen = Set<Future<T>>()
        all = futures.filter { seen.insert($0).inserted }
        total = all.count
        machine = CompletionStateMachine(total: all.count)
        for future in all {
            future.onComplete { [weak self] done in self?.arrive(done) }
        }
    }

    var hasMore: Bool { lock.withLock { machine.hasMore } }
    var remainingCount: Int { lock.withLock { machine.remainingCount } }

    private func arrive(_ future: Future<T>) {
        switch lock.withLock({ machine.arrive(future) }) {
        case nil: break
        case .thread(let parker, let handoff)?:
            handoff.future = future
            parker.unpark()
        case .task(let continuation)?:
            continuation.resume(returning: future)
        }
    }

    /// The next completed future, blocking; nil when every future was handed out or `deadline` passed first.
    func nextBlocking(until deadline: Deadline?) -> Future<T>? {
        let parker = ThreadParker()
        let handoff = Handoff()
        switch lock.withLock({ machine.next(.thread(parker, handoff)) }) {
        case .ready(let future): return future
        case .exhausted: return nil
        case .wait(let id):
            if let deadline {
                if !parker.park(timeout: deadline.remaining) {
                    // Timed out, unless a completion was handed over meanwhile.
                    if lock.withLock({ machine.expire(id: id) }) != nil { return nil }
                    parker.park()
                }
            } else {
                parker.park()
            }
            return handoff.future
        }
    }

    /// The next completed future, or nil when every future was handed out, `deadline` passed
    /// first, or the task was cancelled.
    func next(until deadline: Deadline?) async -> Future<T>? {
        let registeredID = NIOLockedValueBox<Int?>(nil)
        let timer = deadline.map { deadline in
            Task { [weak self] in
                try? await Task.sleep(for: deadline.remaining)
                if !Task.isCancelled { self?.expire(registeredID) }
            }
        }
        defer { timer?.cancel() }
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Future<T>?, Never>) in
                // nil: give up at once (cancelled, or the deadline passed).
                let action = lock.withLock { () -> CompletionStateMachine<Future<T>, Waiter>.NextAction? in
                    if Task.isCancelled || deadline?.hasPassed == true { return nil }
                    let action = machine.next(.task(continuation))
                    if case .wait(let id) = action { registeredID.withLockedValue { $0 = id } }
                    return action
                }
                switch action {
                case .ready(let future)?: continuation.resume(returning: future)
                case .exhausted?, nil: continuation.resume(returning: nil)
                case .wait?: break
                }
            }
        } onCancel: {
            expire(registeredID)
        }
    }

    /// Withdraws the waiter registered under the id in `registeredID`, if it still waits. The id
    /// is read under `lock`, where it was stored: a timer that fires before the registration
    /// finds none, and the registration then sees the deadline passed.
    private func expire(_ registeredID: NIOLockedValueBox<Int?>) {
        let waiter = lock.withLock {
            registeredID.withLockedValue { $0 }.flatMap { machine.expire(id: $0) }
        }
        if case .task(let continuation)? = waiter { continuation.resume(returning: nil) }
    }

    /// Records a future handed out by `next`, for `waitFor`'s conditions.
    func note(_ future: Future<T>) {
        let failed = future.state == .failed
        lock.withLock { machine.note(future, failed: failed) }
    }

    func satisfies(_ condition: ReturnCondition) -> Bool {
        lock.withLock { machine.satisfies(condition) }
    }

    func result() -> WaitResult<T> {
        // A future may have completed after the last `note`; report the state as it is now.
        let done = Set(all.filter(\.isDone))
        return WaitResult(done: done, notDone: Set(all).subtracting(done))
    }
}
