import Logging
import NIOConcurrencyHelpers

/// Logs a recurring event (a refused connection, say) at most once per interval: the first
/// occurrence at once, later ones counted and reported with the next line, so a flood of them
/// cannot flood the log.
final class RateLimitedLog: Sendable {
    private struct State {
        var lastLogged: ContinuousClock.Instant?
        var suppressed = 0
    }

    private let logger: Logger
    private let level: Logger.Level
    private let interval: Duration
    private let state = NIOLockedValueBox(State())

    /// - Parameter interval: The least time between two lines.
    init(logger: Logger, level: Logger.Level = .warning, interval: Duration = .seconds(10)) {
        self.logger = logger
        self.level = level
        self.interval = interval
    }

    /// Records one occurrence; logs `message` (with how many were not logged since the last
    /// line, as `suppressed`) unless a line was logged less than the interval ago.
    func record(_ message: @autoclosure () -> Logger.Message, metadata: Logger.Metadata = [:], now: ContinuousClock.Instant = .now) {
        let suppressed: Int? = state.withLockedValue { state in
            if let last = state.lastLogged, now - last < interval {
                state.suppressed += 1
                return nil
            }
            defer { state.suppressed = 0 }
            state.lastLogged = now
            return state.suppressed
        }
        guard let suppressed else { return }
        var metadata = metadata
        if suppressed > 0 { metadata["suppressed"] = "\(suppressed)" }
        metadata["next_line_in_at_least"] = "\(interval)"
        logger.log(level: level, message(), metadata: metadata)
    }
}
