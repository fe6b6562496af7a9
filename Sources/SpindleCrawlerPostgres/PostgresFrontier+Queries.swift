import Foundation
import PostgresNIO
import Spindle
import SpindleCrawler
import NIOConcurrencyHelpers

/// The statements ``PostgresFrontier`` shares between its calls, and its error mapping.
extension PostgresFrontier {
    /// Runs `body` in a transaction, turning database errors into ``FrontierError``.
    func transaction<T: Sendable>(_ what: String, _ body: @escaping @Sendable (PostgresConnection) async throws -> T) async throws -> T {
        try await transaction(what) { connection, _ in try await body(connection) }
    }

    /// Runs `body` in a transaction; when the connection to the server is lost, waits and runs
    /// it again (`isRetry` true) until the server answers or ``outageLimit`` has passed. A
    /// first attempt may have committed without its answer arriving: `body` must then find its
    /// own work done (the report tokens) rather than do it twice.
    ///
    /// - Throws: ``FrontierError`` — the database's error, or ``FrontierError/Code/storageFailed``
    ///   naming the outage once it lasted longer than ``outageLimit``.
    ///
    /// - Parameter transactional: `false` runs `body` on a connection without BEGIN and
    ///   COMMIT, for a body of one statement (which is its own transaction): two round trips
    ///   fewer.
    func transaction<T: Sendable>(
        _ what: String, transactional: Bool = true, _ body: @escaping @Sendable (PostgresConnection, _ isRetry: Bool) async throws -> T
    ) async throws -> T {
        let start = ContinuousClock.now
        var attempt = 0
        var pause = Duration.milliseconds(50)
        while true {
            try closeStateCheck()
            do {
                let budget = min(outageLimit - (ContinuousClock.now - start), Self.attemptLimit)
                let result = try await attemptTransaction(isRetry: attempt > 0, transactional: transactional, within: budget, body)
                if attempt > 0 {
                    eventLogger.notice("PostgreSQL frontier: the server answers again; going on")
                }
                return result
            } catch {
                let cause = Self.underlying(error)
                guard Self.isConnectionLoss(cause) else { throw Self.frontierError(cause, doing: what) }
                let waited = ContinuousClock.now - start
                if waited >= outageLimit {
                    throw FrontierError(.storageFailed, """
                        PostgreSQL frontier: cannot \(what): the server at \(endpoint) did not answer for \(String(format: "%.1f s", waited.seconds)) \
                        (limit \(outageLimit)): \(Self.describe(cause)). Nothing is lost: run the same command again when the server is back
                        """)
                }
                if attempt == 0 {
                    eventLogger.warning("PostgreSQL frontier: cannot \(what) on the server at \(endpoint) (\(Self.describe(cause))); retrying for up to \(outageLimit)")
                }
                attempt += 1
                try await Task.sleep(for: min(pause, outageLimit - waited))
                pause = min(pause * 2, .seconds(2))
            }
        }
    }

    /// The longest one attempt of a transaction may take before it counts as lost: a
    /// connection closed under a transaction can leave its call unanswered.
    static let attemptLimit: Duration = .seconds(15)

