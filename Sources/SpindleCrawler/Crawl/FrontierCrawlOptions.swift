import Foundation

/// How a ``FrontierCrawl`` schedules and judges pages: concurrency, politeness, retries, what
/// to extract and which links to follow.
public struct FrontierCrawlOptions: Sendable {
    /// Where pages are fetched and parsed (see ``CrawlEngineKind``); every engine drives every
    /// frontier the same way.
    public var engine: CrawlEngineKind
    /// Pages in flight at once, over all hosts (``CrawlEngineKind/sequential`` runs 1).
    public var concurrency: Int
    /// Parser threads of the ``CrawlEngineKind/pipeline`` engine.
    public var parsers: Int
    /// Pages in flight at once on one host (``CanonicalURL/authority``).
    public var perHost: Int
    /// The least time between two request starts on one host; robots.txt `Crawl-delay` can
    /// make it longer.
    public var delay: Duration
    /// Whether robots.txt is fetched (once per host) and obeyed.
    public var obeyRobots: Bool
    /// When and how failed fetches are retried.
    public var retryPolicy: RetryPolicy
    /// What each page yields.
    public var extraction: RecordExtraction
    /// The links added to the frontier from each page: the `href` of every element matching
    /// it; nil follows nothing.
    public var follow: CSSSelector?
    /// Which links (and redirect targets) are in the crawl.
    public var scope: CrawlScope
    /// The most redirects followed for one URL.
    public var maxRedirects: Int
    /// How long in-flight pages may take to finish after a graceful stop before they are
    /// cancelled (their URLs stay resumable).
    public var stopGracePeriod: Duration

    /// The largest `concurrency` accepted: every page in flight may hold a thread and a body.
    public static let maximumConcurrency = 1_000
    /// The most parser threads accepted.
    public static let maximumParsers = 64

    /// Options; the defaults are those of `spindle crawl`. Without `follow`, the default scope
    /// admits every host: only redirects are checked against it.
    public init(
        engine: CrawlEngineKind = .async,
        concurrency: Int = 16,
        parsers: Int = 2,
        perHost: Int = 4,
        delay: Duration = .zero,
        obeyRobots: Bool = true,
        retryPolicy: RetryPolicy = RetryPolicy(),
        extraction: RecordExtraction = .pageSummary,
        follow: CSSSelector? = nil,
        scope: CrawlScope = .unrestricted,
        maxRedirects: Int = 5,
        stopGracePeriod: Duration = .seconds(5)
    ) {
        self.engine = engine
        self.concurrency = concurrency
        self.parsers = parsers
        self.perHost = perHost
        self.delay = delay
        self.obeyRobots = obeyRobots
        self.retryPolicy = retryPolicy
        self.extraction = extraction
        self.follow = follow
        self.scope = scope
        self.maxRedirects = maxRedirects
        self.stopGracePeriod = stopGracePeriod
    }

    /// Checks every field and names the first one out of range, in the words of this type.
    ///
    /// - Throws: ``CrawlInputError``.
    public func validate() throws(CrawlInputError) {
        guard (1...Self.maximumConcurrency).contains(concurrency) else {
            throw CrawlInputError("concurrency must be between 1 and \(Self.maximumConcurrency), got \(concurrency)")
        }
        guard (1...Self.maximumParsers).contains(parsers) else {
            throw CrawlInputError("parsers must be between 1 and \(Self.maximumParsers), got \(parsers)")
        }
        if perHost < 1 { throw CrawlInputError("perHost must be at least 1, got \(perHost)") }
        if delay < .zero { throw CrawlInputError("delay must not be negative, got \(delay)") }
        if maxRedirects < 0 { throw CrawlInputError("maxRedirects must not be negative, got \(maxRedirects)") }
        do {
            try retryPolicy.validate()
        } catch {
            throw CrawlInputError("retryPolicy: \(error.description)")
        }
    }

    /// `base` as this crawl needs it: redirects left to the crawl (which checks each hop against
    /// the scope, robots.txt and the seen-set), and enough connections per host that no page
    /// waits inside the fetcher for one (at least `concurrency` and `perHost`).
    public func fetchConfiguration(_ base: FetchConfiguration = .init()) -> FetchConfiguration {
        var configuration = base
        configuration.followRedirects = false
        configuration.maxConnectionsPerHost = max(configuration.maxConnectionsPerHost, concurrency, perHost)
        return configuration
    }
}

/// What a ``FrontierCrawl`` tells its observer, from the tasks of the pages concerned (so
/// possibly from several at once).
public enum FrontierCrawlEvent: Sendable {
    /// A fetch of `url` is starting; `attempt` is 0 the first time.
    case attempt(url: CanonicalURL, attempt: Int, at: Date)
    /// The page is done: its records and how many new links it added are stored.
    case done(url: CanonicalURL, records: [CrawlRecord], bytes: Int, added: Int)
    /// The attempt failed and the URL will be tried again, not before `notBefore`.
    case retrying(url: CanonicalURL, reason: String, notBefore: Date)
    /// The URL was given up on, for `reason`.
    case failed(url: CanonicalURL, reason: String)
    /// Something worth a log line that is not a page's outcome (an unreadable robots.txt, a
    /// redirect to a page already in the crawl).
    case note(String)
}

/// How a ``FrontierCrawl`` run ended, and what it did.
public struct FrontierCrawlSummary: Sendable, Equatable {
    /// Why the run returned.
    public typealias Ending = CrawlEnding

    /// Why the run returned.
    public var ending: Ending
    /// Pages this run marked done.
    public var done = 0
    /// Pages this run gave up on.
    public var failed = 0
    /// Attempts that will be retried.
    public var retries = 0
    /// Records stored by this run.
    public var records = 0
    /// Body bytes of the pages done.
    public var bytes = 0
    /// Wall time of the run.
    public var elapsed: Duration = .zero

    /// A summary (the crawl makes these).
    public init(ending: Ending) {
        self.ending = ending
    }
}

extension CrawlSummary {
    /// The summary of a frontier crawl's run, with what its frontier holds afterwards.
    public init(_ run: FrontierCrawlSummary, engine: CrawlEngineKind = .async, concurrency: Int, state: FrontierStatus) {
        self.init(
            engine: engine, concurrency: concurrency, pages: run.done + run.failed, failed: run.failed,
            records: run.records, bytes: run.bytes, elapsed: run.elapsed)
        ending = run.ending
        retries = run.retries
        self.state = state
    }
}
