import Foundation

/// The crawl's source of truth: every URL it knows, the state of each, and the records fetched.
///
/// A crawl engine drives it in a loop:
///
/// ```swift
/// let frontier = try SQLiteFrontier(path: "crawl.sqlite", limits: FrontierLimits(maxPages: 500))
/// _ = try await frontier.add(seeds.map { FrontierEntry($0) })
/// while !(try await frontier.isFinished()) {
///     for leased in try await frontier.lease(limit: 8, now: Date(), excludingHosts: busyHosts, maxPerHost: 2) {
///         // fetch leased.url, then exactly one of:
///         _ = try await frontier.complete(leased.url, records: records, discovered: links)
///         try await frontier.retry(leased.url, error: "timeout", notBefore: Date() + backoff)
///         try await frontier.fail(leased.url, error: "404 Not Found")
///     }
/// }
/// try await frontier.close()
/// ```
///
/// Guarantees every implementation keeps:
/// - URLs are unique by ``CanonicalURL``: adding one twice adds it once, whatever its state.
/// - ``complete(_:records:discovered:)`` marks the URL done, stores its records and adds the
///   links found, all or nothing: a page is never recorded twice and no record is lost, even if
///   the process dies at any instant.
/// - A URL leased by a process that died goes back to pending (``recoverAbandonedLeases()``), so
///   a resumed crawl loses nothing; a URL recorded done is never leased again.
/// - Every URL ends done, or failed with a reason.
///
/// Per-host politeness is the caller's: pass the hosts that are at their concurrency limit or
/// inside their crawl delay as `excludingHosts`, so a slow host does not hold up the others.
public protocol Frontier: Sendable {
    /// The limits applied by ``add(_:)`` and to discovered links.
    var limits: FrontierLimits { get }

    /// Adds URLs not seen before as pending.
    ///
    /// Entries already known (in any state), repeated within `entries`, deeper than
    /// ``FrontierLimits/maxDepth`` or beyond ``FrontierLimits/maxPages`` are skipped.
    /// - Returns: How many were added.
    func add(_ entries: [FrontierEntry]) async throws -> Int

    /// Leases up to `limit` pending URLs that are due (`notBefore` ≤ `now`), shallowest first,
    /// then in the order they were added, and marks them leased.
    ///
    /// - Parameters:
    ///   - limit: The most URLs to return (0 returns none).
    ///   - now: The time used to decide which retries are due.
    ///   - excludingHosts: ``CanonicalURL/authority`` values to skip (hosts at their limit).
    ///   - maxPerHost: At most this many URLs of one host in this answer.
    /// - Returns: The leases; fewer than `limit` (or none) when not enough URLs are due. An
    ///   empty answer does not mean the crawl is over: see ``isFinished()`` and ``nextDueDate()``.
    func lease(limit: Int, now: Date, excludingHosts: Set<String>, maxPerHost: Int) async throws -> [LeasedURL]

    /// Marks a leased URL done, stores its records and adds the links found on it, in one
    /// transaction.
    ///
    /// - Returns: How many of `discovered` were new and added.
    /// - Throws: ``FrontierError`` with code ``FrontierError/Code/notLeased`` when `url` is not
    ///   leased (unknown, or already reported); nothing is stored then.
    func complete(_ url: CanonicalURL, records: [CrawlRecord], discovered: [FrontierEntry]) async throws -> Int

    /// Puts a leased URL back to pending after a failed attempt: `attempts` grows by one,
    /// `error` is kept as its last error, and it is not leased again before `notBefore`.
    ///
    /// - Throws: ``FrontierError`` (``FrontierError/Code/notLeased``) when `url` is not leased.
    func retry(_ url: CanonicalURL, error: String, notBefore: Date) async throws

    /// Gives up on a leased URL: it ends failed, with `error` as the reason; `attempts` grows by one.
    ///
    /// - Throws: ``FrontierError`` (``FrontierError/Code/notLeased``) when `url` is not leased.
    func fail(_ url: CanonicalURL, error: String) async throws

    /// Returns every leased URL to pending, for a crawl resuming after its process died.
    /// Only call it when no other process is crawling from this frontier.
    ///
    /// - Returns: How many leases were recovered.
    func recoverAbandonedLeases() async throws -> Int

    /// Counts per state, and the number of records.
    func status() async throws -> FrontierStatus

    /// Whether no URL is pending or leased: the crawl is over.
    func isFinished() async throws -> Bool

    /// The earliest time a pending URL becomes due, or `nil` when none is pending. A date at or
    /// before now means work is due (perhaps only on excluded hosts).
    func nextDueDate() async throws -> Date?

    /// What the frontier knows about `url`, or `nil` if it was never added.
    func info(for url: CanonicalURL) async throws -> FrontierURLInfo?

    /// Up to `limit` URLs in `state`, in the order they were added (for reports of failures).
    func urls(in state: FrontierURLState, limit: Int) async throws -> [FrontierURLInfo]

    /// Up to `limit` records stored after `sequence`, in the order they were stored. Start with
    /// `after: 0`, then pass the last ``StoredRecord/sequence`` returned.
    func records(after sequence: Int64, limit: Int) async throws -> [StoredRecord]

    /// Releases the frontier's resources (files, locks). Calls afterwards throw
    /// ``FrontierError/Code/closed``. Closing twice does nothing.
    func close() async throws
}

extension Frontier {
    /// Leases up to `limit` due URLs with no per-host cap (see
    /// ``lease(limit:now:excludingHosts:maxPerHost:)``).
    public func lease(limit: Int, now: Date = Date(), excludingHosts: Set<String> = []) async throws -> [LeasedURL] {
        try await lease(limit: limit, now: now, excludingHosts: excludingHosts, maxPerHost: .max)
    }

    /// Calls `body` with every record in the order stored, reading `batchSize` at a time so
    /// memory stays bounded however many there are (for `--export`).
    public func forEachRecord(batchSize: Int = 500, _ body: (CrawlRecord) async throws -> Void) async throws {
        var after: Int64 = 0
        while true {
            let batch = try await records(after: after, limit: max(1, batchSize))
            for stored in batch {
                try await body(stored.record)
            }
            guard let last = batch.last else { return }
            after = last.sequence
        }
    }

    /// Every record, in the order stored. Prefer ``forEachRecord(batchSize:_:)`` for big crawls.
    public func allRecords() async throws -> [CrawlRecord] {
        var all: [CrawlRecord] = []
        try await forEachRecord { all.append($0) }
        return all
    }
}
