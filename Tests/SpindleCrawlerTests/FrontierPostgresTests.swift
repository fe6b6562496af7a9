import Foundation
import Synchronization
import SpindleServer
import Testing
@testable import SpindleCrawler
import SpindleCrawlerPostgres

/// The shared frontier behaviours on a real PostgreSQL server, and what only a shared frontier
/// does: several workers, expiring leases, several crawls in one database.
@Suite(
    "PostgresFrontier",
    .enabled(if: testPostgresURL != nil, "set SPINDLE_TEST_POSTGRES_URL to run the PostgreSQL tests"),
    .timeLimit(.minutes(2))
)
struct FrontierPostgresTests {
    let shared = FrontierTests()

    @Test func deduplication() async throws { try await shared.deduplication(kind: .postgres) }
    @Test func limits() async throws { try await shared.limits(kind: .postgres) }
    @Test func leaseOrder() async throws { try await shared.leaseOrder(kind: .postgres) }
    @Test func hostExclusion() async throws { try await shared.hostExclusion(kind: .postgres) }
    @Test func completion() async throws { try await shared.completion(kind: .postgres) }
    @Test func retryAndFail() async throws { try await shared.retryAndFail(kind: .postgres) }
    @Test func crashRecovery() async throws { try await shared.crashRecovery(kind: .postgres) }
    @Test func export() async throws { try await shared.export(kind: .postgres) }
    @Test func reopenFinished() async throws { try await shared.reopenFinished(kind: .postgres) }
    @Test func closed() async throws { try await shared.closed(kind: .postgres) }

