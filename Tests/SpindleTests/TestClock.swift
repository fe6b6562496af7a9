import NIOConcurrencyHelpers
import Testing

/// A clock that moves only when the test advances it, so timeouts are tested without waiting.
///
/// Sleepers wake when ``advance(by:)`` moves `now` past their deadline, or when their task is
/// cancelled (they throw `CancellationError` then, as `Task.sleep` does).
final class TestClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private struct Sleeper {
        var deadline: Instant
        var continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var sleepers: [Int: Sleeper] = [:]
        var nextID = 0
    }

    private let state = NIOLockedValueBox(State())

    var now: Instant { state.withLockedValue { $0.now } }
    var minimumResolution: Duration { .zero }

    /// Tasks sleeping on this clock now.
    var sleeperCount: Int { state.withLockedValue { $0.sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = state.withLockedValue { $0.nextID += 1; return $0.nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                let result: Result<Void, any Error>? = state.withLockedValue {
                    if deadline <= $0.now { return .success(()) }
                    if Task.isCancelled { return .failure(CancellationError()) }
                    $0.sleepers[id] = Sleeper(deadline: deadline, continuation: continuation)
                    return nil
                }
                if let result { continuation.resume(with: result) }
            }
        } onCancel: {
            state.withLockedValue { $0.sleepers.removeValue(forKey: id) }?
                .continuation.resume(throwing: CancellationError())
        }
    }

    /// Moves `now` forward and wakes every sleeper whose deadline it reaches.
    func advance(by duration: Duration) {
        let due: [Sleeper] = state.withLockedValue { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let due = state.sleepers.filter { $0.value.deadline <= now }
            for id in due.keys { state.sleepers.removeValue(forKey: id) }
            return Array(due.values)
        }
        for sleeper in due { sleeper.continuation.resume() }
    }

    /// Returns once `count` tasks sleep on this clock (a state that lasts until the test advances it).
    func waitForSleepers(_ count: Int, sourceLocation: SourceLocation = #_sourceLocation) async {
        await eventually(sourceLocation: sourceLocation) { sleeperCount >= count }
    }
}

/// Suspends tasks until the test opens it; once open, it stays open.
final class Gate: Sendable {
    private let state = NIOLockedValueBox((isOpen: false, waiters: [CheckedContinuation<Void, Never>]()))

    func open() {
        let waiters = state.withLockedValue { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }

    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let isOpen = state.withLockedValue { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }
}

/// Yields until `condition` holds: for states that last once reached (a task is waiting in a
/// queue, a count reached its final value), never for a fleeting moment. Gives up after a
/// generous 30 s with a recorded issue.
func eventually(sourceLocation: SourceLocation = #_sourceLocation, _ condition: () -> Bool) async {
    let limit = ContinuousClock.now + .seconds(30)
    while !condition() {
        if ContinuousClock.now > limit {
            Issue.record("the condition never held", sourceLocation: sourceLocation)
            return
        }
        await Task.yield()
    }
}
