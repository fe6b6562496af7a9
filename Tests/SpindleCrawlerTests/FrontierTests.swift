import Foundation
import Testing
@testable import SpindleCrawler

@Suite("Frontier")
struct FrontierTests {
    @Test("URLs are added once, whatever their spelling", arguments: FrontierKind.local)
    func deduplication(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            let frontier = try await fixture.open()
            let first = try entries(["http://a.test/1", "http://a.test/2", "HTTP://A.TEST:80/1#top"])
            #expect(try await frontier.add(first) == 2)
            #expect(try await frontier.add(try entries(["http://a.test/2", "http://a.test/3"])) == 1)
            #expect(try await frontier.add([]) == 0)
            #expect(try await frontier.status() == FrontierStatus(pending: 3))

            // A URL already done is not added back by a later link to it.
            let leased = try await frontier.lease(limit: 1)
            _ = try await frontier.complete(leased[0].url, records: [], discovered: [FrontierEntry(leased[0].url, depth: 1)])
            #expect(try await frontier.add([FrontierEntry(leased[0].url)]) == 0)
            #expect(try await frontier.status() == FrontierStatus(pending: 2, done: 1))
            try await frontier.close()
        }
    }

    @Test("maxPages caps the URLs held; maxDepth drops deeper links", arguments: FrontierKind.local)
    func limits(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind, limits: FrontierLimits(maxPages: 3, maxDepth: 1)) { fixture in
            let frontier = try await fixture.open()
            #expect(try await frontier.add(try entries(["http://a.test/1", "http://a.test/1"])) == 1)
            #expect(try await frontier.add(try entries(["http://a.test/deep"], depth: 2)) == 0)
            let leased = try await frontier.lease(limit: 1)
            let found = try entries(["http://a.test/2", "http://a.test/3", "http://a.test/4"], depth: 1)
            #expect(try await frontier.complete(leased[0].url, records: [], discovered: found) == 2)
            #expect(try await frontier.status().total == 3)
            #expect(try await frontier.info(for: found[2].url) == nil)
            try await frontier.close()
        }
    }

    @Test("leases go shallowest first, then in the order added, and only once", arguments: FrontierKind.local)
    func leaseOrder(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            let frontier = try await fixture.open()
            _ = try await frontier.add(try entries(["http://a.test/d2-first"], depth: 2))
            _ = try await frontier.add(try entries(["http://a.test/d0-first", "http://a.test/d0-second"]))
            _ = try await frontier.add(try entries(["http://a.test/d1"], depth: 1))
            _ = try await frontier.add(try entries(["http://a.test/d0-third"]))

            #expect(try await frontier.lease(limit: 0).isEmpty)
            let first = try await frontier.lease(limit: 3)
            #expect(first.map(\.url.path) == ["/d0-first", "/d0-second", "/d0-third"])
            #expect(first.allSatisfy { $0.attempts == 0 && $0.depth == 0 && $0.host == "a.test" })
            let rest = try await frontier.lease(limit: 10)
            #expect(rest.map(\.url.path) == ["/d1", "/d2-first"])
            #expect(rest.map(\.depth) == [1, 2])
            #expect(try await frontier.lease(limit: 10).isEmpty)
            #expect(try await frontier.status() == FrontierStatus(leased: 5))
            #expect(try await frontier.isFinished() == false)
            await #expect(throws: FrontierError.self) { try await frontier.lease(limit: -1) }
            try await frontier.close()
        }
    }

    @Test("hosts can be excluded and capped per lease, so one host does not hold up others", arguments: FrontierKind.local)
    func hostExclusion(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            let frontier = try await fixture.open()
            _ = try await frontier.add(try entries((1...5).map { "http://slow.test/\($0)" }))
            _ = try await frontier.add(try entries(["http://fast.test/1", "http://fast.test:8080/1", "http://fast.test/2"]))

            let others = try await frontier.lease(limit: 10, now: Date(), excludingHosts: ["slow.test"])
            #expect(others.map(\.url.string) == ["http://fast.test/1", "http://fast.test:8080/1", "http://fast.test/2"])

            let capped = try await frontier.lease(limit: 10, now: Date(), excludingHosts: [], maxPerHost: 2)
            #expect(capped.map(\.url.path) == ["/1", "/2"])
            #expect(Set(capped.map(\.host)) == ["slow.test"])
            #expect(try await frontier.status() == FrontierStatus(pending: 3, leased: 5))
            try await frontier.close()
        }
    }

    @Test("complete stores records and new links in one step, once", arguments: FrontierKind.local)
    func completion(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            let frontier = try await fixture.open()
            let seed = try CanonicalURL("http://a.test/")
            _ = try await frontier.add([FrontierEntry(seed)])
            let leased = try await frontier.lease(limit: 1)
            #expect(leased.map(\.url) == [seed])

            let records: [CrawlRecord] = [
                .page(page: seed.string, status: 200, bytes: 5120, title: "Home"),
                .selection(page: seed.string, href: "http://a.test/p/1", text: "First post"),
                .selection(page: seed.string, href: nil, text: "No link"),
            ]
            let links = try entries(["http://a.test/p/1", "http://a.test/p/2", "http://a.test/"], depth: 1)
            #expect(try await frontier.complete(seed, records: records, discovered: links) == 2)

            #expect(try await frontier.allRecords() == records)
            #expect(try await frontier.status() == FrontierStatus(pending: 2, done: 1, records: 3))
            let info = try #require(try await frontier.info(for: seed))
            #expect(info.state == .done)
            #expect(info.attempts == 0)

            // Reporting the same page again is refused and stores nothing.
            let again = await #expect(throws: FrontierError.self) {
                try await frontier.complete(seed, records: records, discovered: [])
            }
            #expect(again?.code == .notLeased)
            #expect(again?.message.contains("done") == true)
            let unknown = await #expect(throws: FrontierError.self) {
                try await frontier.fail(try CanonicalURL("http://a.test/never"), error: "x")
            }
            #expect(unknown?.code == .notLeased)
            #expect(try await frontier.status().records == 3)
            // A done URL is never leased again.
            #expect(try await frontier.lease(limit: 10).map(\.url.path) == ["/p/1", "/p/2"])
            try await frontier.close()
        }
    }

    @Test("retry and fail keep attempts, the last error and the wait", arguments: FrontierKind.local)
    func retryAndFail(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            let frontier = try await fixture.open()
            let url = try CanonicalURL("http://a.test/flaky")
            _ = try await frontier.add([FrontierEntry(url, depth: 1)])
            let start = Date()
            _ = try await frontier.lease(limit: 1, now: start)

            let later = start.addingTimeInterval(30)
            try await frontier.retry(url, error: "HTTP 503", notBefore: later)
            var info = try #require(try await frontier.info(for: url))
            #expect(info.state == .pending)
            #expect(info.attempts == 1)
            #expect(info.lastError == "HTTP 503")
            #expect(abs((info.notBefore ?? .distantPast).timeIntervalSince(later)) < 0.001)
            #expect(abs((try await frontier.nextDueDate() ?? .distantPast).timeIntervalSince(later)) < 0.001)

            // Not due yet; due at its time, with its attempts.
            #expect(try await frontier.lease(limit: 1, now: start.addingTimeInterval(29)).isEmpty)
            #expect(try await frontier.isFinished() == false)
            let due = try await frontier.lease(limit: 1, now: later)
            #expect(due == [LeasedURL(url: url, depth: 1, attempts: 1)])

            try await frontier.fail(url, error: "HTTP 503 after 2 attempts")
            info = try #require(try await frontier.info(for: url))
            #expect(info.state == .failed)
            #expect(info.attempts == 2)
            #expect(info.lastError == "HTTP 503 after 2 attempts")
            #expect(try await frontier.urls(in: .failed, limit: 10).map(\.url) == [url])
            #expect(try await frontier.nextDueDate() == nil)
            #expect(try await frontier.isFinished())
            await #expect(throws: FrontierError.self) { try await frontier.retry(url, error: "x", notBefore: later) }
            try await frontier.close()
        }
    }

    @Test("a crash between lease and complete loses nothing and records nothing twice", arguments: FrontierKind.local)
    func crashRecovery(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            var frontier: (any Frontier)? = try await fixture.open()
            _ = try await frontier?.add(try entries(["http://a.test/1", "http://a.test/2", "http://a.test/3"]))
            let leased = try #require(try await frontier?.lease(limit: 3))
            let record = CrawlRecord.page(page: leased[0].url.string, status: 200, bytes: 1, title: "One")
            _ = try await frontier?.complete(leased[0].url, records: [record], discovered: [])
            // The process "dies" holding two leases: no close, no reports.
            frontier = nil

            let resumed = try await fixture.open()
            if let sqlite = resumed as? SQLiteFrontier {
                #expect(sqlite.recoveredLeases == 2)
            }
            #expect(try await resumed.status() == FrontierStatus(pending: 2, done: 1, records: 1))
            #expect(try await resumed.allRecords() == [record])
            let again = try await resumed.lease(limit: 10)
            #expect(again.map(\.url.path) == ["/2", "/3"])
            for url in again.map(\.url) {
                _ = try await resumed.complete(url, records: [.page(page: url.string, status: 200, bytes: 2, title: nil)], discovered: [])
            }
            #expect(try await resumed.status() == FrontierStatus(done: 3, records: 3))
            #expect(try await resumed.allRecords().map(\.page) == ["http://a.test/1", "http://a.test/2", "http://a.test/3"])
            try await resumed.close()
        }
    }

    @Test("records are read back in order, in batches", arguments: FrontierKind.local)
    func export(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            let frontier = try await fixture.open()
            let pages = (1...7).map { "http://a.test/\($0)" }
            _ = try await frontier.add(try entries(pages))
            for leased in try await frontier.lease(limit: 7) {
                let records = (1...3).map { CrawlRecord.selection(page: leased.url.string, href: "\(leased.url)#\($0)", text: "item \($0)") }
                _ = try await frontier.complete(leased.url, records: records, discovered: [])
            }
            var exported: [String] = []
            try await frontier.forEachRecord(batchSize: 4) { exported.append($0.jsonLine) }
            #expect(exported.count == 21)
            #expect(exported[0] == #"{"page":"http://a.test/1","href":"http://a.test/1#1","text":"item 1"}"#)
            #expect(exported[20] == #"{"page":"http://a.test/7","href":"http://a.test/7#3","text":"item 3"}"#)

            let firstBatch = try await frontier.records(after: 0, limit: 5)
            #expect(firstBatch.count == 5)
            let next = try await frontier.records(after: firstBatch[4].sequence, limit: 100)
            #expect(next.count == 16)
            #expect(next.first?.record == .selection(page: "http://a.test/2", href: "http://a.test/2#3", text: "item 3"))
            #expect(try await frontier.records(after: next[15].sequence, limit: 100).isEmpty)
            try await frontier.close()
        }
    }

    @Test("a finished crawl reopens finished, with its records", arguments: FrontierKind.local)
    func reopenFinished(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            let frontier = try await fixture.open()
            _ = try await frontier.add(try entries(["http://a.test/ok", "http://a.test/gone"]))
            let leased = try await frontier.lease(limit: 2)
            _ = try await frontier.complete(leased[0].url, records: [.page(page: "http://a.test/ok", status: 200, bytes: 10, title: "OK")], discovered: [])
            try await frontier.fail(leased[1].url, error: "HTTP 404")
            #expect(try await frontier.isFinished())
            if kind != .memory { try await frontier.close() }

            let reopened = try await fixture.open()
            #expect(try await reopened.isFinished())
            #expect(try await reopened.status() == FrontierStatus(done: 1, failed: 1, records: 1))
            #expect(try await reopened.lease(limit: 10).isEmpty)
            #expect(try await reopened.urls(in: .failed, limit: 10).map(\.lastError) == ["HTTP 404"])
            try await reopened.close()
        }
    }

    @Test("a closed frontier refuses calls; closing twice is harmless", arguments: FrontierKind.local)
    func closed(kind: FrontierKind) async throws {
        try await withFrontierFixture(kind) { fixture in
            let frontier = try await fixture.open()
            try await frontier.close()
            try await frontier.close()
            let error = await #expect(throws: FrontierError.self) { try await frontier.status() }
            #expect(error?.code == .closed)
        }
    }
}

