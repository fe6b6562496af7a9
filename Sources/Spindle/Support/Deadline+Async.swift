/// Runs `operation`, giving up with ``SpindleError/Code/timeout`` after `timeout`.
///
/// When the deadline passes the operation is cancelled, and its outcome still wins if it
/// completed anyway: an operation that took an element or a permit just as time ran out
/// returns it rather than losing it.
func withDeadline<T: Sendable>(
    _ timeout: Duration,
    label: String,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withDeadline(timeout, clock: ContinuousClock(), label: label, operation)
}

/// `withDeadline(_:label:_:)` with the time measured on `clock` (tests pass one they advance).
func withDeadline<T: Sendable, C: Clock>(
    _ timeout: Duration,
    clock: C,
    label: String,
    _ operation: @escaping @Sendable () async throws -> T
) async throws -> T where C.Duration == Duration {
    try await withThrowingTaskGroup(of: Result<T, any Error>?.self) { group in
        group.addTask {
            do { return .success(try await operation()) } catch { return .failure(error) }
        }
        group.addTask {
            try? await clock.sleep(until: clock.now.advanced(by: timeout), tolerance: nil)
            return nil
        }
        let first = try await group.next()!
        group.cancelAll()
        if let first {
            return try first.get()
        }
        // The deadline came first; the operation was cancelled and is told so, but if it had
        // already succeeded its result is kept.
        while let next = try await group.next() {
            if let next, case .success(let value) = next { return value }
        }
        if Task.isCancelled { throw CancellationError() }
        throw SpindleError(.timeout, "\(label) did not finish within \(timeout)")
    }
}
