import Foundation
import Logging
import PostgresNIO
import SpindleCrawler
import NIOConcurrencyHelpers

/// A ``Frontier`` in PostgreSQL that several `spindle crawl` processes, on one machine or many,
/// share: each leases URLs with `SELECT … FOR UPDATE SKIP LOCKED`, so no two workers fetch the
/// same URL at once and none waits for another's locks.
///
/// Leases expire (``leaseDuration``, 60 s by default): a URL leased by a worker that died goes
/// to the next worker that asks once its lease is over. A worker whose lease expired and was
/// taken over gets ``FrontierError/Code/notLeased`` when it reports back, so a page is still
/// recorded once. Expiry is judged by the `now` the workers pass, so their clocks should agree
/// to well within the lease duration.
///
/// Several crawls share one database, told apart by ``crawlID``. The tables are created and
/// migrated on first use (see `spindle_schema`).
///
/// ```swift
/// let frontier = try await PostgresFrontier(url: "postgres://crawler@db.internal/crawls", crawlID: "blog-2025-06")
/// defer { Task { try await frontier.close() } }
/// ```
public final class PostgresFrontier: SharedFrontier {
    /// The limits applied when URLs are added. `maxPages` counts every worker's URLs.
    public let limits: FrontierLimits
    /// The crawl this frontier belongs to.
    public let crawlID: String
    /// This worker's name on its leases. A worker restarted with the same ID takes its own
    /// leases back at once with ``recoverAbandonedLeases()``; others wait for them to expire.
    public let workerID: String
    /// How long a lease lasts before another worker may take the URL over. A live worker
    /// renews its leases every third of it, so only a dead worker's leases expire.
    public let leaseDuration: Duration
    /// Per-host limits kept by all workers together (off unless given).
    public let politeness: HostPoliteness
    /// How long a lost server is waited for (calls retried with backoff) before calls throw.
    public let outageLimit: Duration
    /// `host:port` of the server, for messages.
    public let endpoint: String