@Suite("SQLiteFrontier")
struct FrontierSQLiteTests {
    @Test("a second crawl on a live state file is refused, naming the holder; after close it opens")
    func secondOpenerRefused() async throws {
        try await withFrontierFixture(.sqlite) { fixture in
            let first = try await fixture.open()
            let error = #expect(throws: FrontierError.self) { try SQLiteFrontier(path: fixture.statePath) }
            #expect(error?.code == .stateInUse)
            #expect(error?.message.contains("process \(ProcessInfo.processInfo.processIdentifier)") == true)
            #expect(error?.message.contains(fixture.statePath) == true)
            try await first.close()

            let second = try SQLiteFrontier(path: fixture.statePath)
            #expect(try await second.isFinished())
            try await second.close()
        }
    }

    @Test("the state file is WAL while a crawl has it open, and one self-contained file (rollback journal, empty log) once closed")
    func fileFormat() async throws {
        try await withFrontierFixture(.sqlite) { fixture in
            func header() throws -> Data {
                try FileHandle(forReadingFrom: URL(fileURLWithPath: fixture.statePath)).readData(ofLength: 20)
            }
            let frontier = try SQLiteFrontier(path: fixture.statePath)
            _ = try await frontier.add(try entries(["http://a.test/"]))
            #expect(try header().prefix(16) == Data("SQLite format 3\0".utf8))
            // File format bytes 18 and 19 are 2 in WAL mode, 1 with a rollback journal.
            #expect(Array(try header().suffix(2)) == [2, 2])
            try await frontier.close()
            #expect(Array(try header().suffix(2)) == [1, 1])
            #expect(!FileManager.default.fileExists(atPath: fixture.statePath + "-wal"))

            let reopened = try SQLiteFrontier(path: fixture.statePath)
            #expect(Array(try header().suffix(2)) == [2, 2], "a crawl that opens it again uses WAL")
            #expect(try await reopened.status().pending == 1)
            try await reopened.close()
        }
    }

