import Foundation
import PostgresNIO
import Spindle
import SpindleCrawler
import NIOConcurrencyHelpers

extension PostgresFrontier {
    /// Per-host politeness that every worker of a crawl keeps together, through the database
    /// rather than per process: `spindle crawl --frontier … --per-host N --delay D`.
    ///
    /// - ``perHost``: live leases of one host over all workers. A URL waiting in a worker's
    ///   queue or being fetched is leased, so the requests in flight to a host, summed over the
    ///   workers, never exceed it.
    /// - ``delay``: the least time between two leases of one host's URLs over all workers (the
    ///   worker starts the fetch when its lease comes back); robots.txt `Crawl-delay`, once a
    ///   worker stored it (``SharedRobotsStore``), can make it longer.
    ///
    /// Leases of a crawl are then taken one worker at a time (a transaction-scoped advisory
    /// lock), so two workers never both see a free slot.
    public struct HostPoliteness: Sendable, Equatable {
        /// Live leases of one host at once over all workers; nil for no shared limit.
        public var perHost: Int?
        /// The least time between two leases of one host, over all workers.
        public var delay: Duration

        /// Politeness shared through the database; `HostPoliteness()` is off.
        public init(perHost: Int? = nil, delay: Duration = .zero) {
            self.perHost = perHost
            self.delay = delay
        }

        /// Whether leases consult the shared host state at all.
        public var isShared: Bool { perHost != nil || delay > .zero }
    }

    /// An arbitrary constant naming the advisory lock that serialises one crawl's leases.
    static let leaseLockKey: Int32 = 0x5350_4C45 // "SPLE"

    /// The lease itself (see ``lease(limit:now:excludingHosts:maxPerHost:)``): one call of
    /// `spindle_lease` (``PostgresFrontierSchema/leaseFunction``). `token` marks the rows leased,
    /// so a retry first returns what an attempt that committed without an answer (the
    /// connection dropped) leased.
    func leaseRows(
        limit: Int, now: Date, excludingHosts: Set<String>, maxPerHost: Int, token: String, isRetry: Bool,
        on connection: PostgresConnection
    ) async throws -> [LeasedURL] {
        if isRetry {
            let rows = try await connection.query("""
                SELECT url, depth, attempts FROM spindle_urls
                WHERE crawl_id = \(crawlID) AND state = 'leased' AND lease_owner = \(workerID) AND report_token = \(token)
                ORDER BY depth, id
                """, logger: logger)
            var earlier: [LeasedURL] = []
            for try await (text, depth, attempts) in rows.decode((String, Int, Int).self) {
                if let url = try? CanonicalURL(text) { earlier.append(LeasedURL(url: url, depth: depth, attempts: attempts)) }
            }
            if !earlier.isEmpty { return earlier }
        }
        // Enough rows that hosts at their limits can be skipped over, not so many that a lease
        // locks much of the crawl.
        let scan = min(max(limit * 4, 16), 1_000)
        let rows = try await connection.query("""
            SELECT url, depth, attempts FROM spindle_lease(
                \(crawlID), \(workerID), \(token), \(now), \(now.addingTimeInterval(leaseDuration.seconds)), \(limit),
                \(scan), \(Array(excludingHosts)), \(maxPerHost), \(politeness.isShared), \(politeness.perHost),
                \(Int(politeness.delay / .milliseconds(1))), \(Self.leaseLockKey))
            """, logger: logger)
        var leased: [LeasedURL] = []
        for try await (text, depth, attempts) in rows.decode((String, Int, Int).self) {
            if let url = try? CanonicalURL(text) { leased.append(LeasedURL(url: url, depth: depth, attempts: attempts)) }
        }
        return leased
    }

    /// Pushes back the expiry of every lease this worker holds (but rows its own reports are
    /// writing right now, which need no renewal and must not be waited for), so a live worker keeps its
    /// leases however long its pages take; only a worker that stopped renewing (it died, or
    /// lost the server for longer than a lease) has its leases taken over.
    func renewLeases() async throws {
        let held = Array(heldLeases.withLockedValue { $0 })
        guard !held.isEmpty else { return }
        try await transaction("renew leases") { connection in
            let now = Date()
            try await connection.query("""
                UPDATE spindle_urls SET lease_expires = \(now.addingTimeInterval(self.leaseDuration.seconds))
                WHERE id IN (
                    SELECT id FROM spindle_urls
                    WHERE crawl_id = \(self.crawlID) AND url = ANY(\(held)) AND state = 'leased' AND lease_owner = \(self.workerID)
                      AND lease_expires >= \(now)
                    FOR UPDATE SKIP LOCKED)
                """, logger: self.logger)
        }
    }
}
