import Foundation
import GRDB

/// A ``Frontier`` in an SQLite file (GRDB, WAL journal): the crawl state `spindle crawl --state`
/// resumes from.
///
/// One process owns the file at a time: opening takes an exclusive lock on `<path>-lock`, and a
/// second opener gets ``FrontierError/Code/stateInUse``. Because the owner is the only crawler,
/// every lease found at open time was left by a process that died, and goes back to pending
/// (``recoveredLeases`` says how many).
///
/// Memory stays flat as the crawl grows: the seen-set is the table's UNIQUE index, not a set in
/// memory. Each call is one transaction on prepared statements.
public final class SQLiteFrontier: Frontier {
    /// The limits applied when URLs are added.
    public let limits: FrontierLimits
    /// The database file.
    public let path: String
    /// How many leases a dead process had left, returned to pending when this frontier opened.
    public let recoveredLeases: Int

    /// Whether the file was opened with ``init(readingOnly:)``.
    public let isReadOnly: Bool

    /// A `DatabasePool` (WAL) for a crawl; a read-only `DatabaseQueue` for `init(readingOnly:)`.
    private let pool: any DatabaseWriter
    /// Held while this process owns the file; `nil` when read-only.
    private let fileLock: StateFileLock?
    private let closeState = CloseState()

    /// At most this many pending rows are examined per ``lease(limit:now:excludingHosts:maxPerHost:)``
    /// call, so a host with a huge backlog that is excluded costs bounded time.
    static let leaseScanLimit = 10_000

    /// Opens (creating if needed) the crawl state at `path`, migrates its schema and recovers
    /// leases a dead process left.
    ///
    /// - Throws: ``FrontierError`` — ``FrontierError/Code/stateInUse`` when another live crawl
    ///   holds the file, ``FrontierError/Code/incompatibleState`` when it is not a Spindle crawl
    ///   state (or was written by a newer one), ``FrontierError/Code/storageFailed`` when it
    ///   cannot be opened or created.
    public init(path: String, limits: FrontierLimits = .unlimited) throws {
        self.path = path
        self.limits = limits
        isReadOnly = false
        let fileLock = try StateFileLock(statePath: path)
        self.fileLock = fileLock
        do {
            let pool = try DatabasePool(path: path, configuration: SQLiteFrontierSchema.configuration())
            self.pool = pool
            try SQLiteFrontierSchema.migrate(pool, path: path)
            recoveredLeases = try pool.write { db in try Self.recoverLeases(db, now: Date()) }
        } catch {
            fileLock.release()
            throw Self.openingError(error, path: path)
        }
    }

    /// Opens the crawl state at `path` to read it only (``status()``, ``urls(in:limit:)``,
    /// ``forEachRecord(_:)``): no lock is taken, nothing is migrated or recovered, and the file
    /// and its folder may be read-only, such as a copy of a finished crawl's state. Calls that
    /// change the crawl fail with ``FrontierError/Code/storageFailed``.
    ///
    /// - Throws: ``FrontierError`` — ``FrontierError/Code/incompatibleState`` when the file is
    ///   not a Spindle crawl state, ``FrontierError/Code/storageFailed`` when it cannot be read
    ///   (it does not exist, or a crawl that was killed left its last changes in a `-wal` file
    ///   that a read-only folder keeps SQLite from reading).
    public init(readingOnly path: String) throws {
        self.path = path
        limits = .unlimited
        isReadOnly = true
        fileLock = nil
        recoveredLeases = 0
        guard FileManager.default.fileExists(atPath: path) else {
            throw FrontierError(.storageFailed, "cannot read the crawl state \(path): no such file")
        }
        do {
            var configuration = SQLiteFrontierSchema.configuration()
            configuration.readonly = true
            let queue = try DatabaseQueue(path: path, configuration: configuration)
            pool = queue
            try SQLiteFrontierSchema.checkReadable(queue, path: path)
        } catch {
            throw Self.openingError(error, path: path)
        }
    }

    /// The files a crawl state at `path` is kept in: the database, SQLite's `-wal`, `-shm` and
    /// `-journal` files, and the `-lock` file. Writing anything else to one of them destroys the
    /// crawl.
    public static func files(ofStateAt path: String) -> [String] {
        [path] + ["-wal", "-shm", "-journal", "-lock"].map { path + $0 }
    }

    private static func openingError(_ error: any Error, path: String) -> any Error {
        switch error {
        case let error as FrontierError:
            return error
        case let error as DatabaseError where error.resultCode == .SQLITE_NOTADB:
            return FrontierError(.incompatibleState, "\(path) is not an SQLite database; use another --state file")
        default:
            return FrontierError(.storageFailed, "cannot open the crawl state \(path): \(error)")
        }
    }

    deinit {
        fileLock?.release()
    }

    public func add(_ entries: [FrontierEntry]) async throws -> Int {
        let limits = limits
        return try await write { db in try Self.insert(entries, limits: limits, db: db, now: Date()) }
    }

    public func lease(limit: Int, now: Date, excludingHosts: Set<String>, maxPerHost: Int) async throws -> [LeasedURL] {
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        guard limit > 0 else { return [] }
        return try await write { db in
            try Self.lease(db, limit: limit, now: now, excludingHosts: excludingHosts, maxPerHost: maxPerHost)
        }
    }