    @Test("a file that is not a crawl state is refused with a clear error")
    func foreignFiles() async throws {
        try await withFrontierFixture(.sqlite) { fixture in
            try Data("just some text, not a database at all............................................................".utf8)
                .write(to: URL(fileURLWithPath: fixture.statePath))
            let notSQLite = #expect(throws: FrontierError.self) { try SQLiteFrontier(path: fixture.statePath) }
            #expect(notSQLite?.code == .incompatibleState)
            #expect(notSQLite?.message.contains(fixture.statePath) == true)
            // The lock was released: a later open is not refused as "in use".
            let again = #expect(throws: FrontierError.self) { try SQLiteFrontier(path: fixture.statePath) }
            #expect(again?.code == .incompatibleState)
        }
    }

    @Test("an SQLite database of another application is refused, its tables left alone")
    func otherDatabase() async throws {
        try await withFrontierFixture(.sqlite) { fixture in
            let other = fixture.directory.appendingPathComponent("other.sqlite").path
            try await makeForeignDatabase(at: other)
            let error = #expect(throws: FrontierError.self) { try SQLiteFrontier(path: other) }
            #expect(error?.code == .incompatibleState)
            #expect(error?.message.contains("customers") == true)
            #expect(try tableNames(at: other) == ["customers"])
        }
    }