    let client: PostgresClient
    /// For queries: the driver's chatter (such as a query queued before the pool ran) stays
    /// out of the crawl's log.
    let logger = Logger(label: "spindle.frontier.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    /// What this frontier has to say: a lost server, and its return.
    let eventLogger: Logger
    private let runTask: Task<Void, Never>
    private let renewTask: Task<Void, Never>
    private let closeState = CloseState()
    /// The URLs this process holds leases on, whose leases ``renewLeases()`` keeps alive. Only
    /// these: a lease committed by an attempt this worker gave up on is not kept alive, so it
    /// expires and goes to whoever asks next.
    let heldLeases = NIOLockedValueBox(Set<String>())

    /// Connects to PostgreSQL, creates or migrates the tables, and registers `crawlID`.
    ///
    /// - Parameters:
    ///   - configuration: Where the server is and how to log in.
    ///   - crawlID: The crawl to join; crawls with other IDs in the same database are separate.
    ///   - workerID: This worker's name on its leases; by default the host name, PID and a random suffix.
    ///   - leaseDuration: How long a lease lasts (default 60 s); longer than any fetch with retries.
    ///   - limits: Limits on the URLs added.
    ///   - politeness: Per-host limits shared by all workers (see ``HostPoliteness``).
    ///   - outageLimit: How long to wait out a lost server before calls throw (default 60 s).
    /// - Throws: ``FrontierError`` — ``FrontierError/Code/storageFailed`` when the server cannot
    ///   be reached or refuses the login, ``FrontierError/Code/incompatibleState`` when the
    ///   tables were written by a newer Spindle, ``FrontierError/Code/invalidArgument`` for an
    ///   empty crawl ID or a lease shorter than a second.
    public init(
        configuration: PostgresClient.Configuration,
        crawlID: String,
        workerID: String? = nil,
        leaseDuration: Duration = .seconds(60),
        limits: FrontierLimits = .unlimited,
        politeness: HostPoliteness = HostPoliteness(),
        outageLimit: Duration = .seconds(60),
        logger: Logger = Logger(label: "spindle.frontier.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws {
        guard !crawlID.isEmpty else { throw FrontierError(.invalidArgument, "the crawl ID must not be empty") }
        guard leaseDuration >= .seconds(1) else {
            throw FrontierError(.invalidArgument, "the lease duration must be at least 1 second, got \(leaseDuration)")
        }
        self.crawlID = crawlID
        self.workerID = workerID ?? "\(ProcessInfo.processInfo.hostName):\(ProcessInfo.processInfo.processIdentifier):\(UUID().uuidString.prefix(8))"
        self.leaseDuration = leaseDuration
        self.limits = limits
        self.politeness = politeness
        self.outageLimit = outageLimit
        eventLogger = logger
        endpoint = "\(configuration.host ?? "?"):\(configuration.port ?? 5432)"
        var configuration = configuration
        configuration.options.maximumConnections = min(configuration.options.maximumConnections, 8)
        // The pool's own chatter stays out of the crawl's log; this frontier logs what matters.
        let client = PostgresClient(configuration: configuration, backgroundLogger: self.logger)
        self.client = client
        runTask = Task { await client.run() }
        let renewal = RenewalHandle()
        renewTask = Task { [leaseDuration] in
            let period = max(leaseDuration / 3, .milliseconds(250))
            while (try? await Task.sleep(for: period)) != nil {
                guard let frontier = renewal.frontier else { return }
                try? await frontier.renewLeases()
            }
        }
        do {
            try await transaction("prepare the PostgreSQL frontier") { [crawlID, logger = self.logger] connection in
                try await PostgresFrontierSchema.prepare(on: connection, crawlID: crawlID, logger: logger)
            }
        } catch {
            runTask.cancel()
            renewTask.cancel()
            throw error
        }
        renewal.frontier = self
    }

    /// Connects with a `postgres://user:password@host:port/database?sslmode=disable` URL
    /// (see ``PostgresFrontier/configuration(url:)``).
    public convenience init(
        url: String, crawlID: String, workerID: String? = nil, leaseDuration: Duration = .seconds(60),
        limits: FrontierLimits = .unlimited, politeness: HostPoliteness = HostPoliteness(), outageLimit: Duration = .seconds(60),
        logger: Logger = Logger(label: "spindle.frontier.postgres", factory: { _ in SwiftLogNoOpLogHandler() })
    ) async throws {
        try await self.init(
            configuration: try Self.configuration(url: url), crawlID: crawlID, workerID: workerID,
            leaseDuration: leaseDuration, limits: limits, politeness: politeness, outageLimit: outageLimit, logger: logger
        )
    }

    deinit {
        renewTask.cancel()
        runTask.cancel()
    }

    private func release(_ url: CanonicalURL) {
        _ = heldLeases.withLockedValue { $0.remove(url.string) }
    }

    func closeStateCheck() throws {
        try closeState.checkOpen("PostgreSQL crawl \(crawlID)")
    }

    public func add(_ entries: [FrontierEntry]) async throws -> Int {
        try await transaction("add URLs") { connection in
            try await self.insert(entries, now: Date(), on: connection)
        }
    }

    public func lease(limit: Int, now: Date, excludingHosts: Set<String>, maxPerHost: Int) async throws -> [LeasedURL] {
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        guard limit > 0 else { return [] }
        let token = UUID().uuidString
        // Due pending URLs and expired leases, skipping rows other workers hold right now and
        // hosts at their shared limits (see ``HostPoliteness``).
        let leased = try await transaction("lease URLs", transactional: false) { connection, isRetry in
            try await self.leaseRows(
                limit: limit, now: now, excludingHosts: excludingHosts, maxPerHost: maxPerHost, token: token, isRetry: isRetry,
                on: connection)
        }
        heldLeases.withLockedValue { held in
            for lease in leased { held.insert(lease.url.string) }
        }
        return leased
    }

    public func complete(_ url: CanonicalURL, records: [CrawlRecord], discovered: [FrontierEntry]) async throws -> Int {
        let token = UUID().uuidString
        defer { release(url) }
        let links = discovered.filter { limits.admits(depth: $0.depth) }
        let json: String? = records.isEmpty ? nil : "[" + records.map(\.jsonLine).joined(separator: ",") + "]"
        let (outcome, detail, added) = try await transaction("complete \(url)", transactional: false) { connection, _ in
            let rows = try await connection.query("""
                SELECT outcome, detail, added FROM spindle_complete(
                    \(self.crawlID), \(self.workerID), \(url.string), \(token), \(Date()), \(self.limits.maxPages),
                    \(json), \(links.map(\.url.string)), \(links.map(\.url.authority)), \(links.map(\.depth)))
                """, logger: self.logger)
            var result: (String, String?, Int)?
            for try await row in rows.decode((String, String?, Int).self) { result = row }
            guard let result else { throw FrontierError(.storageFailed, "spindle_complete returned no row for \(url)") }
            return result
        }
        switch outcome {
        case "done": return added
        case "already": return 0
        case "owner": throw FrontierError(.notLeased, "\(url) cannot be reported back: its lease expired and worker \(detail ?? "?") took it over")
        case "state": throw FrontierError.notLeased(url, state: detail.flatMap(FrontierURLState.init(rawValue:)))
        default: throw FrontierError.notLeased(url, state: nil)
        }
    }

    public func retry(_ url: CanonicalURL, error: String, notBefore: Date) async throws {
        let token = UUID().uuidString
        defer { release(url) }
        try await transaction("retry \(url)") { connection in
            guard case .leased(let id) = try await self.reportTarget(url, token: token, on: connection) else { return }
            try await connection.query("""
                UPDATE spindle_urls SET state = 'pending', attempts = attempts + 1, last_error = \(error), not_before = \(notBefore),
                    lease_owner = NULL, lease_expires = NULL, report_token = \(token), updated_at = \(Date()) WHERE id = \(id)
                """, logger: self.logger)
        }
    }

    public func fail(_ url: CanonicalURL, error: String) async throws {
        let token = UUID().uuidString
        defer { release(url) }
        try await transaction("fail \(url)") { connection in
            guard case .leased(let id) = try await self.reportTarget(url, token: token, on: connection) else { return }
            try await connection.query("""
                UPDATE spindle_urls SET state = 'failed', attempts = attempts + 1, last_error = \(error),
                    lease_owner = NULL, lease_expires = NULL, report_token = \(token), updated_at = \(Date()) WHERE id = \(id)
                """, logger: self.logger)
        }
    }

    /// Returns to pending the leases this worker (``workerID``) holds and every expired lease of
    /// the crawl; live leases of other workers are left alone.
    public func recoverAbandonedLeases() async throws -> Int {
        try await transaction("recover leases") { connection in
            let now = Date()
            let rows = try await connection.query("""
                UPDATE spindle_urls SET state = 'pending', lease_owner = NULL, lease_expires = NULL, updated_at = \(now)
                WHERE crawl_id = \(self.crawlID) AND state = 'leased' AND (lease_owner = \(self.workerID) OR lease_expires < \(now))
                RETURNING id
                """, logger: self.logger)
            var count = 0
            for try await _ in rows { count += 1 }
            return count
        }
    }

    public func status() async throws -> FrontierStatus {
        try await transaction("read the status") { connection in
            var status = FrontierStatus()
            let rows = try await connection.query(
                "SELECT state, count(*) FROM spindle_urls WHERE crawl_id = \(self.crawlID) GROUP BY state", logger: self.logger)
            for try await (state, count) in rows.decode((String, Int).self) {
                switch FrontierURLState(rawValue: state) {
                case .pending: status.pending = count
                case .leased: status.leased = count
                case .done: status.done = count
                case .failed: status.failed = count
                case nil: break
                }
            }
            let records = try await connection.query(
                "SELECT count(*) FROM spindle_records WHERE crawl_id = \(self.crawlID)", logger: self.logger)
            for try await count in records.decode(Int.self) { status.records = count }
            return status
        }
    }

    public func isFinished() async throws -> Bool {
        try await transaction("check for work", transactional: false) { connection, _ in
            let rows = try await connection.query("""
                SELECT EXISTS (SELECT 1 FROM spindle_urls WHERE crawl_id = \(self.crawlID) AND state IN ('pending', 'leased'))
                """, logger: self.logger)
            var unfinished = true
            for try await exists in rows.decode(Bool.self) { unfinished = exists }
            return !unfinished
        }
    }

    /// How often a worker with nothing to do looks again, when other workers may still add
    /// work (their pages in flight) or free a host.
    static let idlePoll: TimeInterval = 0.025

    /// The earliest time a pending URL becomes due, as for any frontier, but never sooner than
    /// a short poll interval from now, and that poll interval while other workers still hold
    /// leases (their pages may add links): work appears here without this worker's doing, so
    /// an idle worker looks again shortly instead of ending or spinning. `nil` only when
    /// nothing is pending or leased.
    public func nextDueDate() async throws -> Date? {
        try await transaction("find the next due URL", transactional: false) { connection, _ in
            let rows = try await connection.query("""
                SELECT min(coalesce(not_before, added_at)) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'leased')
                FROM spindle_urls WHERE crawl_id = \(self.crawlID) AND state IN ('pending', 'leased')
                """, logger: self.logger)
            var due: Date?
            var leased = 0
            for try await (date, count) in rows.decode((Date?, Int).self) {
                due = date
                leased = count
            }
            let poll = Date().addingTimeInterval(Self.idlePoll)
            if let due { return max(due, poll) }
            return leased > 0 ? poll : nil
        }
    }

    public func info(for url: CanonicalURL) async throws -> FrontierURLInfo? {
        try await infos("WHERE crawl_id = \(crawlID) AND url = \(url.string)", limit: 1).first
    }

    public func urls(in state: FrontierURLState, limit: Int) async throws -> [FrontierURLInfo] {
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        return try await infos("WHERE crawl_id = \(crawlID) AND state = \(state.rawValue)", limit: limit)
    }

    public func records(after sequence: Int64, limit: Int) async throws -> [StoredRecord] {
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        return try await transaction("read records") { connection in
            let rows = try await connection.query("""
                SELECT id, kind, page, href, text, status, bytes, title FROM spindle_records
                WHERE crawl_id = \(self.crawlID) AND id > \(sequence) ORDER BY id LIMIT \(limit)
                """, logger: self.logger)
            var stored: [StoredRecord] = []
            for try await (id, kind, page, href, text, status, bytes, title) in rows.decode((Int64, String, String, String?, String?, Int?, Int?, String?).self) {
                let record: CrawlRecord = kind == "page"
                    ? .page(page: page, status: status ?? 0, bytes: bytes ?? 0, title: title)
                    : .selection(page: page, href: href, text: text ?? "")
                stored.append(StoredRecord(sequence: id, record: record))
            }
            return stored
        }
    }

    /// Stops the connection pool. Leases still held stay until they expire (or until a worker
    /// with the same ``workerID`` recovers them).
    public func close() async throws {
        guard closeState.markClosed() else { return }
        renewTask.cancel()
        runTask.cancel()
        await runTask.value
    }
}

/// Lets the lease-renewal task reach its frontier without keeping it alive.
private final class RenewalHandle: @unchecked Sendable {
    // Written once, before the renewal task's first tick reads it.
    weak var frontier: PostgresFrontier?
}
