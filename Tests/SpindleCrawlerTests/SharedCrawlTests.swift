import Foundation
import SpindleCrawler
import SpindleServer
import Testing

/// The folder of the private PostgreSQL cluster (scripts/postgres-test-cluster.sh), so a test
/// can restart the server mid-crawl.
let testPostgresDirectory = ProcessInfo.processInfo.environment["SPINDLE_TEST_POSTGRES_DIR"]

/// `spindle crawl --frontier postgres://…`: several real worker processes share one crawl of a
/// site in this process, whose request log tells what each page cost.
@Suite(
    "spindle crawl --frontier (workers sharing a crawl in PostgreSQL)",
    .enabled(if: testPostgresURL != nil, "set SPINDLE_TEST_POSTGRES_URL to run the shared-crawl tests (scripts/test.sh starts a server)"),
    .serialized,
    .timeLimit(.minutes(5))
)
struct SharedCrawlTests {
    static let follow = "a.post-item-title, a.p_next"

    /// 50 list pages × (1 + 19 posts) = 1,000 pages, 10 ms each.
    static let site = BlogSiteConfiguration(pages: 50, postsPerPage: 19, latency: .milliseconds(10))

    @Test("three workers share a 1,000-page crawl: the union of their records is exactly the expected set, each page fetched once, robots.txt once")
    func threeWorkers() async throws {
        let crawl = try SharedCrawl()
        try await withBlogSite(Self.site) { site in
            let runs = try await crawl.runWorkers(3, site: site)
            for run in runs { #expect(run.status == 0, "\(run.standardError)") }
            let records = try (1...3).flatMap { try crawl.records(ofWorker: $0) }
            let expected = Self.expected(site, pages: 50)
            #expect(records.count == expected.count, "no record lost or written twice")
            #expect(Set(records) == Set(expected))
            let byPath = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
            #expect(byPath.count == 1_000, "every page fetched")
            #expect(byPath.values.allSatisfy { $0 == 1 }, "no page fetched twice")
            #expect(site.requestLog.requests(to: "/robots.txt") == 1, "robots.txt once for the crawl, not once per worker")
            #expect((1...3).filter { (try? crawl.records(ofWorker: $0).isEmpty) == false }.count >= 2, "the work was shared")
            try await crawl.expectExport(site: site, pages: 50)
        }
    }

    @Test("one worker SIGKILLed mid-way: the others take its leases over after expiry and finish; still exact")
    func workerKilled() async throws {
        let crawl = try SharedCrawl()
        try await withBlogSite(Self.site) { site in
            let victim = try SpindleProcess(crawl.arguments(worker: 1, site: site, extra: ["--lease", "2s"]))
            try await victim.waitUntil { site.requestLog.totalRequests >= 150 }
            let survivors = Task { try await crawl.runWorkers(2, firstWorker: 2, site: site, extra: ["--lease", "2s"]) }
            try await victim.waitUntil { site.requestLog.totalRequests >= 400 }
            victim.kill(SIGKILL)
            #expect(await victim.exitStatus() == SIGKILL)
            #expect(site.requestLog.totalRequests < 1_000, "killed mid-way")
            for run in try await survivors.value { #expect(run.status == 0, "\(run.standardError)") }

            try await crawl.expectExport(site: site, pages: 50)
            let byPath = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
            #expect(byPath.count == 1_000, "every page fetched")
            let refetched = byPath.values.filter { $0 > 1 }.count
            #expect(byPath.values.allSatisfy { $0 <= 2 })
            #expect(refetched <= 8, "only the pages the killed worker had in flight (--concurrency 8) are fetched again, got \(refetched)")
            // The records the workers wrote hold no duplicate (the killed one's last line may be cut).
            let written = try (2...3).flatMap { try crawl.records(ofWorker: $0) } + crawl.completeRecords(ofWorker: 1)
            #expect(written.count == Set(written).count, "no page recorded by two workers")
            #expect(Set(written).isSubset(of: Set(Self.expected(site, pages: 50))))
        }
    }

    @Test("--per-host 2 holds over all workers: the site never sees more than 2 requests at once")
    func perHostAcrossWorkers() async throws {
        let crawl = try SharedCrawl()
        // 15 list pages × 20 = 300 pages: at 2 at a time, long enough for three workers to overlap.
        try await withBlogSite(BlogSiteConfiguration(pages: 15, postsPerPage: 19, latency: .milliseconds(10))) { site in
            let runs = try await crawl.runWorkers(3, site: site, extra: ["--per-host", "2"])
            for run in runs { #expect(run.status == 0, "\(run.standardError)") }
            #expect(site.requestLog.maxInFlight <= 2, "at most 2 requests at once in total, saw \(site.requestLog.maxInFlight)")
            #expect(site.requestLog.maxInFlight == 2, "the limit is used, not just respected")
            let records = try (1...3).flatMap { try crawl.records(ofWorker: $0) }
            #expect(records.count == 285 && Set(records) == Set(Self.expected(site, pages: 15)))
        }
    }

    @Test("--delay holds over all workers: one request at a time to the host, each at least the delay after the one before")
    func delayAcrossWorkers() async throws {
        let crawl = try SharedCrawl()
        // 1 list page + 7 posts = 8 pages, 200 ms apart whichever worker fetches them: at least
        // 1.4 s in all. Two workers each keeping only its own delay would take about half.
        try await withBlogSite(BlogSiteConfiguration(pages: 1, postsPerPage: 7)) { site in
            let start = ContinuousClock.now
            let runs = try await crawl.runWorkers(2, site: site, extra: ["--delay", "200ms"])
            let elapsed = ContinuousClock.now - start
            for run in runs { #expect(run.status == 0, "\(run.standardError)") }
            #expect(site.requestLog.maxInFlight == 1, "one request at a time over both workers, saw \(site.requestLog.maxInFlight)")
            #expect(elapsed >= .milliseconds(1_400), "8 pages spaced 200 ms apart take at least 1.4 s, took \(elapsed)")
            let records = try (1...2).flatMap { try crawl.records(ofWorker: $0) }
            #expect(records.count == 7 && Set(records) == Set(Self.expected(site, pages: 1)))
        }
    }

    @Test(
        "PostgreSQL restarted mid-crawl: the workers wait for it and finish; exact, each page fetched once",
        .enabled(if: testPostgresDirectory != nil, "set SPINDLE_TEST_POSTGRES_DIR (the cluster's folder; scripts/test.sh does) to restart the server")
    )
    func serverRestart() async throws {
        let crawl = try SharedCrawl()
        let directory = try #require(testPostgresDirectory)
        try await withBlogSite(Self.site) { site in
            let workers = Task { try await crawl.runWorkers(3, site: site, extra: ["--lease", "10s"]) }
            let deadline = ContinuousClock.now + .seconds(120)
            while site.requestLog.totalRequests < 300 {
                try #require(ContinuousClock.now < deadline, "the crawl did not get going")
                try await Task.sleep(for: .milliseconds(5))
            }
            try await restartServer(directory)
            #expect(site.requestLog.totalRequests < 1_000, "restarted mid-crawl")
            let runs = try await workers.value
            for run in runs { #expect(run.status == 0, "\(run.standardError)") }
            #expect(runs.contains { $0.standardError.contains("the server answers again") }, "the workers saw the server go")

            try await crawl.expectExport(site: site, pages: 50)
            let byPath = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
            #expect(byPath.count == 1_000 && byPath.values.allSatisfy { $0 == 1 }, "nothing lost, nothing fetched twice")
        }
    }

    @Test("bad input and a server that stays away: clear errors, non-zero status")
    func badInput() async throws {
        let noID = try await SpindleExecutable.run(["crawl", "--frontier", "postgres://u@127.0.0.1/db", "http://127.0.0.1:9/"])
        #expect(noID.status == 64)
        #expect(noID.standardError.contains("--frontier needs --crawl-id NAME"))

        let notPostgres = try await SpindleExecutable.run(["crawl", "--frontier", "mysql://db/x", "--crawl-id", "a", "http://127.0.0.1:9/"])
        #expect(notPostgres.status == 64)
        #expect(notPostgres.standardError.contains("--frontier: \"mysql://db/x\" is not a postgres:// URL"), "\(notPostgres.standardError)")

        let both = try await SpindleExecutable.run(["crawl", "--frontier", "postgres://u@h/db", "--crawl-id", "a", "--state", "x.sqlite", "http://127.0.0.1:9/"])
        #expect(both.status == 64)
        #expect(both.standardError.contains("--state and --frontier both say where the crawl is kept"))

        let shortLease = try await SpindleExecutable.run(["crawl", "--frontier", "postgres://u@h/db", "--crawl-id", "a", "--lease", "500ms", "http://127.0.0.1:9/"])
        #expect(shortLease.status == 64)
        #expect(shortLease.standardError.contains("--lease must be at least 1s"))

        let start = ContinuousClock.now
        let away = try await SpindleExecutable.run([
            "crawl", "--frontier", "postgres://postgres@127.0.0.1:1/none?sslmode=disable", "--crawl-id", "a", "--reconnect-limit", "2s",
            "http://127.0.0.1:9/",
        ])
        #expect(away.status == 1)
        #expect(away.standardError.contains("the server at 127.0.0.1:1 did not answer"), "\(away.standardError)")
        #expect(ContinuousClock.now - start < .seconds(30), "gives up at the limit, not at the driver's own timeouts")
    }

    static func expected(_ site: BlogSite, pages: Int) -> [CrawlRecord] {
        site.expectedRecords(forPages: 1...pages).map { CrawlRecord.selection(page: $0.pageURL, href: $0.href, text: $0.title) }
    }
}

/// One shared crawl for a test: its own crawl ID in the test database, and a folder for the
/// workers' outputs.
struct SharedCrawl {
    let id = "shared-\(UUID().uuidString.prefix(8))"
    let directory: CrawlTestDirectory
    let url: String

    init() throws {
        directory = try CrawlTestDirectory()
        url = try #require(testPostgresURL)
    }

    func output(ofWorker worker: Int) -> String { directory.path("worker-\(worker).jsonl") }

    func arguments(worker: Int, site: BlogSite, extra: [String] = []) -> [String] {
        [
            "crawl", "--frontier", url, "--crawl-id", id, "--follow", SharedCrawlTests.follow, "--select", "a.post-item-title",
            "--concurrency", "8", "--quiet", "--output", output(ofWorker: worker),
        ] + (extra.contains("--per-host") ? [] : ["--per-host", "8"]) + extra + [site.listPageURL(1).absoluteString]
    }

    /// Runs `count` workers at once to their end.
    func runWorkers(_ count: Int, firstWorker: Int = 1, site: BlogSite, extra: [String] = []) async throws -> [SpindleExecutable.Run] {
        try await withThrowingTaskGroup(of: SpindleExecutable.Run.self) { group in
            for worker in firstWorker..<(firstWorker + count) {
                let arguments = arguments(worker: worker, site: site, extra: extra)
                group.addTask { try await SpindleExecutable.run(arguments, timeout: .seconds(240)) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
    }

    func records(ofWorker worker: Int) throws -> [CrawlRecord] {
        guard FileManager.default.fileExists(atPath: output(ofWorker: worker)) else { return [] }
        return try String(contentsOfFile: output(ofWorker: worker), encoding: .utf8).split(separator: "\n").map { line in
            try JSONDecoder().decode(CrawlRecord.self, from: Data(line.utf8))
        }
    }

    /// The records of a worker that may have been killed mid-line: whole lines only.
    func completeRecords(ofWorker worker: Int) -> [CrawlRecord] {
        guard let text = try? String(contentsOfFile: output(ofWorker: worker), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").compactMap { try? JSONDecoder().decode(CrawlRecord.self, from: Data($0.utf8)) }
    }

    /// `--export` and `--status` on the shared crawl: every expected record exactly once.
    func expectExport(site: BlogSite, pages: Int) async throws {
        let exportPath = directory.path("export.jsonl")
        let export = try await SpindleExecutable.run(["crawl", "--frontier", url, "--crawl-id", id, "--export", exportPath, "--status"])
        #expect(export.status == 0, "\(export.standardError)")
        #expect(export.standardOutput.contains("pending 0, leased 0, done \(pages * 20), failed 0, records \(pages * 19)"), "\(export.standardOutput)")
        let records = try String(contentsOfFile: exportPath, encoding: .utf8).split(separator: "\n").map { line in
            try JSONDecoder().decode(CrawlRecord.self, from: Data(line.utf8))
        }
        let expected = SharedCrawlTests.expected(site, pages: pages)
        #expect(records.count == expected.count, "no record lost or stored twice")
        #expect(Set(records) == Set(expected))
    }
}

/// Restarts the test cluster in `directory` with scripts/postgres-test-cluster.sh; returns
/// once the server logs that it accepts connections again (fails after 60 s).
private func restartServer(_ directory: String) async throws {
    let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let log = URL(fileURLWithPath: directory).appendingPathComponent("server.log")
    let ready = "database system is ready to accept connections"
    func readyCount() -> Int {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").components(separatedBy: ready).count - 1
    }
    let before = readyCount()
    let process = Process()
    process.executableURL = root.appendingPathComponent("scripts/postgres-test-cluster.sh")
    process.arguments = ["restart", directory]
    process.standardInput = FileHandle.nullDevice
    process.standardOutput = FileHandle.nullDevice
    process.standardError = FileHandle.nullDevice
    try process.run()
    // The server's log says when it is back; the script's own end is not waited for (under
    // the test runner its `su` may linger), it is stopped by its PID once the server is up.
    let deadline = ContinuousClock.now + .seconds(60)
    while readyCount() <= before {
        try #require(ContinuousClock.now < deadline, "the PostgreSQL server did not come back within 60 s")
        try await Task.sleep(for: .milliseconds(50))
    }
    if process.isRunning { kill(process.processIdentifier, SIGTERM) }
}
