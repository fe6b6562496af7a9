import Foundation
import PostgresNIO

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

    /// The lease itself (see ``lease(limit:now:excludingHosts:maxPerHost:)``), in the caller's
    /// transaction. `token` marks the rows leased, so a retried transaction first returns what
    /// an attempt that committed without an answer (the connection dropped) leased.
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
        var excluded = excludingHosts
        var room: [String: Int] = [:]
        var hostDelay: [String: Duration] = [:]
        if politeness.isShared {
            try await connection.query(
                "SELECT pg_advisory_xact_lock(\(Self.leaseLockKey), hashtext(\(crawlID)))", logger: logger)
            if let perHost = politeness.perHost {
                let live = try await connection.query("""
                    SELECT host, count(*) FROM spindle_urls
                    WHERE crawl_id = \(crawlID) AND state = 'leased' AND lease_expires >= \(now) GROUP BY host
                    """, logger: logger)
                for try await (host, count) in live.decode((String, Int).self) {
                    if count >= perHost { excluded.insert(host) } else { room[host] = perHost - count }
                }
            }
            let hosts = try await connection.query(
                "SELECT host, next_allowed, crawl_delay_ms FROM spindle_hosts WHERE crawl_id = \(crawlID)", logger: logger)
            for try await (host, nextAllowed, crawlDelay) in hosts.decode((String, Date?, Int64?).self) {
                if let nextAllowed, nextAllowed > now { excluded.insert(host) }
                if let crawlDelay { hostDelay[host] = max(politeness.delay, .milliseconds(crawlDelay)) }
            }
        }
        let scan = min(max(limit * 4, 64), 1_000)
        let rows = try await connection.query("""
            SELECT id, url, host, depth, attempts FROM spindle_urls
            WHERE crawl_id = \(crawlID)
              AND ((state = 'pending' AND (not_before IS NULL OR not_before <= \(now)))
                   OR (state = 'leased' AND lease_expires < \(now)))
              AND NOT (host = ANY(\(Array(excluded))))
            ORDER BY depth, id
            LIMIT \(scan)
            FOR UPDATE SKIP LOCKED
            """, logger: logger)
        var chosen: [Int64] = []
        var leased: [LeasedURL] = []
        var perHost: [String: Int] = [:]
        for try await (id, text, host, depth, attempts) in rows.decode((Int64, String, String, Int, Int).self) {
            guard leased.count < limit else { continue }
            var cap = min(maxPerHost, room[host] ?? politeness.perHost ?? .max)
            if hostDelay[host, default: politeness.delay] > .zero { cap = min(cap, 1) }
            // The cap first: parsing a URL costs more than the rest of the row.
            guard perHost[host, default: 0] < cap, let url = try? CanonicalURL(text) else { continue }
            perHost[host, default: 0] += 1
            chosen.append(id)
            leased.append(LeasedURL(url: url, depth: depth, attempts: attempts))
        }
        guard !chosen.isEmpty else { return [] }
        let expires = now.addingTimeInterval(leaseDuration.timeInterval)
        try await connection.query("""
            UPDATE spindle_urls SET state = 'leased', lease_owner = \(workerID), lease_expires = \(expires),
                report_token = \(token), updated_at = \(now)
            WHERE id = ANY(\(chosen))
            """, logger: logger)
        let delayed = perHost.keys.filter { hostDelay[$0, default: politeness.delay] > .zero }
        if politeness.isShared && !delayed.isEmpty {
            let next = delayed.map { now.addingTimeInterval(hostDelay[$0, default: politeness.delay].timeInterval) }
            try await connection.query("""
                INSERT INTO spindle_hosts (crawl_id, host, next_allowed)
                SELECT \(crawlID), h.host, h.next_allowed FROM unnest(\(delayed), \(next)) AS h(host, next_allowed)
                ON CONFLICT (crawl_id, host) DO UPDATE SET next_allowed = EXCLUDED.next_allowed
                """, logger: logger)
        }
        return leased
    }

    /// Pushes back the expiry of every lease this worker holds (but rows its own reports are
    /// writing right now, which need no renewal and must not be waited for), so a live worker keeps its
    /// leases however long its pages take; only a worker that stopped renewing (it died, or
    /// lost the server for longer than a lease) has its leases taken over.
    func renewLeases() async throws {
        let held = Array(heldLeases.withLock { $0 })
        guard !held.isEmpty else { return }
        try await transaction("renew leases") { connection in
            let now = Date()
            try await connection.query("""
                UPDATE spindle_urls SET lease_expires = \(now.addingTimeInterval(self.leaseDuration.timeInterval))
                WHERE id IN (
                    SELECT id FROM spindle_urls
                    WHERE crawl_id = \(self.crawlID) AND url = ANY(\(held)) AND state = 'leased' AND lease_owner = \(self.workerID)
                      AND lease_expires >= \(now)
                    FOR UPDATE SKIP LOCKED)
                """, logger: self.logger)
        }
    }
}