    public func complete(_ url: CanonicalURL, records: [CrawlRecord], discovered: [FrontierEntry]) async throws -> Int {
        let limits = limits
        return try await write { db in
            let now = Date()
            let id = try Self.leasedID(url, db: db)
            try db.cachedStatement(sql: "UPDATE urls SET state = 'done', updated_at = ? WHERE id = ?")
                .execute(arguments: [now.timeIntervalSince1970, id])
            let insertRecord = try db.cachedStatement(sql: """
                INSERT INTO records (url_id, kind, page, href, text, status, bytes, title) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                """)
            for record in records {
                switch record {
                case .selection(let page, let href, let text):
                    try insertRecord.execute(arguments: [id, "selection", page, href, text, nil, nil, nil])
                case .page(let page, let status, let bytes, let title):
                    try insertRecord.execute(arguments: [id, "page", page, nil, nil, status, bytes, title])
                }
            }
            return try Self.insert(discovered, limits: limits, db: db, now: now)
        }
    }

    public func retry(_ url: CanonicalURL, error: String, notBefore: Date) async throws {
        try await write { db in
            let id = try Self.leasedID(url, db: db)
            try db.cachedStatement(sql: """
                UPDATE urls SET state = 'pending', attempts = attempts + 1, last_error = ?, not_before = ?, updated_at = ? WHERE id = ?
                """).execute(arguments: [error, notBefore.timeIntervalSince1970, Date().timeIntervalSince1970, id])
        }
    }

    public func fail(_ url: CanonicalURL, error: String) async throws {
        try await write { db in
            let id = try Self.leasedID(url, db: db)
            try db.cachedStatement(sql: """
                UPDATE urls SET state = 'failed', attempts = attempts + 1, last_error = ?, updated_at = ? WHERE id = ?
                """).execute(arguments: [error, Date().timeIntervalSince1970, id])
        }
    }

    public func recoverAbandonedLeases() async throws -> Int {
        try await write { db in try Self.recoverLeases(db, now: Date()) }
    }

    public func status() async throws -> FrontierStatus {
        try await read { db in
            var status = FrontierStatus()
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) FROM urls GROUP BY state") {
                let count: Int = row[1]
                switch FrontierURLState(rawValue: row[0]) {
                case .pending: status.pending = count
                case .leased: status.leased = count
                case .done: status.done = count
                case .failed: status.failed = count
                case nil: break
                }
            }
            status.records = try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM records") ?? 0
            return status
        }
    }

    public func isFinished() async throws -> Bool {
        try await read { db in
            let unfinished = try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM urls WHERE state IN ('pending', 'leased'))")
            return unfinished == false
        }
    }

    public func nextDueDate() async throws -> Date? {
        try await read { db in
            let row = try Row.fetchOne(db, sql: "SELECT MIN(not_before), MIN(added_at), COUNT(*) FROM urls WHERE state = 'pending'")
            guard let row, (row[2] as Int) > 0 else { return nil }
            let notBefore: Double = row[0]
            let addedAt: Double = row[1]
            // A `not_before` of 0 means "due since it was added": some URL is due already.
            return Date(timeIntervalSince1970: notBefore > 0 ? notBefore : addedAt)
        }
    }

    public func info(for url: CanonicalURL) async throws -> FrontierURLInfo? {
        try await read { db in
            try Row.fetchOne(db, sql: "SELECT \(Self.infoColumns) FROM urls WHERE url = ?", arguments: [url.string])
                .flatMap(Self.info(from:))
        }
    }

    public func urls(in state: FrontierURLState, limit: Int) async throws -> [FrontierURLInfo] {
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        return try await read { db in
            try Row.fetchAll(db, sql: "SELECT \(Self.infoColumns) FROM urls WHERE state = ? ORDER BY id LIMIT ?", arguments: [state.rawValue, limit])
                .compactMap(Self.info(from:))
        }
    }

    public func records(after sequence: Int64, limit: Int) async throws -> [StoredRecord] {
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        return try await read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT id, kind, page, href, text, status, bytes, title FROM records WHERE id > ? ORDER BY id LIMIT ?",
                arguments: [sequence, limit]
            ).map { row in
                let record: CrawlRecord = (row[1] as String) == "page"
                    ? .page(page: row[2], status: row[5], bytes: row[6], title: row[7])
                    : .selection(page: row[2], href: row[3], text: row[4] ?? "")
                return StoredRecord(sequence: row[0], record: record)
            }
        }
    }

    /// Closes the file. A crawl's state is left as one self-contained file: the write-ahead log
    /// is folded into it and the journal switched back to a rollback journal, so copying the
    /// file alone copies the whole crawl, and a read-only copy can be read
    /// (``init(readingOnly:)``). The next crawl that opens it switches it to WAL again.
    public func close() async throws {
        guard closeState.markClosed() else { return }
        defer { fileLock?.release() }
        do {
            try pool.close()
            if !isReadOnly {
                // The pool's connections are closed, and the lock keeps other crawls out, so
                // this one connection may change the journal mode.
                let queue = try DatabaseQueue(path: path, configuration: SQLiteFrontierSchema.configuration())
                try await queue.writeWithoutTransaction { db in
                    try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)")
                    try db.execute(sql: "PRAGMA journal_mode = DELETE")
                }
                try queue.close()
            }
        } catch {
            throw FrontierError(.storageFailed, "cannot close the crawl state \(path): \(error)")
        }
    }

    // MARK: - Running statements

    private func write<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try closeState.checkOpen(path)
        return try await mapErrors { try await pool.write(body) }
    }

    private func read<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try closeState.checkOpen(path)
        return try await mapErrors { try await pool.read(body) }
    }

    private func mapErrors<T>(_ body: () async throws -> T) async throws -> T {
        do {
            return try await body()
        } catch let error as FrontierError {
            throw error
        } catch let error as DatabaseError {
            throw FrontierError(.storageFailed, "crawl state \(path): \(error.message ?? "\(error.resultCode)")")
        }
    }
}
