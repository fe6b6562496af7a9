import Foundation
import GRDB
import Testing
@testable import SpindleCrawler
import SpindleCrawlerPostgres

/// The frontier implementations the shared behaviour tests run against.
enum FrontierKind: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory, sqlite, postgres

    /// The kinds that need no server; PostgreSQL runs in its own suite, enabled by
    /// `SPINDLE_TEST_POSTGRES_URL`.
    static let local: [FrontierKind] = [.memory, .sqlite]

    var testDescription: String { rawValue }
}

/// The PostgreSQL server the tests may use, such as
/// `postgres://postgres@127.0.0.1:55432/spindle_test?sslmode=disable`.
let testPostgresURL = ProcessInfo.processInfo.environment["SPINDLE_TEST_POSTGRES_URL"]

/// Opens frontiers of one kind on private state (a temporary directory, or a crawl ID of its
/// own), and "restarts" them as a resuming engine would: a memory frontier survives only within
/// its process, so its restart keeps the instance and recovers leases; an SQLite frontier is
/// opened afresh on its file (which recovers leases itself); a PostgreSQL frontier reconnects
/// as the same worker and recovers its leases.
final class FrontierFixture: @unchecked Sendable {
    let kind: FrontierKind
    let directory: URL
    let limits: FrontierLimits
    let crawlID = "test-\(UUID().uuidString)"
    let workerID = "worker-\(UUID().uuidString.prefix(8))"
    private var memory: MemoryFrontier?

    init(kind: FrontierKind, limits: FrontierLimits = .unlimited) throws {
        self.kind = kind
        self.limits = limits
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-frontier-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    var statePath: String { directory.appendingPathComponent("crawl.sqlite").path }

    /// A frontier on the fixture's state (the same state every time).
    func open() async throws -> any Frontier {
        switch kind {
        case .memory:
            if let memory {
                _ = try await memory.recoverAbandonedLeases()
                return memory
            }
            let frontier = MemoryFrontier(limits: limits)
            memory = frontier
            return frontier
        case .sqlite:
            return try SQLiteFrontier(path: statePath, limits: limits)
        case .postgres:
            let frontier = try await openPostgres(workerID: workerID)
            _ = try await frontier.recoverAbandonedLeases()
            return frontier
        }
    }

    /// A PostgreSQL frontier on the fixture's crawl, as the worker `workerID`.
    func openPostgres(workerID: String, leaseDuration: Duration = .seconds(60)) async throws -> PostgresFrontier {
        let url = try #require(testPostgresURL, "set SPINDLE_TEST_POSTGRES_URL")
        return try await PostgresFrontier(url: url, crawlID: crawlID, workerID: workerID, leaseDuration: leaseDuration, limits: limits)
    }

    func remove() {
        try? FileManager.default.removeItem(at: directory)
    }
}

/// Runs `body` with a fixture of `kind`, removing its files afterwards whatever happens.
func withFrontierFixture<T>(
    _ kind: FrontierKind, limits: FrontierLimits = .unlimited,
    _ body: (FrontierFixture) async throws -> T
) async throws -> T {
    let fixture = try FrontierFixture(kind: kind, limits: limits)
    defer { fixture.remove() }
    return try await body(fixture)
}

/// Canonical URLs for tests; the texts are valid, so this never throws in practice.
func urls(_ texts: String...) throws -> [CanonicalURL] {
    try texts.map { try CanonicalURL($0) }
}

func entries(_ texts: [String], depth: Int = 0) throws -> [FrontierEntry] {
    try texts.map { FrontierEntry(try CanonicalURL($0), depth: depth) }
}

/// An SQLite database that belongs to some other application.
func makeForeignDatabase(at path: String) async throws {
    let queue = try DatabaseQueue(path: path)
    try await queue.write { db in
        try db.execute(sql: "CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers (name) VALUES ('Ada')")
    }
    try queue.close()
}

/// The names of the tables in the SQLite database at `path`.
func tableNames(at path: String) throws -> [String] {
    let queue = try DatabaseQueue(path: path)
    defer { try? queue.close() }
    return try queue.read { db in
        try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
    }
}
