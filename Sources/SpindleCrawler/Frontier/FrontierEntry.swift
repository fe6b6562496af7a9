import Foundation

/// A URL offered to a ``Frontier``: where to go and how many links away from a seed it is.
public struct FrontierEntry: Hashable, Sendable {
    /// The page to crawl.
    public var url: CanonicalURL
    /// Links followed from a seed to reach it: 0 for a seed.
    public var depth: Int

    /// An entry for `url` at `depth` (0 for a seed).
    public init(_ url: CanonicalURL, depth: Int = 0) {
        self.url = url
        self.depth = depth
    }
}

/// A URL the frontier handed out by ``Frontier/lease(limit:now:excludingHosts:maxPerHost:)``:
/// the caller fetches it, then reports back exactly once with ``Frontier/complete(_:records:discovered:)``,
/// ``Frontier/retry(_:error:notBefore:)`` or ``Frontier/fail(_:error:)``.
public struct LeasedURL: Hashable, Sendable {
    /// The page to fetch.
    public var url: CanonicalURL
    /// Links followed from a seed to reach it.
    public var depth: Int
    /// Failed attempts so far (0 on the first try); give it to ``RetryPolicy`` as the attempt.
    public var attempts: Int

    /// A lease (frontiers make these; public for tests and other frontier implementations).
    public init(url: CanonicalURL, depth: Int, attempts: Int) {
        self.url = url
        self.depth = depth
        self.attempts = attempts
    }

    /// The politeness key of the URL (``CanonicalURL/authority``: host and non-default port).
    public var host: String { url.authority }
}

/// Where a URL is in its life: every URL ends `done` or `failed`.
public enum FrontierURLState: String, Hashable, Sendable, CaseIterable, Codable {
    /// Waiting to be fetched (possibly not before a given time, after a failed attempt).
    case pending
    /// Handed to a fetcher that has not reported back yet.
    case leased
    /// Fetched and its records stored.
    case done
    /// Given up on; ``FrontierURLInfo/lastError`` says why.
    case failed
}

/// What a frontier knows about one URL.
public struct FrontierURLInfo: Hashable, Sendable {
    /// The URL.
    public var url: CanonicalURL
    /// Its state.
    public var state: FrontierURLState
    /// Links followed from a seed to reach it.
    public var depth: Int
    /// Failed attempts so far.
    public var attempts: Int
    /// Why the last attempt failed, if one did.
    public var lastError: String?
    /// Not to be leased before this time (retry backoff); `nil` when it may go at once.
    public var notBefore: Date?
    /// When it was added.
    public var addedAt: Date
    /// When its state last changed.
    public var updatedAt: Date

    /// A description of one URL (frontiers make these).
    public init(
        url: CanonicalURL, state: FrontierURLState, depth: Int, attempts: Int, lastError: String?,
        notBefore: Date?, addedAt: Date, updatedAt: Date
    ) {
        self.url = url
        self.state = state
        self.depth = depth
        self.attempts = attempts
        self.lastError = lastError
        self.notBefore = notBefore
        self.addedAt = addedAt
        self.updatedAt = updatedAt
    }

    /// The politeness key of the URL (``CanonicalURL/authority``).
    public var host: String { url.authority }
}

/// How many URLs are in each state, and how many records are stored.
public struct FrontierStatus: Hashable, Sendable, CustomStringConvertible {
    /// URLs waiting to be fetched.
    public var pending: Int
    /// URLs handed out and not yet reported back.
    public var leased: Int
    /// URLs fetched.
    public var done: Int
    /// URLs given up on.
    public var failed: Int
    /// Records stored.
    public var records: Int

    /// Counts (frontiers make these).
    public init(pending: Int = 0, leased: Int = 0, done: Int = 0, failed: Int = 0, records: Int = 0) {
        self.pending = pending
        self.leased = leased
        self.done = done
        self.failed = failed
        self.records = records
    }

    /// Every URL the frontier holds.
    public var total: Int { pending + leased + done + failed }

    /// Whether nothing is left to do: no URL pending or leased.
    public var isFinished: Bool { pending == 0 && leased == 0 }

    /// `pending 3, leased 1, done 10, failed 0, records 42`.
    public var description: String {
        "pending \(pending), leased \(leased), done \(done), failed \(failed), records \(records)"
    }
}

/// Limits a frontier enforces when URLs are added. Entries beyond a limit are dropped quietly
/// (they are not errors: a crawl with `--max-pages 100` is expected to find more links).
public struct FrontierLimits: Hashable, Sendable {
    /// At most this many URLs in total (seeds included), whatever their state; `nil` for no cap.
    public var maxPages: Int?
    /// Entries deeper than this are dropped; `nil` for no limit.
    public var maxDepth: Int?

    /// Limits; `nil` means unlimited.
    public init(maxPages: Int? = nil, maxDepth: Int? = nil) {
        self.maxPages = maxPages
        self.maxDepth = maxDepth
    }

    /// No limits.
    public static let unlimited = FrontierLimits()

    package func admits(depth: Int) -> Bool {
        maxDepth.map { depth <= $0 } ?? true
    }
}