    /// One attempt of a transaction, given up (as a lost server) after `budget`: the pool waits
    /// for a server that went away rather than failing at once, and a call on a connection
    /// closed mid-transaction may never return, so the attempt runs in a task of its own that
    /// is abandoned (cancelled, not awaited) when the budget is spent. Should it still commit
    /// later, the next attempt finds its work through the report tokens.
    private func attemptTransaction<T: Sendable>(
        isRetry: Bool, transactional: Bool, within budget: Duration, _ body: @escaping @Sendable (PostgresConnection, Bool) async throws -> T
    ) async throws -> T {
        let outcome = OneShot<T>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { continuation in
                outcome.start(continuation)
                let client = client
                let logger = logger
                let work = Task {
                    do {
                        let result = transactional
                            ? try await client.withTransaction(logger: logger) { connection in try await body(connection, isRetry) }
                            : try await client.withConnection { connection in try await body(connection, isRetry) }
                        outcome.finish(.success(result))
                    } catch {
                        outcome.finish(.failure(error))
                    }
                }
                let timer = Task {
                    try? await Task.sleep(for: max(budget, .milliseconds(1)))
                    work.cancel()
                    outcome.finish(.failure(OutageTimeout()))
                }
                outcome.onFinish { timer.cancel() }
            }
        } onCancel: {
            outcome.finish(.failure(CancellationError()))
        }
    }

    /// The error inside a transaction's wrapper.
    static func underlying(_ error: any Error) -> any Error {
        if let error = error as? PostgresTransactionError,
           let cause = error.closureError ?? error.beginError ?? error.commitError {
            return underlying(cause)
        }
        return error
    }

    /// Whether `error` means the server went away (a dropped or refused connection, a server
    /// shutting down or starting up) rather than a statement that failed: the former is worth
    /// waiting out, the latter is not.
    static func isConnectionLoss(_ error: any Error) -> Bool {
        if error is OutageTimeout { return true }
        if error is FrontierError || error is CancellationError { return false }
        guard let error = error as? PSQLError else { return true } // pool and channel errors
        if let state = error.serverInfo?[.sqlState] {
            // 08: connection exception; 57P: admin shutdown, crash shutdown, cannot connect now;
            // 53300: too many connections; 40001/40P01: serialization failure, deadlock.
            return state.hasPrefix("08") || state.hasPrefix("57P") || ["53300", "40001", "40P01"].contains(state)
        }
        switch error.code {
        case .connectionError, .serverClosedConnection, .uncleanShutdown, .clientClosedConnection: return true
        default: return false
        }
    }

    static func describe(_ error: any Error) -> String {
        if error is OutageTimeout { return "no answer within \(attemptLimit) per attempt" }
        if let error = error as? PSQLError {
            return error.serverInfo?[.message] ?? error.underlying.map { "\(error.code): \($0)" } ?? "\(error.code)"
        }
        return "\(error)"
    }

    /// Inserts the entries not already known within ``FrontierLimits``; returns how many were
    /// new. Reports insert the links they found in `spindle_complete`, in the same order of
    /// locks (see ``PostgresFrontierSchema/completeFunction``).
    ///
    /// With a cap the crawl's row is locked first (FOR NO KEY UPDATE, which does not conflict
    /// with the key-share locks inserted records take through their foreign key), so that
    /// `maxPages` holds exactly across workers; without one it is locked last, to add to the
    /// URL count, so inserting transactions wait for each other only on URLs they both insert.
    func insert(_ entries: [FrontierEntry], now: Date, on connection: PostgresConnection) async throws -> Int {
        var candidates = entries.filter { limits.admits(depth: $0.depth) }
        guard !candidates.isEmpty else { return 0 }
        var remaining = Int.max
        if let maxPages = limits.maxPages {
            let counts = try await connection.query(
                "SELECT url_count FROM spindle_crawls WHERE crawl_id = \(crawlID) FOR NO KEY UPDATE", logger: logger)
            for try await count in counts.decode(Int.self) { remaining = max(0, maxPages - count) }
        }
        var added = 0
        // Without a cap one statement inserts everything; with one, insert in slices no larger
        // than the room left, since only the database knows which entries are new.
        while !candidates.isEmpty && remaining > 0 {
            let slice = Array(candidates.prefix(remaining))
            candidates.removeFirst(slice.count)
            let rows = try await connection.query("""
                INSERT INTO spindle_urls (crawl_id, url, host, state, depth, added_at, updated_at)
                SELECT \(crawlID), e.url, e.host, 'pending', e.depth, \(now), \(now)
                FROM unnest(\(slice.map(\.url.string)), \(slice.map(\.url.authority)), \(slice.map(\.depth))) WITH ORDINALITY
                     AS e(url, host, depth, position)
                ORDER BY e.position
                ON CONFLICT (crawl_id, url) DO NOTHING
                RETURNING id
                """, logger: logger)
            var inserted = 0
            for try await _ in rows { inserted += 1 }
            added += inserted
            if remaining != .max { remaining -= inserted }
        }
        if added > 0 {
            try await connection.query(
                "UPDATE spindle_crawls SET url_count = url_count + \(added) WHERE crawl_id = \(crawlID)", logger: logger)
        }
        return added
    }

    /// What a report (complete, retry, fail) finds on the row of `url`.
    enum ReportTarget {
        /// Leased by this worker: go ahead.
        case leased(Int64)
        /// Already changed by this very report (`token`): an earlier attempt committed but its
        /// answer was lost with the connection.
        case alreadyReported
    }

    /// The row of `url` if this worker may report it back: leased by this worker (an expired
    /// lease nobody took over is still good), or already reported under `token`.
    func reportTarget(_ url: CanonicalURL, token: String, on connection: PostgresConnection) async throws -> ReportTarget {
        let rows = try await connection.query("""
            SELECT id, state, lease_owner, report_token FROM spindle_urls WHERE crawl_id = \(crawlID) AND url = \(url.string) FOR UPDATE
            """, logger: logger)
        // Read to the end before deciding: a row stream left half read holds the connection.
        var found: [(Int64, String, String?, String?)] = []
        for try await row in rows.decode((Int64, String, String?, String?).self) { found.append(row) }
        for (id, state, owner, lastToken) in found {
            if lastToken == token { return .alreadyReported }
            guard state == FrontierURLState.leased.rawValue else {
                throw FrontierError.notLeased(url, state: FrontierURLState(rawValue: state))
            }
            guard owner == workerID else {
                throw FrontierError(.notLeased, "\(url) cannot be reported back: its lease expired and worker \(owner ?? "?") took it over")
            }
            return .leased(id)
        }
        throw FrontierError.notLeased(url, state: nil)
    }

    func infos(_ condition: PostgresQuery, limit: Int) async throws -> [FrontierURLInfo] {
        var query: PostgresQuery = """
            SELECT url, state, depth, attempts, last_error, not_before, added_at, updated_at FROM spindle_urls
            """
        query.sql += " " + condition.sql + " ORDER BY id LIMIT \(max(0, limit))"
        query.binds = condition.binds
        return try await transaction("read URLs") { [query] connection in
            var infos: [FrontierURLInfo] = []
            let rows = try await connection.query(query, logger: self.logger)
            for try await (text, state, depth, attempts, lastError, notBefore, addedAt, updatedAt)
                in rows.decode((String, String, Int, Int, String?, Date?, Date, Date).self) {
                guard let url = try? CanonicalURL(text), let state = FrontierURLState(rawValue: state) else { continue }
                infos.append(FrontierURLInfo(
                    url: url, state: state, depth: depth, attempts: attempts, lastError: lastError,
                    notBefore: notBefore, addedAt: addedAt, updatedAt: updatedAt
                ))
            }
            return infos
        }
    }

    static func frontierError(_ error: any Error, doing what: String) -> FrontierError {
        let error = underlying(error)
        if let error = error as? FrontierError { return error }
        return FrontierError(.storageFailed, "PostgreSQL frontier: cannot \(what): \(describe(error))")
    }

    /// A client configuration from `postgres://user:password@host:port/database`; the query
    /// parameter `sslmode` is `disable`, `prefer` (the default) or `require`.
    ///
    /// - Throws: ``FrontierError`` ``FrontierError/Code/invalidArgument`` naming what is wrong.
    public static func configuration(url text: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: text), let scheme = components.scheme,
              scheme == "postgres" || scheme == "postgresql" else {
            throw FrontierError(.invalidArgument, "\"\(text)\" is not a postgres:// URL")
        }
        guard let host = components.host, !host.isEmpty else {
            throw FrontierError(.invalidArgument, "\"\(text)\" has no host")
        }
        let user = components.user ?? "postgres"
        let database = components.path.count > 1 ? String(components.path.dropFirst()) : nil
        let mode = components.queryItems?.first { $0.name == "sslmode" }?.value ?? "prefer"
        let tls: PostgresClient.Configuration.TLS
        switch mode {
        case "disable": tls = .disable
        case "prefer": tls = .prefer(.makeClientConfiguration())
        case "require": tls = .require(.makeClientConfiguration())
        default: throw FrontierError(.invalidArgument, "sslmode must be disable, prefer or require, got \"\(mode)\"")
        }
        return PostgresClient.Configuration(
            host: host, port: components.port ?? 5432, username: user,
            password: components.password, database: database, tls: tls
        )
    }
}

/// A transaction attempt that found no server before the outage limit.
struct OutageTimeout: Error {}


/// The first of several outcomes, delivered to one continuation once.
private final class OneShot<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
        var cleanup: (@Sendable () -> Void)?
    }
    private let state = NIOLockedValueBox(State())

    func start(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLockedValue { state -> Result<T, any Error>? in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
        let now = state.withLockedValue { state -> Bool in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if now { cleanup() }
    }

    func finish(_ result: Result<T, any Error>) {
        let (continuation, cleanup) = state.withLockedValue { state -> (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?) in
            guard !state.done else { return (nil, nil) }
            state.done = true
            defer { state.continuation = nil; state.cleanup = nil }
            if state.continuation == nil { state.early = result }
            return (state.continuation, state.cleanup)
        }
        continuation?.resume(with: result)
        cleanup?()
    }
}
