/// Polls `condition` every 10 ms until it holds or `seconds` pass; returns whether it held.
/// For tests that wait on another process's state (a pid gone, a log line written), with a
/// deadline generous enough for a loaded machine.
public func waitUntil(seconds: Double, _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + .seconds(seconds)
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}