    @Test("a missing directory is a storage error naming the path")
    func missingDirectory() {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-missing-\(UUID().uuidString)/crawl.sqlite").path
        let error = #expect(throws: FrontierError.self) { try SQLiteFrontier(path: path) }
        #expect(error?.code == .storageFailed)
        #expect(error?.message.contains(path) == true)
    }
}

@Suite("CrawlRecord")
struct FrontierRecordTests {
    @Test("JSON lines have fixed keys in a fixed order, with escaping")
    func jsonLines() throws {
        #expect(CrawlRecord.selection(page: "http://a/", href: "http://a/p", text: "T").jsonLine
            == #"{"page":"http://a/","href":"http://a/p","text":"T"}"#)
        #expect(CrawlRecord.selection(page: "http://a/", href: nil, text: "").jsonLine
            == #"{"page":"http://a/","href":null,"text":""}"#)
        #expect(CrawlRecord.page(page: "http://a/", status: 200, bytes: 12, title: "Home").jsonLine
            == #"{"page":"http://a/","status":200,"bytes":12,"title":"Home"}"#)
        #expect(CrawlRecord.page(page: "http://a/", status: 404, bytes: 0, title: nil).jsonLine
            == #"{"page":"http://a/","status":404,"bytes":0,"title":null}"#)
        let tricky = CrawlRecord.selection(page: "http://a/", href: nil, text: "say \"hi\"\\\n\t\u{01}é")
        #expect(tricky.jsonLine == #"{"page":"http://a/","href":null,"text":"say \"hi\"\\\n\t\u0001é"}"#)
    }

    @Test("JSON lines decode back to the same record", arguments: [
        CrawlRecord.selection(page: "http://a/", href: "http://a/p", text: "say \"hi\"\n\u{01}"),
        CrawlRecord.selection(page: "http://a/", href: nil, text: "x"),
        CrawlRecord.page(page: "http://a/", status: 500, bytes: 3, title: nil),
        CrawlRecord.page(page: "http://a/", status: 200, bytes: 3, title: "Ü"),
    ])
    func roundTrip(record: CrawlRecord) throws {
        #expect(try JSONDecoder().decode(CrawlRecord.self, from: Data(record.jsonLine.utf8)) == record)
        #expect(try JSONDecoder().decode(CrawlRecord.self, from: JSONEncoder().encode(record)) == record)
    }
}
