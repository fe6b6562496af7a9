import Logging
import PostgresNIO

/// The tables of a shared crawl frontier in PostgreSQL, created and migrated by Spindle.
///
/// `spindle_schema` holds the schema version; migrations run in a transaction under an
/// advisory lock, so crawlers starting together migrate once. Several crawls share the tables,
/// told apart by `crawl_id`:
/// - `spindle_crawls`: one row per crawl with its URL count (for `maxPages` across workers);
/// - `spindle_urls`: one row per crawl and canonical URL, with its state, lease owner and expiry;
/// - `spindle_records`: the records of done pages, in the order stored;
/// - `spindle_hosts` (version 2): per crawl and host, when the next request may start (`--delay`,
///   robots.txt `Crawl-delay`) for all workers;
/// - `spindle_robots` (version 2): per crawl and origin, robots.txt as fetched by the one worker
///   that claimed it, for the others to read.
///
/// Version 2 also adds `spindle_urls.report_token`: the token of the last lease or report that
/// changed the row, so a transaction retried after a lost connection can tell whether its first
/// attempt committed.
enum PostgresFrontierSchema {
    /// The schema version this Spindle writes.
    static let currentVersion = 2

    /// An arbitrary constant naming the advisory lock that serialises migrations.
    private static let migrationLockKey = 0x5350_494E_444C_45 // "SPINDLE"

    private static let migrations: [Int: [PostgresQuery]] = [
        1: [
            """
            CREATE TABLE spindle_crawls (
                crawl_id TEXT PRIMARY KEY,
                url_count BIGINT NOT NULL DEFAULT 0,
                created_at TIMESTAMPTZ NOT NULL DEFAULT now()
            )
            """,
            """
            CREATE TABLE spindle_urls (
                id BIGSERIAL PRIMARY KEY,
                crawl_id TEXT NOT NULL REFERENCES spindle_crawls(crawl_id),
                url TEXT NOT NULL,
                host TEXT NOT NULL,
                state TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'failed')),
                depth INTEGER NOT NULL,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT,
                not_before TIMESTAMPTZ,
                lease_owner TEXT,
                lease_expires TIMESTAMPTZ,
                added_at TIMESTAMPTZ NOT NULL,
                updated_at TIMESTAMPTZ NOT NULL,
                UNIQUE (crawl_id, url)
            )
            """,
            "CREATE INDEX spindle_urls_by_state ON spindle_urls (crawl_id, state, depth, id)",
            "CREATE INDEX spindle_urls_leases ON spindle_urls (crawl_id, lease_expires) WHERE state = 'leased'",
            """
            CREATE TABLE spindle_records (
                id BIGSERIAL PRIMARY KEY,
                crawl_id TEXT NOT NULL REFERENCES spindle_crawls(crawl_id),
                url_id BIGINT NOT NULL REFERENCES spindle_urls(id),
                kind TEXT NOT NULL CHECK (kind IN ('selection', 'page')),
                page TEXT NOT NULL,
                href TEXT,
                text TEXT,
                status INTEGER,
                bytes BIGINT,
                title TEXT
            )
            """,
            "CREATE INDEX spindle_records_by_crawl ON spindle_records (crawl_id, id)",
        ],
        2: [
            "ALTER TABLE spindle_urls ADD COLUMN report_token TEXT",
            """
            CREATE TABLE spindle_hosts (
                crawl_id TEXT NOT NULL REFERENCES spindle_crawls(crawl_id),
                host TEXT NOT NULL,
                next_allowed TIMESTAMPTZ,
                crawl_delay_ms BIGINT,
                PRIMARY KEY (crawl_id, host)
            )
            """,
            """
            CREATE TABLE spindle_robots (
                crawl_id TEXT NOT NULL REFERENCES spindle_crawls(crawl_id),
                origin TEXT NOT NULL,
                claimed_by TEXT NOT NULL,
                claimed_at TIMESTAMPTZ NOT NULL,
                status INTEGER,
                body BYTEA,
                error TEXT,
                fetched_at TIMESTAMPTZ,
                PRIMARY KEY (crawl_id, origin)
            )
            """,
        ],
    ]

    /// Creates or upgrades the tables, and registers `crawlID`.
    ///
    /// - Throws: ``FrontierError`` ``FrontierError/Code/incompatibleState`` when the database
    ///   was migrated by a newer Spindle.
    static func prepare(on connection: PostgresConnection, crawlID: String, logger: Logger) async throws {
        do {
            try await connection.query("SELECT pg_advisory_xact_lock(\(migrationLockKey))", logger: logger)
            try await connection.query("CREATE TABLE IF NOT EXISTS spindle_schema (version INTEGER NOT NULL)", logger: logger)
            var version = 0
            for try await found in try await connection.query("SELECT max(version) FROM spindle_schema", logger: logger).decode(Int?.self) {
                version = found ?? 0
            }
            if version > currentVersion {
                throw FrontierError(.incompatibleState, "the PostgreSQL frontier has schema version \(version), newer than this Spindle's \(currentVersion); upgrade spindle")
            }
            while version < currentVersion {
                version += 1
                for statement in migrations[version] ?? [] {
                    try await connection.query(statement, logger: logger)
                }
                try await connection.query("INSERT INTO spindle_schema (version) VALUES (\(version))", logger: logger)
            }
            try await connection.query(
                "INSERT INTO spindle_crawls (crawl_id) VALUES (\(crawlID)) ON CONFLICT (crawl_id) DO NOTHING",
                logger: logger
            )
        }
    }
}
