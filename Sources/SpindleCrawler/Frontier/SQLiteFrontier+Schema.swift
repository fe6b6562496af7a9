import Foundation
import GRDB

/// The tables of a crawl state file, created and migrated by GRDB's `DatabaseMigrator`.
///
/// - `urls`: one row per canonical URL (unique), its host (authority), state
///   (`pending`/`leased`/`done`/`failed`), depth, attempts, last error, `not_before` (seconds
///   since 1970, 0 when due at once) and timestamps. The index on `(state, depth, id)` serves
///   leasing in order and the per-state counts.
/// - `records`: the records of done pages, in the order stored, each pointing at its URL row.
///
/// The tables are plain so that `sqlite3 crawl.sqlite 'select state, count(*) from urls group
/// by state'` answers questions about a crawl without Spindle.
enum SQLiteFrontierSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1: urls and records") { db in
            try db.execute(sql: """
                CREATE TABLE urls (
                    id INTEGER PRIMARY KEY,
                    url TEXT NOT NULL UNIQUE,
                    host TEXT NOT NULL,
                    state TEXT NOT NULL CHECK (state IN ('pending', 'leased', 'done', 'failed')),
                    depth INTEGER NOT NULL,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    last_error TEXT,
                    not_before REAL NOT NULL DEFAULT 0,
                    added_at REAL NOT NULL,
                    updated_at REAL NOT NULL
                );
                CREATE INDEX urls_by_state ON urls(state, depth, id);
                CREATE TABLE records (
                    id INTEGER PRIMARY KEY,
                    url_id INTEGER NOT NULL REFERENCES urls(id),
                    kind TEXT NOT NULL CHECK (kind IN ('selection', 'page')),
                    page TEXT NOT NULL,
                    href TEXT,
                    text TEXT,
                    status INTEGER,
                    bytes INTEGER,
                    title TEXT
                );
                CREATE INDEX records_by_url ON records(url_id);
                """)
        }
        return migrator
    }

    /// Brings `writer`'s database to the current schema.
    ///
    /// - Throws: ``FrontierError`` ``FrontierError/Code/incompatibleState`` when the file holds
    ///   other tables (it is not a crawl state) or migrations this Spindle does not know (it
    ///   was written by a newer one).
    static func migrate(_ writer: some DatabaseWriter, path: String) throws {
        let migrator = migrator
        try writer.write { db in
            if try migrator.hasBeenSuperseded(db) {
                throw FrontierError(.incompatibleState, "\(path) was written by a newer Spindle; upgrade spindle to resume this crawl")
            }
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
            let ours: Set<String> = ["urls", "records", "grdb_migrations"]
            if !tables.isEmpty && !tables.contains("grdb_migrations") || tables.contains(where: { !ours.contains($0) }) {
                throw FrontierError(.incompatibleState, "\(path) is an SQLite database but not a Spindle crawl state (it has tables \(tables.sorted().joined(separator: ", "))); use another --state file")
            }
        }
        try migrator.migrate(writer)
    }

    /// Checks that a database opened read-only is a crawl state this Spindle can read.
    ///
    /// - Throws: ``FrontierError`` ``FrontierError/Code/incompatibleState`` when it is not one,
    ///   or was written by a newer Spindle.
    static func checkReadable(_ reader: some DatabaseReader, path: String) throws {
        let migrator = migrator
        try reader.read { db in
            let tables = Set(try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table'"))
            guard tables.isSuperset(of: ["urls", "records", "grdb_migrations"]) else {
                throw FrontierError(.incompatibleState, "\(path) is not a Spindle crawl state")
            }
            if try migrator.hasBeenSuperseded(db) {
                throw FrontierError(.incompatibleState, "\(path) was written by a newer Spindle; upgrade spindle to read it")
            }
        }
    }

    static func configuration() -> Configuration {
        var configuration = Configuration()
        configuration.label = "spindle.frontier"
        // One process owns the file (see StateFileLock), so contention is only between this
        // process's own reader and writer connections, which WAL keeps apart.
        configuration.busyMode = .timeout(5)
        configuration.prepareDatabase { db in
            // WAL commits need no fsync with synchronous=NORMAL; a power loss may lose the last
            // commits but never corrupts the file, and a process crash loses nothing.
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        return configuration
    }
}
