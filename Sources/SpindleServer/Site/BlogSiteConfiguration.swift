/// How a ``BlogSite`` is served: where it listens, how big it is, how slow it is, and whether
/// its fault endpoints are on.
public struct BlogSiteConfiguration: Sendable, Equatable {
    /// The address to bind. Loopback by default; `0.0.0.0` serves every interface (links then
    /// still name `127.0.0.1`).
    public var host: String
    /// The port to bind, or 0 for a free port chosen by the system (read it back from
    /// ``BlogSite/baseURL``).
    public var port: Int
    /// How many list pages (`/sitehome/p/1` through `/sitehome/p/{pages}`).
    public var pages: Int
    /// How many posts each list page links.
    public var postsPerPage: Int
    /// A delay added before every response, without holding a thread (the site sleeps the
    /// request's task).
    public var latency: Duration
    /// The seed every title, author and summary is drawn from.
    public var seed: UInt64
    /// Whether the `/faults/...` endpoints (see ``BlogSiteFault``) are served and linked.
    public var faults: Bool
    /// The `Crawl-delay` that `/robots.txt` declares, in seconds; none by default.
    public var crawlDelay: Double?
    /// A connection with no request in progress (before its first request, or idle between
    /// keep-alive requests) is closed after this long.
    public var idleTimeout: Duration
    /// A request's line and headers must arrive within this long, else 408 and the
    /// connection closes.
    public var headerTimeout: Duration
    /// The most client connections open at once; beyond it a new one is answered 503 (with
    /// `Retry-After: 1`) and closed at once, with one log line at most every 10 s.
    public var maxConnections: Int

    /// The largest site served. A list page's size does not grow with the page count (the
    /// pager links a window of pages), but the expected records of a crawl do.
    public static let maximumPages = 10_000
    /// The most posts one list page may link.
    public static let maximumPostsPerPage = 1_000

    /// A configuration; every parameter has the default of `spindle site`.
    public init(
        host: String = "127.0.0.1",
        port: Int = 0,
        pages: Int = 50,
        postsPerPage: Int = 20,
        latency: Duration = .zero,
        seed: UInt64 = 1,
        faults: Bool = false,
        crawlDelay: Double? = nil,
        idleTimeout: Duration = .seconds(60),
        headerTimeout: Duration = .seconds(10),
        maxConnections: Int = 10_000
    ) {
        self.host = host
        self.port = port
        self.pages = pages
        self.postsPerPage = postsPerPage
        self.latency = latency
        self.seed = seed
        self.faults = faults
        self.crawlDelay = crawlDelay
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxConnections = maxConnections
    }

    /// Checks every field and names the first one that is out of range.
    ///
    /// - Throws: ``BlogSiteConfigurationError`` naming the field, the value and the valid range.
    public func validate() throws {
        if host.isEmpty || host.contains(where: { $0 == "/" || $0.isWhitespace }) {
            throw BlogSiteConfigurationError("host must be an IP address or a host name, got \"\(host)\"")
        }
        if !(0...65_535).contains(port) {
            throw BlogSiteConfigurationError("port must be in 0...65535 (0 picks a free port), got \(port)")
        }
        if !(1...Self.maximumPages).contains(pages) {
            throw BlogSiteConfigurationError("pages must be in 1...\(Self.maximumPages), got \(pages)")
        }
        if !(1...Self.maximumPostsPerPage).contains(postsPerPage) {
            throw BlogSiteConfigurationError(
                "postsPerPage must be in 1...\(Self.maximumPostsPerPage), got \(postsPerPage)"
            )
        }
        if latency < .zero {
            throw BlogSiteConfigurationError("latency must not be negative, got \(latency)")
        }
        for (name, timeout) in [("idleTimeout", idleTimeout), ("headerTimeout", headerTimeout)]
        where timeout <= .zero || timeout > .seconds(86_400) {
            throw BlogSiteConfigurationError("\(name) must be positive and at most a day, got \(timeout)")
        }
        if !(1...1_000_000).contains(maxConnections) {
            throw BlogSiteConfigurationError("maxConnections must be in 1...1000000, got \(maxConnections)")
        }
        if let crawlDelay, !(crawlDelay >= 0 && crawlDelay.isFinite) {
            throw BlogSiteConfigurationError("crawlDelay must be a finite number of seconds ≥ 0, got \(crawlDelay)")
        }
    }
}

/// A ``BlogSiteConfiguration`` field is out of range; the description names it.
public struct BlogSiteConfigurationError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, naming the field and the value.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
