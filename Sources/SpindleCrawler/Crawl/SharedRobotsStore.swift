import Foundation

/// robots.txt as one worker fetched it, kept for every worker of a shared crawl.
public struct SharedRobotsFile: Sendable, Equatable {
    /// The HTTP status of the answer; 0 when no answer came (see ``error``).
    public var status: Int
    /// The body (empty unless the status was a success).
    public var body: [UInt8]
    /// Why robots.txt could not be fetched at all (a timeout, a refused connection), if so.
    public var error: String?
    /// The `Crawl-delay` it sets for the crawler's user agent, applied to the host by all workers.
    public var crawlDelay: Duration?

    public init(status: Int, body: [UInt8], error: String? = nil, crawlDelay: Duration? = nil) {
        self.status = status
        self.body = body
        self.error = error
        self.crawlDelay = crawlDelay
    }

    /// The rules this file gives.
    public var policy: RobotsPolicy {
        if let error { return .unreachable(error) }
        return RobotsPolicy(response: status, body: body)
    }
}

/// A ``Frontier`` that keeps each origin's robots.txt for all the workers sharing a crawl, so it
/// is fetched once per origin for the whole crawl, not once per process (``PostgresFrontier``).
public protocol SharedRobotsStore: Sendable {
    /// The robots.txt of `origin`: the stored one if a worker fetched it already; otherwise, if
    /// this worker is the first to ask, the result of `fetch` (then stored for the others); if
    /// another worker is fetching it, that worker's result once stored.
    ///
    /// - Parameters:
    ///   - origin: Scheme, host and port, as ``CanonicalURL/origin``.
    ///   - host: The ``CanonicalURL/authority`` its `Crawl-delay` applies to.
    ///   - fetch: Fetches robots.txt; called at most once per origin and crawl (unless the
    ///     worker that claimed the fetch died before storing it).
    func sharedRobots(origin: String, host: String, fetch: @Sendable () async -> SharedRobotsFile) async throws -> SharedRobotsFile
}