    @Test("workers leasing at the same time get disjoint URLs that cover the crawl")
    func concurrentWorkers() async throws {
        try await withFrontierFixture(.postgres) { fixture in
            let seeder = try await fixture.openPostgres(workerID: "seeder")
            _ = try await seeder.add(try entries((1...60).map { "http://a.test/\($0)" }))
            let workers = try await withThrowingTaskGroup(of: PostgresFrontier.self) { group in
                for index in 0..<3 {
                    group.addTask { try await fixture.openPostgres(workerID: "worker-\(index)") }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let leasedPerWorker = try await withThrowingTaskGroup(of: [CanonicalURL].self) { group in
                for worker in workers {
                    group.addTask {
                        var mine: [CanonicalURL] = []
                        while true {
                            let batch = try await worker.lease(limit: 4)
                            if batch.isEmpty { return mine }
                            for leased in batch {
                                _ = try await worker.complete(leased.url, records: [.page(page: leased.url.string, status: 200, bytes: 1, title: nil)], discovered: [])
                                mine.append(leased.url)
                            }
                        }
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
            let all = leasedPerWorker.flatMap { $0 }
            #expect(all.count == 60)
            #expect(Set(all).count == 60)
            #expect(try await seeder.status() == FrontierStatus(done: 60, records: 60))
            for worker in workers { try await worker.close() }
            try await seeder.close()
        }
    }

    @Test("an expired lease is taken over; the late worker's report is refused")
    func leaseExpiry() async throws {
        try await withFrontierFixture(.postgres) { fixture in
            let slow = try await fixture.openPostgres(workerID: "slow", leaseDuration: .seconds(1))
            let fast = try await fixture.openPostgres(workerID: "fast")
            let url = try CanonicalURL("http://a.test/")
            _ = try await slow.add([FrontierEntry(url)])
            let start = Date()
            #expect(try await slow.lease(limit: 1, now: start).map(\.url) == [url])
            // Within the lease nobody else gets it; after it, the next worker does.
            #expect(try await fast.lease(limit: 1, now: start.addingTimeInterval(0.5)).isEmpty)
            #expect(try await fast.lease(limit: 1, now: start.addingTimeInterval(2)).map(\.url) == [url])

            let late = await #expect(throws: FrontierError.self) {
                try await slow.complete(url, records: [.page(page: url.string, status: 200, bytes: 1, title: "late")], discovered: [])
            }
            #expect(late?.code == .notLeased)
            #expect(late?.message.contains("fast") == true)
            _ = try await fast.complete(url, records: [.page(page: url.string, status: 200, bytes: 1, title: "on time")], discovered: [])
            #expect(try await fast.allRecords() == [.page(page: url.string, status: 200, bytes: 1, title: "on time")])
            try await slow.close()
            try await fast.close()
        }
    }

    @Test("a worker whose lease was taken over while it worked drops its outcome with a note and goes on; the new holder's stands")
    func takenOverLeaseIsDropped() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 1)) { site in
            try await withFrontierFixture(.postgres) { fixture in
                let slow = try await fixture.openPostgres(workerID: "slow", leaseDuration: .seconds(1))
                let fast = try await fixture.openPostgres(workerID: "fast")
                let url = try CanonicalURL(site.listPageURL(1).absoluteString)
                _ = try await slow.add([FrontierEntry(url)])
                let start = Date()
                let stale = try #require(try await slow.lease(limit: 1, now: start).first)
                #expect(try await fast.lease(limit: 1, now: start.addingTimeInterval(2)).map(\.url) == [url])

                let notes = NoteLog()
                let report = try await withFetcher { fetcher in
                    let work = FrontierPageWork(
                        frontier: slow, fetcher: fetcher, robots: nil,
                        options: FrontierCrawlOptions(extraction: .pageSummary, scope: try CrawlScope())
                    ) { event in
                        if case .note(let note) = event { notes.append(note) }
                    }
                    return try await work.run(stale)
                }
                #expect(report.added == 0 && !report.retried)
                #expect(notes.all.contains { $0.contains("worker fast took it over") && $0.contains("dropped") }, "\(notes.all)")
                #expect(try await slow.allRecords().isEmpty, "nothing of the late worker's is stored")
                #expect(try await fast.status().leased == 1, "still the new holder's to report")
                try await slow.close()
                try await fast.close()
            }
        }
    }

    @Test("another worker's live leases are not recovered; expired ones are")
    func recoveryLeavesLiveLeases() async throws {
        try await withFrontierFixture(.postgres) { fixture in
            // Both workers are open before the lease is taken, so the lease is surely live when
            // the second one first looks, even on a busy machine.
            let first = try await fixture.openPostgres(workerID: "first", leaseDuration: .seconds(3))
            let second = try await fixture.openPostgres(workerID: "second")
            _ = try await first.add(try entries(["http://a.test/1"]))
            _ = try await first.lease(limit: 1)
            #expect(try await second.recoverAbandonedLeases() == 0)
            // A live worker renews its leases; one that stopped (here: closed, as if it died)
            // does not. Wait, with a deadline, for the three-second lease to expire.
            try await first.close()
            let deadline = Date().addingTimeInterval(20)
            var recovered = 0
            while recovered == 0 && Date() < deadline {
                try await Task.sleep(for: .milliseconds(200))
                recovered = try await second.recoverAbandonedLeases()
            }
            #expect(recovered == 1)
            #expect(try await second.status() == FrontierStatus(pending: 1))
            try await second.close()
        }
    }

    @Test("crawls in one database are separate")
    func separateCrawls() async throws {
        try await withFrontierFixture(.postgres) { one in
            try await withFrontierFixture(.postgres) { two in
                let a = try await one.open()
                let b = try await two.open()
                _ = try await a.add(try entries(["http://a.test/1", "http://a.test/2"]))
                _ = try await b.add(try entries(["http://a.test/1"]))
                #expect(try await a.status().pending == 2)
                #expect(try await b.status().pending == 1)
                #expect(try await b.lease(limit: 10).map(\.url.path) == ["/1"])
                #expect(try await a.status().pending == 2)
                try await a.close()
                try await b.close()
            }
        }
    }

    @Test("maxPages holds across workers")
    func sharedPageCap() async throws {
        try await withFrontierFixture(.postgres, limits: FrontierLimits(maxPages: 5)) { fixture in
            let one = try await fixture.openPostgres(workerID: "one")
            let two = try await fixture.openPostgres(workerID: "two")
            #expect(try await one.add(try entries((1...3).map { "http://a.test/\($0)" })) == 3)
            #expect(try await two.add(try entries((2...9).map { "http://a.test/\($0)" })) == 2)
            #expect(try await one.status().total == 5)
            try await one.close()
            try await two.close()
        }
    }
}

@Suite("PostgresFrontier configuration")
struct FrontierPostgresConfigurationTests {
    @Test("a postgres:// URL gives host, port, user, password and database")
    func parsesURL() throws {
        let configuration = try PostgresFrontier.configuration(url: "postgres://crawler:secret@db.internal:6543/crawls?sslmode=disable")
        #expect(configuration.host == "db.internal")
        #expect(configuration.port == 6543)
        #expect(configuration.username == "crawler")
        #expect(configuration.password == "secret")
        #expect(configuration.database == "crawls")
        let defaults = try PostgresFrontier.configuration(url: "postgresql://localhost")
        #expect(defaults.port == 5432)
        #expect(defaults.username == "postgres")
        #expect(defaults.database == nil)
    }

    @Test("bad URLs are refused naming the problem", arguments: [
        ("http://db/x", "not a postgres:// URL"),
        ("postgres:///crawls", "has no host"),
        ("postgres://db/x?sslmode=maybe", "sslmode"),
    ])
    func rejectsBadURLs(url: String, problem: String) {
        let error = #expect(throws: FrontierError.self) { try PostgresFrontier.configuration(url: url) }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message.contains(problem) == true)
    }
}

/// Notes a crawl posted, from any task.
private final class NoteLog: Sendable {
    private let notes = Mutex<[String]>([])
    func append(_ note: String) { notes.withLock { $0.append(note) } }
    var all: [String] { notes.withLock { $0 } }
}
