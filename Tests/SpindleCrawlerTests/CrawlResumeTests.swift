import Foundation
import SpindleCrawler
import SpindleServer
import Testing

/// `spindle crawl --state` stopped in every way a user stops it, then run again: the real
/// executable as a subprocess, against a site in this process whose request log tells what was
/// fetched.
@Suite("spindle crawl --state (stop and resume)")
struct CrawlResumeTests {
    static let follow = "a.post-item-title, a.p_next"

    /// 25 list pages × (1 + 19 posts) = 500 pages, 20 ms each.
    static let site = BlogSiteConfiguration(pages: 25, postsPerPage: 19, latency: .milliseconds(20))

    static func arguments(state: String, output: String, site: BlogSite, engine: CrawlEngineKind = .async) -> [String] {
        [
            "crawl", "--engine", engine.rawValue, "--state", state, "--follow", follow, "--select", "a.post-item-title", "--concurrency", "8",
            "--per-host", "8", "--quiet", "--output", output, site.listPageURL(1).absoluteString,
        ]
    }

    @Test(
        "SIGKILL mid-crawl, then the same command: the export is exactly the expected records; no page fetched more than once beyond those in flight",
        arguments: [CrawlEngineKind.async, .threads, .pipeline])
    func resumeAfterKill(engine: CrawlEngineKind) async throws {
        let directory = try CrawlTestDirectory()
        try await withBlogSite(Self.site) { site in
            let state = directory.path("crawl.sqlite")
            let arguments = Self.arguments(state: state, output: directory.path("run.jsonl"), site: site, engine: engine)
            let crawl = try SpindleProcess(arguments)
            try await crawl.waitUntil { site.requestLog.totalRequests >= 250 }
            crawl.kill(SIGKILL)
            #expect(await crawl.exitStatus() == SIGKILL)
            let fetchedBeforeKill = site.requestLog.totalRequests
            #expect(fetchedBeforeKill < 500, "killed mid-way")

            let resumed = try await SpindleExecutable.run(arguments)
            #expect(resumed.status == 0, "\(resumed.standardError)")
            try await Self.expectExport(state: state, directory: directory, site: site)
            try Self.expectRecords(inFile: directory.path("run.jsonl"), site: site, "the resumed run's --output")

            let byPath = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
            #expect(byPath.count == 500, "every page fetched")
            #expect(byPath.values.allSatisfy { $0 <= 2 }, "no page fetched more than twice")
            let refetched = byPath.values.filter { $0 == 2 }.count
            #expect(refetched <= 8, "only pages in flight at the kill (at most --concurrency 8) are fetched again, got \(refetched)")
        }
    }

    @Test("Ctrl-C or SIGTERM finishes the pages in flight and exits 128+signal with nothing leased; the same command completes it with no page fetched twice", arguments: [SIGINT, SIGTERM])
    func resumeAfterInterrupt(signal: Int32) async throws {
        let directory = try CrawlTestDirectory()
        try await withBlogSite(Self.site) { site in
            let state = directory.path("crawl.sqlite")
            let arguments = Self.arguments(state: state, output: directory.path("run.jsonl"), site: site)
            let crawl = try SpindleProcess(arguments)
            try await crawl.waitUntil { site.requestLog.totalRequests >= 150 }
            crawl.kill(signal)
            #expect(await crawl.exitStatus() == 128 + signal)

            let status = try await SpindleExecutable.run(["crawl", "--state", state, "--status"])
            #expect(status.standardOutput.contains("leased 0,"), "in-flight pages finished, unstarted leases handed back: \(status.standardOutput)")
            #expect(!status.standardOutput.contains("done 0,"))

            let resumed = try await SpindleExecutable.run(arguments)
            #expect(resumed.status == 0, "\(resumed.standardError)")
            try await Self.expectExport(state: state, directory: directory, site: site)
            try Self.expectRecords(inFile: directory.path("run.jsonl"), site: site, "the resumed run's --output")
            let byPath = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
            #expect(byPath.count == 500 && byPath.values.allSatisfy { $0 == 1 }, "a graceful stop loses nothing: each page fetched once")
        }
    }

