import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle

/// A local blog site shaped like the course's crawl target (cnblogs.com's `sitehome` list),
/// served by Hummingbird so crawls can run end to end with no network.
///
/// - `/sitehome/p/{n}` for `n` in `1...pages`: about 60 KB each, with `postsPerPage`
///   `<a class="post-item-title">` links to posts, a pager (first, previous, a few
///   pages around the current one, next, last: every list page is reachable through it), a
///   sidebar, navigation and footer;
/// - `/post/{id}.html`: a post, linking back to its list page;
/// - `/`: links the first list page; `/robots.txt`;
/// - with ``BlogSiteConfiguration/faults``, the endpoints of ``BlogSiteFault`` under `/faults/`.
///
/// Everything is derived from the seed, so ``expectedRecords(forPages:)`` knows exactly what a
/// correct crawl must produce. Pages are rendered once and served from memory.
///
/// Start it scoped with ``withBlogSite(_:logger:isolation:_:)`` (preferred), or with
/// ``start(_:logger:)`` and ``stop()``; `spindle site` uses ``serve(_:logger:onListening:)``.
public final class BlogSite: RunningServer {
    /// The configuration the site was started with (``BlogSiteConfiguration/port`` may be 0;
    /// ``baseURL`` has the real one).
    public let configuration: BlogSiteConfiguration
    /// `http://host:port`, with the port actually bound and no trailing slash.
    public let baseURL: URL
    /// The same as ``baseURL``, as a string.
    public let origin: String
    let state: BlogSiteState
    private let stopAction: @Sendable () async -> Void

    private init(configuration: BlogSiteConfiguration, origin: String, state: BlogSiteState, stop: @escaping @Sendable () async -> Void) {
        self.configuration = configuration
        self.origin = origin
        self.baseURL = URL(string: origin)!
        self.state = state
        self.stopAction = stop
    }

    /// Everything the site has been asked for so far.
    public var requestLog: BlogRequestLog { state.requestLog }

