import NIOConcurrencyHelpers

/// How a running ``FrontierCrawl`` is asked to stop, from any thread (a signal handler's
/// dispatch source, a test): ``requestStop()`` once for a graceful stop, twice (or
/// ``requestImmediateStop()``) to stop at once.
public final class CrawlStopSignal: Sendable {
    /// How far a stop has been asked for.
    public enum Level: Int, Sendable, Comparable {
        /// Keep crawling.
        case none
        /// Start no page; finish those in flight (cancel them after the grace period).
        case graceful
        /// Cancel the pages in flight and return.
        case immediate

        public static func < (lhs: Level, rhs: Level) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    private let state = NIOLockedValueBox<(level: Level, listeners: [@Sendable () -> Void])>((.none, []))

    /// A signal nobody has raised.
    public init() {}

    /// The level asked for so far.
    public var level: Level { state.withLockedValue { $0.level } }

    /// Raises the level one step: the first call asks for a graceful stop, the next for an
    /// immediate one. Returns the new level.
    @discardableResult
    public func requestStop() -> Level {
        raise { $0 == .none ? .graceful : .immediate }
    }

    /// Asks for an immediate stop.
    public func requestImmediateStop() {
        _ = raise { _ in .immediate }
    }

    /// Calls `listener` on every raise from now on (the crawl's driver wakes up with it).
    func onRaise(_ listener: @escaping @Sendable () -> Void) {
        state.withLockedValue { $0.listeners.append(listener) }
    }

    private func raise(_ next: (Level) -> Level) -> Level {
        let (level, listeners) = state.withLockedValue { state in
            state.level = max(state.level, next(state.level))
            return (state.level, state.listeners)
        }
        for listener in listeners { listener() }
        return level
    }
}