    @Test(
        "a second Ctrl-C stops at once, even with a page stalled; the page is pending again on resume",
        arguments: [CrawlEngineKind.async, .threads, .pool, .pipeline])
    func secondInterruptStopsAtOnce(engine: CrawlEngineKind) async throws {
        let directory = try CrawlTestDirectory()
        try await withBlogSite(BlogSiteConfiguration(pages: 1, faults: true)) { site in
            let state = directory.path("crawl.sqlite")
            let stall = site.url(for: .stall).absoluteString
            let crawl = try SpindleProcess(["crawl", "--engine", engine.rawValue, "--state", state, "--timeout", "60s", "--quiet", "--output", directory.path("run.jsonl"), stall])
            try await crawl.waitUntil { site.requestLog.requests(to: BlogSiteFault.stall.path) == 1 }
            let start = ContinuousClock.now
            crawl.kill(SIGINT)
            try await Task.sleep(for: .milliseconds(200))
            crawl.kill(SIGINT)
            #expect(await crawl.exitStatus() == 130)
            #expect(ContinuousClock.now - start < .seconds(4), "well before the 5 s grace period and the 30 s stall")

            let status = try await SpindleExecutable.run(["crawl", "--state", state, "--status"])
            #expect(status.standardOutput.contains("pending 1, leased 0, done 0, failed 0"), "\(status.standardOutput)")
        }
    }

    @Test("bad input: a file that is not a crawl state, --export without --state, a bad --follow or --include")
    func badInput() async throws {
        let directory = try CrawlTestDirectory()
        let notState = directory.path("notes.sqlite")
        try Data("just some text, not SQLite\n".utf8).write(to: URL(fileURLWithPath: notState))
        let wrongFile = try await SpindleExecutable.run(["crawl", "--state", notState, "http://127.0.0.1:9/"])
        #expect(wrongFile.status == 1)
        #expect(wrongFile.standardError.contains("\(notState) is not an SQLite database"), "\(wrongFile.standardError)")
        #expect(try String(contentsOfFile: notState, encoding: .utf8) == "just some text, not SQLite\n", "left untouched")

        let noState = try await SpindleExecutable.run(["crawl", "--export", directory.path("out.jsonl")])
        #expect(noState.status == 64)
        #expect(noState.standardError.contains("--status and --export read a crawl state file: add --state FILE"))

        let selector = try await SpindleExecutable.run(["crawl", "--follow", "a[", "http://127.0.0.1:9/"])
        #expect(selector.status == 64)
        #expect(selector.standardError.contains("--follow: "))

        let regex = try await SpindleExecutable.run(["crawl", "--include", "(", "http://127.0.0.1:9/"])
        #expect(regex.status == 64)
        #expect(regex.standardError.contains("--include: '(' is not a valid regular expression"))
    }

    /// Exports the state and checks it holds each expected record exactly once.
    static func expectExport(state: String, directory: CrawlTestDirectory, site: BlogSite) async throws {
        let exportPath = directory.path("export.jsonl")
        let export = try await SpindleExecutable.run(["crawl", "--state", state, "--export", exportPath, "--status"])
        #expect(export.status == 0, "\(export.standardError)")
        #expect(export.standardOutput.contains("pending 0, leased 0, done 500, failed 0, records 475"), "\(export.standardOutput)")
        try expectRecords(inFile: exportPath, site: site, "the export")
    }

    /// Checks that the JSON Lines file at `path` holds each of the site's 475 records exactly once.
    static func expectRecords(inFile path: String, site: BlogSite, _ what: String) throws {
        let records = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
            try JSONDecoder().decode(CrawlRecord.self, from: Data(line.utf8))
        }
        let expected = site.expectedRecords(forPages: 1...25).map { CrawlRecord.selection(page: $0.pageURL, href: $0.href, text: $0.title) }
        #expect(records.count == expected.count, "\(what): no record lost or written twice")
        #expect(Set(records) == Set(expected), "\(what): the site's records")
    }
}

/// A `spindle` process started in the background, for tests that signal it.
final class SpindleProcess: Sendable {
    private let process: Process
    private let exited: AsyncStream<Void>

    init(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = SpindleExecutable.url
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        process.terminationHandler = { _ in continuation.finish() }
        try process.run()
        self.process = process
        exited = stream
    }

    /// Polls `condition` every 5 ms; fails if the process exits first or 60 s pass.
    func waitUntil(_ condition: () -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while !condition() {
            try #require(process.isRunning, "spindle exited before the condition held")
            try #require(ContinuousClock.now < deadline, "the condition did not hold within 60 s")
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    func kill(_ signal: Int32) {
        _ = Foundation.kill(process.processIdentifier, signal)
    }

    /// The exit status, or the signal number if a signal ended it; kills it after 60 s.
    func exitStatus() async -> Int32 {
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: .seconds(60))
            _ = Foundation.kill(pid, SIGKILL)
        }
        for await _ in exited {}
        watchdog.cancel()
        return process.terminationStatus
    }
}
