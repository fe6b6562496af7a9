import Foundation
import NIOConcurrencyHelpers

/// What a running ``BlogSite`` has been asked for: requests per path, the total, the user
/// agents, the most requests it was serving at once, and the connections they came on. Crawler tests read it to check
/// politeness (per-host concurrency, robots.txt, no page fetched twice).
///
/// A request counts as *in flight* from its arrival until its response is ready to send
/// (including the configured latency); the bytes of a response body on their way out do not
/// keep it in flight. All members are safe to read from any thread while the site serves.
public final class BlogRequestLog: Sendable {
    /// A consistent copy of the log at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// Requests received, of any path and outcome.
        public var totalRequests = 0
        /// Requests being handled right now.
        public var inFlight = 0
        /// The most requests that were in flight at the same time.
        public var maxInFlight = 0
        /// Requests per path (without the query string). Paths beyond
        /// ``BlogRequestLog/maximumDistinctPaths`` are counted under `"(other)"`.
        public var requestsByPath: [String: Int] = [:]
        /// Requests per `User-Agent` header value (`"(none)"` when absent), up to
        /// ``BlogRequestLog/maximumDistinctUserAgents`` distinct values, then `"(other)"`.
        public var requestsByUserAgent: [String: Int] = [:]
        /// Bytes written by the streaming fault endpoints, per path.
        public var streamedBytesByPath: [String: Int] = [:]
        /// Streamed responses that ended early because the client went away (or the site stopped).
        public var abortedStreams = 0
        /// Streamed responses written to the end. (Written means handed to the kernel: a client
        /// that gave up may not have read them.)
        public var completedStreams = 0
        /// TCP connections accepted so far.
        public var acceptedConnections = 0
        /// TCP connections open now. A client that keeps connections for reuse leaves them open;
        /// one that abandons a response must close its connection.
        public var openConnections = 0
    }

    /// How many distinct paths are counted one by one; the log stays bounded however many
    /// made-up URLs a client asks for.
    public static let maximumDistinctPaths = 100_000
    /// How many distinct user agents are counted one by one.
    public static let maximumDistinctUserAgents = 64

    private let state = NIOLockedValueBox(Snapshot())

    init() {}

    /// A consistent copy of every counter.
    public func snapshot() -> Snapshot {
        state.withLockedValue { $0 }
    }

    /// Requests received so far.
    public var totalRequests: Int { state.withLockedValue { state in state.totalRequests } }

    /// The most requests that were in flight at the same time since the site started (or since
    /// the last ``resetMaxInFlight()``).
    public var maxInFlight: Int { state.withLockedValue { state in state.maxInFlight } }

    /// Requests being handled right now.
    public var inFlight: Int { state.withLockedValue { state in state.inFlight } }

    /// How many requests asked for `path` (compared without query string).
    public func requests(to path: String) -> Int {
        state.withLockedValue { state in state.requestsByPath[path, default: 0] }
    }

    /// Restarts the in-flight high-water mark from the current in-flight count, so a test can
    /// measure one phase of a crawl on its own.
    public func resetMaxInFlight() {
        state.withLockedValue { state in state.maxInFlight = state.inFlight }
    }

    // MARK: Recording (the site's middleware and stream endpoints)

    func requestStarted(path: String, userAgent: String?) {
        state.withLockedValue { state in
            state.totalRequests += 1
            state.inFlight += 1
            state.maxInFlight = max(state.maxInFlight, state.inFlight)
            Self.increment(&state.requestsByPath, path, limit: Self.maximumDistinctPaths)
            Self.increment(&state.requestsByUserAgent, userAgent ?? "(none)", limit: Self.maximumDistinctUserAgents)
        }
    }

    func requestFinished() {
        state.withLockedValue { state in state.inFlight -= 1 }
    }

    func streamed(_ bytes: Int, path: String) {
        state.withLockedValue { state in state.streamedBytesByPath[path, default: 0] += bytes }
    }

    func streamEnded(completed: Bool) {
        state.withLockedValue { state in
            if completed { state.completedStreams += 1 } else { state.abortedStreams += 1 }
        }
    }

    func connectionOpened() {
        state.withLockedValue { state in
            state.acceptedConnections += 1
            state.openConnections += 1
        }
    }

    func connectionClosed() {
        state.withLockedValue { state in state.openConnections -= 1 }
    }

    private static func increment(_ counts: inout [String: Int], _ key: String, limit: Int) {
        if counts[key] != nil || counts.count < limit {
            counts[key, default: 0] += 1
        } else {
            counts["(other)", default: 0] += 1
        }
    }
}