    /// Starts serving in a task of its own and returns once the site is listening. Call
    /// ``stop()`` when done.
    ///
    /// - Parameters:
    ///   - configuration: What to serve and where.
    ///   - logger: Where the server logs; by default only warnings and errors, to standard error.
    /// - Throws: ``BlogSiteConfigurationError`` for an invalid configuration; ``BlogSiteError``
    ///   when the site cannot listen (for example, the port is taken).
    public static func start(_ configuration: BlogSiteConfiguration = .init(), logger: Logger? = nil) async throws -> BlogSite {
        try configuration.validate()
        let state = BlogSiteState(configuration: configuration)
        do {
            // Graceful first (the listener closes, in-flight requests finish, stalled fault
            // responses are cut short); anything still running after the grace period is
            // cancelled.
            let (origin, stop) = try await ServerLifecycle.start(logger: logger ?? defaultLogger, gracePeriod: shutdownGracePeriod) {
                (listening: @escaping @Sendable (String) -> Void) in
                [makeApplication(state: state, logger: logger ?? defaultLogger) { origin in listening(origin) }]
            }
            return BlogSite(configuration: configuration, origin: origin, state: state, stop: stop)
        } catch {
            throw BlogSiteError("cannot listen on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// Serves until SIGINT or SIGTERM, then shuts down gracefully: in-flight requests finish,
    /// stalled fault responses are cut short.
    ///
    /// - Parameters:
    ///   - configuration: What to serve and where.
    ///   - logger: Where the server logs; by default only warnings and errors.
    ///   - onListening: Called once the site is listening, before it accepts connections;
    ///     return promptly. The handle's ``stop()`` starts the same graceful shutdown as a
    ///     signal and returns at once; `serve` returns when the site is down.
    /// - Throws: As ``start(_:logger:)``.
    public static func serve(
        _ configuration: BlogSiteConfiguration,
        logger: Logger? = nil,
        onListening: @escaping @Sendable (BlogSite) async -> Void
    ) async throws {
        try configuration.validate()
        let state = BlogSiteState(configuration: configuration)
        let logger = logger ?? defaultLogger
        do {
            try await ServerLifecycle.serve(logger: logger, gracePeriod: nil) { stop in
                [makeApplication(state: state, logger: logger) { origin in
                    await onListening(BlogSite(configuration: configuration, origin: origin, state: state, stop: stop))
                }]
            }
        } catch {
            throw BlogSiteError("cannot serve on \(configuration.host):\(configuration.port): \(error)")
        }
    }

    /// Stops serving and waits until the server is down: the listener closes, requests in
    /// flight finish (stalled fault responses end at once), and whatever still runs after
    /// ``shutdownGracePeriod`` is cancelled. Calling it again does nothing more.
    public func stop() async {
        await stopAction()
    }

    /// How long ``stop()`` lets requests in flight finish before it cancels them.
    public static let shutdownGracePeriod: Duration = .seconds(5)

    // MARK: URLs and expected crawl output

    /// The URL of `path` on this site (`path` starts with `/`).
    public func url(path: String) -> URL {
        URL(string: origin + path)!
    }

    /// The URL of list page `page`: `/sitehome/p/{page}`.
    public func listPageURL(_ page: Int) -> URL {
        url(path: "/sitehome/p/\(page)")
    }

    /// The URL where `fault` starts.
    public func url(for fault: BlogSiteFault) -> URL {
        url(path: fault.path)
    }

    /// The `a.post-item-title` links of the given list pages, in page order and document order:
    /// the list page's URL, the link's href made absolute, and the link text with HTML entities
    /// decoded and surrounding whitespace trimmed. Page numbers outside the site give nothing.
    public func expectedRecords(forPages pages: some Sequence<Int>) -> [BlogPostLink] {
        pages.flatMap { page in
            state.catalog.posts(onPage: page).map { post in
                BlogPostLink(pageURL: "\(origin)/sitehome/p/\(page)", href: origin + post.path, title: post.title)
            }
        }
    }

    /// The `a.post-item-title` links of every list page (see ``expectedRecords(forPages:)``).
    public func expectedRecords() -> [BlogPostLink] {
        expectedRecords(forPages: 1...configuration.pages)
    }

    /// The `a.post-item-title` links of a fault page (the ISO-8859-1 pages, the malformed page
    /// and the gzip page have some; the others none).
    public func expectedRecords(on fault: BlogSiteFault) -> [BlogPostLink] {
        BlogFaultPages(origin: origin, catalog: state.catalog).links(on: fault).map { link in
            BlogPostLink(pageURL: origin + fault.path, href: link.href, title: link.title)
        }
    }

    // MARK: Assembly

    private static let defaultLogger: Logger = {
        var logger = Logger(label: "spindle.site")
        logger.logLevel = .warning
        return logger
    }()

    private static func makeApplication(
        state: BlogSiteState,
        logger: Logger,
        onListening: @escaping @Sendable (String) async -> Void
    ) -> some ApplicationProtocol {
        let host = state.configuration.host
        let limits = HTTPConnectionLimits(
            idleTimeout: state.configuration.idleTimeout, headerTimeout: state.configuration.headerTimeout,
            maxConnections: state.configuration.maxConnections)
        return Application(
            router: state.makeRouter(),
            server: GuardedHTTP1Channel.builder(limits: limits, logger: logger) { _ in },
            configuration: .init(
                address: .hostname(host, port: state.configuration.port),
                backlog: 1024,
                availableConnectionsDelegate: ConnectionCounter(log: state.requestLog)
            ),
            onServerRunning: { channel in
                let origin = "http://\(linkHost(forBindHost: host)):\(channel.localAddress?.port ?? 0)"
                state.didBind(origin: origin)
                await onListening(origin)
            },
            logger: logger
        )
    }

    /// The host links name: the bound one, except that a wildcard bind is reached via loopback,
    /// and an IPv6 literal needs brackets.
    private static func linkHost(forBindHost host: String) -> String {
        switch host {
        case "0.0.0.0": "127.0.0.1"
        case "::", "[::]": "[::1]"
        default: host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        }
    }
}

/// Runs `body` with a blog site that is listening, and stops the site when `body` returns or
/// throws, like `HTTPClient.withHTTPClient`.
///
/// - Throws: What ``BlogSite/start(_:logger:)`` throws, or what `body` throws.
@discardableResult
public func withBlogSite<Result>(
    _ configuration: BlogSiteConfiguration = .init(),
    logger: Logger? = nil,
    isolation: isolated (any Actor)? = #isolation,
    _ body: (BlogSite) async throws -> Result
) async throws -> Result {
    try await withRunningServer(start: { try await BlogSite.start(configuration, logger: logger) }, body)
}

/// One `a.post-item-title` link as a crawl of the blog site must record it.
public struct BlogPostLink: Hashable, Sendable, CustomStringConvertible {
    /// The absolute URL of the page the link is on.
    public var pageURL: String
    /// The link's target, made absolute.
    public var href: String
    /// The link text: entities decoded, surrounding whitespace trimmed.
    public var title: String

    /// A record.
    public init(pageURL: String, href: String, title: String) {
        self.pageURL = pageURL
        self.href = href
        self.title = title
    }

    /// `pageURL → href "title"`.
    public var description: String { "\(pageURL) → \(href) \"\(title)\"" }
}

/// The blog site could not start or serve; the description says why.
public struct BlogSiteError: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}

/// Counts the site's TCP connections into its request log; never refuses one.
private struct ConnectionCounter: AvailableConnectionsDelegate {
    let log: BlogRequestLog

    func connectionOpened() { log.connectionOpened() }
    func connectionClosed() { log.connectionClosed() }
    func isAcceptingNewConnections() -> Bool { true }
}
