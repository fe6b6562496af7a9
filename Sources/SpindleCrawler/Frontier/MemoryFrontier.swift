import Foundation

/// A ``Frontier`` kept in memory: for tests, and for short crawls that need not survive their
/// process (`spindle crawl` without `--state`).
///
/// Everything it holds (every URL seen, every record) stays in memory until it is released, so
/// bound a crawl on it with ``FrontierLimits/maxPages``; use ``SQLiteFrontier`` for big or
/// resumable crawls.
public actor MemoryFrontier: Frontier {
    private struct Row {
        var id: Int
        var depth: Int
        var state: FrontierURLState
        var attempts = 0
        var lastError: String?
        var notBefore: Date?
        var addedAt: Date
        var updatedAt: Date
    }

    /// Pending URLs ordered the way ``lease(limit:now:excludingHosts:maxPerHost:)`` hands them out.
    private struct PendingKey: Comparable {
        var depth: Int
        var id: Int
        static func < (lhs: PendingKey, rhs: PendingKey) -> Bool { (lhs.depth, lhs.id) < (rhs.depth, rhs.id) }
    }

    /// The limits applied when URLs are added.
    public nonisolated let limits: FrontierLimits
    private var rows: [CanonicalURL: Row] = [:]
    private var urlsByID: [Int: CanonicalURL] = [:]
    private var pending: [PendingKey] = []
    private var storedRecords: [StoredRecord] = []
    private var nextID = 1
    private var isClosed = false

    /// An empty frontier.
    public init(limits: FrontierLimits = .unlimited) {
        self.limits = limits
    }

    public func add(_ entries: [FrontierEntry]) throws -> Int {
        try checkOpen()
        return insert(entries, now: Date())
    }

    public func lease(limit: Int, now: Date, excludingHosts: Set<String>, maxPerHost: Int) throws -> [LeasedURL] {
        try checkOpen()
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        var leased: [LeasedURL] = []
        var perHost: [String: Int] = [:]
        var taken: [Int] = []
        for (position, key) in pending.enumerated() where leased.count < limit {
            guard let url = urlsByID[key.id], var row = rows[url] else { continue }
            if let notBefore = row.notBefore, notBefore > now { continue }
            let host = url.authority
            if excludingHosts.contains(host) || perHost[host, default: 0] >= maxPerHost { continue }
            perHost[host, default: 0] += 1
            row.state = .leased
            row.updatedAt = now
            rows[url] = row
            leased.append(LeasedURL(url: url, depth: row.depth, attempts: row.attempts))
            taken.append(position)
        }
        for position in taken.reversed() {
            pending.remove(at: position)
        }
        return leased
    }

    public func complete(_ url: CanonicalURL, records: [CrawlRecord], discovered: [FrontierEntry]) throws -> Int {
        try checkOpen()
        let now = Date()
        _ = try leasedRow(url)
        rows[url]?.state = .done
        rows[url]?.updatedAt = now
        for record in records {
            storedRecords.append(StoredRecord(sequence: Int64(storedRecords.count + 1), record: record))
        }
        return insert(discovered, now: now)
    }

    public func retry(_ url: CanonicalURL, error: String, notBefore: Date) throws {
        try checkOpen()
        var row = try leasedRow(url)
        row.state = .pending
        row.attempts += 1
        row.lastError = error
        row.notBefore = notBefore
        row.updatedAt = Date()
        rows[url] = row
        insertPending(PendingKey(depth: row.depth, id: row.id))
    }

    public func fail(_ url: CanonicalURL, error: String) throws {
        try checkOpen()
        var row = try leasedRow(url)
        row.state = .failed
        row.attempts += 1
        row.lastError = error
        row.updatedAt = Date()
        rows[url] = row
    }

    public func recoverAbandonedLeases() throws -> Int {
        try checkOpen()
        var recovered = 0
        let now = Date()
        for (url, row) in rows where row.state == .leased {
            rows[url]?.state = .pending
            rows[url]?.updatedAt = now
            insertPending(PendingKey(depth: row.depth, id: row.id))
            recovered += 1
        }
        return recovered
    }

    public func status() throws -> FrontierStatus {
        try checkOpen()
        var status = FrontierStatus(records: storedRecords.count)
        for row in rows.values {
            switch row.state {
            case .pending: status.pending += 1
            case .leased: status.leased += 1
            case .done: status.done += 1
            case .failed: status.failed += 1
            }
        }
        return status
    }

    public func isFinished() throws -> Bool {
        try checkOpen()
        return pending.isEmpty && !rows.values.contains { $0.state == .leased }
    }

    public func nextDueDate() throws -> Date? {
        try checkOpen()
        guard !pending.isEmpty else { return nil }
        var earliest = Date.distantFuture
        for key in pending {
            guard let url = urlsByID[key.id], let row = rows[url] else { continue }
            earliest = min(earliest, row.notBefore ?? row.addedAt)
        }
        return earliest
    }

    public func info(for url: CanonicalURL) throws -> FrontierURLInfo? {
        try checkOpen()
        return rows[url].map { Self.info(url, $0) }
    }

    public func urls(in state: FrontierURLState, limit: Int) throws -> [FrontierURLInfo] {
        try checkOpen()
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        return rows.filter { $0.value.state == state }
            .sorted { $0.value.id < $1.value.id }
            .prefix(limit)
            .map { Self.info($0.key, $0.value) }
    }

    public func records(after sequence: Int64, limit: Int) throws -> [StoredRecord] {
        try checkOpen()
        guard limit >= 0 else { throw FrontierError.negativeLimit(limit) }
        // Sequences are 1-based positions in `storedRecords`.
        let start = Int(clamping: max(0, sequence))
        guard start < storedRecords.count else { return [] }
        return Array(storedRecords[start..<min(storedRecords.count, start + limit)])
    }

    public func close() {
        isClosed = true
        rows = [:]
        urlsByID = [:]
        pending = []
        storedRecords = []
    }

    private func insert(_ entries: [FrontierEntry], now: Date) -> Int {
        var added = 0
        for entry in entries where limits.admits(depth: entry.depth) && rows[entry.url] == nil {
            if let maxPages = limits.maxPages, rows.count >= maxPages { break }
            let row = Row(id: nextID, depth: entry.depth, state: .pending, addedAt: now, updatedAt: now)
            nextID += 1
            rows[entry.url] = row
            urlsByID[row.id] = entry.url
            insertPending(PendingKey(depth: row.depth, id: row.id))
            added += 1
        }
        return added
    }

    private func insertPending(_ key: PendingKey) {
        var low = 0
        var high = pending.count
        while low < high {
            let middle = (low + high) / 2
            if pending[middle] < key { low = middle + 1 } else { high = middle }
        }
        pending.insert(key, at: low)
    }

    private func leasedRow(_ url: CanonicalURL) throws -> Row {
        guard let row = rows[url], row.state == .leased else {
            throw FrontierError.notLeased(url, state: rows[url]?.state)
        }
        return row
    }

    private func checkOpen() throws {
        if isClosed { throw FrontierError(.closed, "the memory frontier was closed") }
    }

    private static func info(_ url: CanonicalURL, _ row: Row) -> FrontierURLInfo {
        FrontierURLInfo(
            url: url, state: row.state, depth: row.depth, attempts: row.attempts, lastError: row.lastError,
            notBefore: row.notBefore, addedAt: row.addedAt, updatedAt: row.updatedAt
        )
    }
}
