import Logging
import PostgresNIO
import SpindleCrawler

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
/// attempt committed. Version 3 adds the functions `spindle_complete` and `spindle_lease`, which
/// report a page and lease URLs in one round trip each (see ``completeFunction`` and
/// ``leaseFunction``).
enum PostgresFrontierSchema {
    /// The schema version this Spindle writes.
    static let currentVersion = 3

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
        3: [completeFunction, leaseFunction],
    ]

    /// `spindle_lease(...)`: due pending URLs and expired leases, shallowest first, skipping
    /// rows other workers hold right now, excluded hosts and hosts at their limits; marks them
    /// leased by the worker until `expires` and returns them (url, depth, attempts). One round
    /// trip, where the statements it runs took seven.
    ///
    /// With shared politeness (`shared`) it first takes the crawl's lease lock (an advisory
    /// lock held to the end of the statement's transaction, so leases are taken one worker at a
    /// time), adds the hosts whose live leases reached `per_host` or whose next allowed start
    /// is later to the excluded ones, caps each host at its remaining room and at one URL when
    /// a delay applies (`delay_ms`, or the host's robots.txt `Crawl-delay` if longer), and sets
    /// the next allowed start of the delayed hosts it leased. `max_per_host` caps every host.
    static let leaseFunction: PostgresQuery = """
        CREATE OR REPLACE FUNCTION spindle_lease(
            p_crawl TEXT, p_worker TEXT, p_token TEXT, p_now TIMESTAMPTZ, p_expires TIMESTAMPTZ, p_limit BIGINT,
            p_scan BIGINT, p_excluded TEXT[], p_max_per_host BIGINT, p_shared BOOLEAN, p_per_host BIGINT,
            p_delay_ms BIGINT, p_lock_key INTEGER
        ) RETURNS TABLE (url TEXT, depth INTEGER, attempts INTEGER)
        LANGUAGE plpgsql AS $$
        #variable_conflict use_column
        DECLARE
            v_excluded TEXT[] := coalesce(p_excluded, '{}');
            v_ids BIGINT[];
        BEGIN
            IF p_shared THEN
                PERFORM pg_advisory_xact_lock(p_lock_key, hashtext(p_crawl));
                IF p_per_host IS NOT NULL THEN
                    v_excluded := v_excluded || ARRAY(
                        SELECT u.host FROM spindle_urls u
                        WHERE u.crawl_id = p_crawl AND u.state = 'leased' AND u.lease_expires >= p_now
                        GROUP BY u.host HAVING count(*) >= p_per_host);
                END IF;
                v_excluded := v_excluded || ARRAY(
                    SELECT h.host FROM spindle_hosts h WHERE h.crawl_id = p_crawl AND h.next_allowed > p_now);
            END IF;
            WITH candidates AS (
                SELECT u.id, u.host, u.depth AS d FROM spindle_urls u
                WHERE u.crawl_id = p_crawl
                  AND ((u.state = 'pending' AND (u.not_before IS NULL OR u.not_before <= p_now))
                       OR (u.state = 'leased' AND u.lease_expires < p_now))
                  AND NOT (u.host = ANY(v_excluded))
                ORDER BY u.depth, u.id
                LIMIT p_scan
                FOR UPDATE SKIP LOCKED
            ), live AS (
                SELECT u.host, count(*) AS n FROM spindle_urls u
                WHERE p_shared AND p_per_host IS NOT NULL AND u.crawl_id = p_crawl AND u.state = 'leased'
                  AND u.lease_expires >= p_now AND u.host IN (SELECT c.host FROM candidates c)
                GROUP BY u.host
            ), ranked AS (
                SELECT c.id, c.d,
                       row_number() OVER (PARTITION BY c.host ORDER BY c.d, c.id) AS k,
                       least(
                           p_max_per_host,
                           CASE WHEN p_shared AND p_per_host IS NOT NULL THEN p_per_host - coalesce(l.n, 0) ELSE p_max_per_host END,
                           CASE WHEN greatest(p_delay_ms, CASE WHEN p_shared THEN h.crawl_delay_ms END) > 0 THEN 1 ELSE p_max_per_host END
                       ) AS cap
                FROM candidates c
                LEFT JOIN live l ON l.host = c.host
                LEFT JOIN spindle_hosts h ON h.crawl_id = p_crawl AND h.host = c.host
            )
            SELECT array_agg(r.id ORDER BY r.d, r.id) INTO v_ids
            FROM (SELECT r.id, r.d FROM ranked r WHERE r.k <= r.cap ORDER BY r.d, r.id LIMIT p_limit) r;
            IF v_ids IS NULL THEN
                RETURN;
            END IF;
            UPDATE spindle_urls u SET state = 'leased', lease_owner = p_worker, lease_expires = p_expires,
                   report_token = p_token, updated_at = p_now
                WHERE u.id = ANY(v_ids);
            IF p_shared THEN
                INSERT INTO spindle_hosts (crawl_id, host, next_allowed)
                SELECT p_crawl, x.host, p_now + make_interval(secs => x.delay_ms / 1000.0)
                FROM (
                    SELECT DISTINCT u.host, greatest(p_delay_ms, h.crawl_delay_ms) AS delay_ms
                    FROM spindle_urls u LEFT JOIN spindle_hosts h ON h.crawl_id = p_crawl AND h.host = u.host
                    WHERE u.id = ANY(v_ids)
                ) x
                WHERE x.delay_ms > 0
                ON CONFLICT (crawl_id, host) DO UPDATE SET next_allowed = EXCLUDED.next_allowed;
            END IF;
            RETURN QUERY SELECT u.url, u.depth, u.attempts FROM spindle_urls u WHERE u.id = ANY(v_ids) ORDER BY u.depth, u.id;
        END
        $$
        """

    /// `spindle_complete(crawl, worker, url, token, now, max_pages, records, urls, hosts, depths)`:
    /// a page's report as one statement, so one round trip and plans PostgreSQL keeps, instead
    /// of a transaction of six. Returns one row (outcome, detail, added): `done` with the number
    /// of new URLs; `already` when a report with this token committed before; `missing`, `state`
    /// (detail: the state) or `owner` (detail: the worker holding the lease) when the row is not
    /// this worker's lease.
    ///
    /// The order of its steps keeps workers from deadlocking: the crawl's row first only with a
    /// cap; the page's own row is locked, then its records and links inserted, then the row
    /// updated; the URL count last. Updating the row puts a new entry in the unique index on
    /// its URL, which another worker inserting that URL as a link must wait for; were the
    /// update first, that worker could be waiting while holding the crawl's row, which this
    /// one then waits for. (Workers that insert the same new links in opposite orders can
    /// still deadlock; PostgreSQL breaks that, and the loser's call is run again.)
    static let completeFunction: PostgresQuery = """
        CREATE OR REPLACE FUNCTION spindle_complete(
            p_crawl TEXT, p_worker TEXT, p_url TEXT, p_token TEXT, p_now TIMESTAMPTZ, p_max_pages BIGINT,
            p_records TEXT, p_urls TEXT[], p_hosts TEXT[], p_depths BIGINT[]
        ) RETURNS TABLE (outcome TEXT, detail TEXT, added BIGINT)
        LANGUAGE plpgsql AS $$
        #variable_conflict use_column
        DECLARE
            v_id BIGINT;
            v_state TEXT;
            v_owner TEXT;
            v_token TEXT;
            v_room BIGINT;
            v_added BIGINT := 0;
            v_count BIGINT;
            i INTEGER;
        BEGIN
            IF p_max_pages IS NOT NULL THEN
                SELECT url_count INTO v_count FROM spindle_crawls WHERE crawl_id = p_crawl FOR NO KEY UPDATE;
                v_room := greatest(0, p_max_pages - coalesce(v_count, 0));
            END IF;
            SELECT u.id, u.state, u.lease_owner, u.report_token INTO v_id, v_state, v_owner, v_token
                FROM spindle_urls u WHERE u.crawl_id = p_crawl AND u.url = p_url FOR UPDATE;
            IF NOT FOUND THEN
                RETURN QUERY SELECT 'missing'::TEXT, NULL::TEXT, 0::BIGINT;
                RETURN;
            ELSIF v_token = p_token THEN
                RETURN QUERY SELECT 'already'::TEXT, NULL::TEXT, 0::BIGINT;
                RETURN;
            ELSIF v_state <> 'leased' THEN
                RETURN QUERY SELECT 'state'::TEXT, v_state, 0::BIGINT;
                RETURN;
            ELSIF v_owner IS DISTINCT FROM p_worker THEN
                RETURN QUERY SELECT 'owner'::TEXT, v_owner, 0::BIGINT;
                RETURN;
            END IF;
            IF p_records IS NOT NULL THEN
                INSERT INTO spindle_records (crawl_id, url_id, kind, page, href, text, status, bytes, title)
                SELECT p_crawl, v_id, CASE WHEN r.value ? 'status' THEN 'page' ELSE 'selection' END,
                       r.value->>'page', r.value->>'href', r.value->>'text', (r.value->>'status')::INT,
                       (r.value->>'bytes')::BIGINT, r.value->>'title'
                FROM jsonb_array_elements(p_records::JSONB) WITH ORDINALITY AS r(value, position)
                ORDER BY r.position;
            END IF;
            IF v_room IS NULL THEN
                WITH inserted AS (
                    INSERT INTO spindle_urls (crawl_id, url, host, state, depth, added_at, updated_at)
                    SELECT p_crawl, e.url, e.host, 'pending', e.depth, p_now, p_now
                    FROM unnest(p_urls, p_hosts, p_depths) WITH ORDINALITY AS e(url, host, depth, position)
                    ORDER BY e.position
                    ON CONFLICT (crawl_id, url) DO NOTHING
                    RETURNING 1
                )
                SELECT count(*) INTO v_added FROM inserted;
            ELSE
                -- With a cap, one at a time: only the database knows which links are new.
                i := 1;
                WHILE i <= coalesce(array_length(p_urls, 1), 0) AND v_added < v_room LOOP
                    INSERT INTO spindle_urls (crawl_id, url, host, state, depth, added_at, updated_at)
                    VALUES (p_crawl, p_urls[i], p_hosts[i], 'pending', p_depths[i], p_now, p_now)
                    ON CONFLICT (crawl_id, url) DO NOTHING;
                    IF FOUND THEN v_added := v_added + 1; END IF;
                    i := i + 1;
                END LOOP;
            END IF;
            UPDATE spindle_urls SET state = 'done', lease_owner = NULL, lease_expires = NULL, report_token = p_token, updated_at = p_now
                WHERE id = v_id;
            IF v_added > 0 THEN
                UPDATE spindle_crawls SET url_count = url_count + v_added WHERE crawl_id = p_crawl;
            END IF;
            RETURN QUERY SELECT 'done'::TEXT, NULL::TEXT, v_added;
        END
        $$
        """

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
