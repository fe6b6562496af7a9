import Foundation
import GRDB

/// The statements of ``SQLiteFrontier`` that run inside its write transactions.
extension SQLiteFrontier {
    static let infoColumns = "url, state, depth, attempts, last_error, not_before, added_at, updated_at"

    /// Inserts the entries not already known, within ``FrontierLimits``; returns how many.
    static func insert(_ entries: [FrontierEntry], limits: FrontierLimits, db: Database, now: Date) throws -> Int {
        guard !entries.isEmpty else { return 0 }
        // Rows are never deleted and ids are assigned in order, so the largest id is the count.
        var total = limits.maxPages == nil ? 0 : try Int.fetchOne(db, sql: "SELECT COALESCE(MAX(id), 0) FROM urls") ?? 0
        let statement = try db.cachedStatement(sql: """
            INSERT OR IGNORE INTO urls (url, host, state, depth, added_at, updated_at) VALUES (?, ?, 'pending', ?, ?, ?)
            """)
        let time = now.timeIntervalSince1970
        var added = 0
        for entry in entries where limits.admits(depth: entry.depth) {
            if let maxPages = limits.maxPages, total >= maxPages { break }
            try statement.execute(arguments: [entry.url.string, entry.url.authority, entry.depth, time, time])
            if db.changesCount > 0 {
                added += 1
                total += 1
            }
        }
        return added
    }

    /// Leases due pending rows in `(depth, id)` order, reading candidates in batches.
    static func lease(_ db: Database, limit: Int, now: Date, excludingHosts: Set<String>, maxPerHost: Int) throws -> [LeasedURL] {
        let candidates = try db.cachedStatement(sql: """
            SELECT id, url, host, depth, attempts FROM urls
            WHERE state = 'pending' AND (depth, id) > (?, ?) AND not_before <= ?
            ORDER BY depth, id LIMIT ?
            """)
        let markLeased = try db.cachedStatement(sql: "UPDATE urls SET state = 'leased', updated_at = ? WHERE id = ?")
        let time = now.timeIntervalSince1970
        // Without exclusions every candidate is taken (up to the per-host cap), so read few;
        // with them, read more per step, since many may be skipped.
        let batchSize = excludingHosts.isEmpty && maxPerHost >= limit ? limit : min(max(limit * 4, 64), 1_000)
        var leased: [LeasedURL] = []
        var perHost: [String: Int] = [:]
        var after = (depth: Int.min, id: Int64.min)
        var scanned = 0
        while leased.count < limit && scanned < leaseScanLimit {
            let rows = try Row.fetchAll(candidates, arguments: [after.depth, after.id, time, batchSize])
            for row in rows where leased.count < limit {
                let id: Int64 = row[0]
                let host: String = row[2]
                let depth: Int = row[3]
                after = (depth, id)
                guard !excludingHosts.contains(host), perHost[host, default: 0] < maxPerHost,
                      let url = try? CanonicalURL(row[1] as String) else { continue }
                perHost[host, default: 0] += 1
                try markLeased.execute(arguments: [time, id])
                leased.append(LeasedURL(url: url, depth: depth, attempts: row[4]))
            }
            scanned += rows.count
            if rows.count < batchSize { break }
        }
        return leased
    }

    /// The id of `url` if it is leased; throws ``FrontierError/Code/notLeased`` otherwise.
    static func leasedID(_ url: CanonicalURL, db: Database) throws -> Int64 {
        let row = try Row.fetchOne(db.cachedStatement(sql: "SELECT id, state FROM urls WHERE url = ?"), arguments: [url.string])
        guard let row, (row[1] as String) == FrontierURLState.leased.rawValue else {
            throw FrontierError.notLeased(url, state: row.flatMap { FrontierURLState(rawValue: $0[1]) })
        }
        return row[0]
    }

    static func recoverLeases(_ db: Database, now: Date) throws -> Int {
        try db.execute(sql: "UPDATE urls SET state = 'pending', updated_at = ? WHERE state = 'leased'", arguments: [now.timeIntervalSince1970])
        return db.changesCount
    }

    static func info(from row: Row) -> FrontierURLInfo? {
        guard let url = try? CanonicalURL(row[0] as String), let state = FrontierURLState(rawValue: row[1]) else { return nil }
        let notBefore: Double = row[5]
        return FrontierURLInfo(
            url: url, state: state, depth: row[2], attempts: row[3], lastError: row[4],
            notBefore: notBefore > 0 ? Date(timeIntervalSince1970: notBefore) : nil,
            addedAt: Date(timeIntervalSince1970: row[6]), updatedAt: Date(timeIntervalSince1970: row[7])
        )
    }
}
