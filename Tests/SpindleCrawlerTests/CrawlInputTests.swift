import Foundation
import SpindleCrawler
import Testing

/// What a crawl accepts as input, and the summary it ends with.
@Suite("Crawl input and summary")
struct CrawlInputTests {
    @Test("http and https URLs with a host are accepted, surrounding spaces ignored")
    func goodURLs() throws {
        #expect(try PageTask(parsing: "http://127.0.0.1:8080/sitehome/p/1").url.absoluteString == "http://127.0.0.1:8080/sitehome/p/1")
        #expect(try PageTask(parsing: "  https://example.com/  ").url.host == "example.com")
        #expect(try PageTask(parsing: "HTTP://example.com/").depth == 0)
    }

    @Test("bad URLs are refused with the reason", arguments: [
        ("", "an empty URL"),
        ("ftp://example.com/", "the scheme 'ftp' is not supported"),
        ("example.com/page", "is not a URL"),
        ("http:///nohost", "has no host"),
        ("http://exa mple.com/", "is not a URL"),
    ])
    func badURLs(text: String, reason: String) {
        #expect {
            _ = try PageTask(parsing: text)
        } throws: { error in
            (error as? CrawlInputError)?.description.contains(reason) == true
        }
    }

    @Test("a URL list skips blank lines and comments, and names the line of a bad URL")
    func urlList() throws {
        let tasks = try PageTask.tasks(fromList: "# seeds\nhttp://a.test/1\n\n   \nhttp://a.test/2\r\n", source: "urls.txt")
        #expect(tasks.map(\.url.absoluteString) == ["http://a.test/1", "http://a.test/2"])
        #expect {
            _ = try PageTask.tasks(fromList: "http://a.test/1\n# two\nmailto:x@y\n", source: "urls.txt")
        } throws: { error in
            (error as? CrawlInputError)?.description == "urls.txt:3: 'mailto:x@y' is not an http(s) URL: the scheme 'mailto' is not supported"
        }
    }

    @Test("a URL list file is read with the system's reason when it cannot be, and names itself in errors")
    func urlListFile() throws {
        #expect(throws: CrawlInputError("cannot read '/nonexistent-dir/urls.txt': No such file or directory")) {
            try PageTask.tasks(fromFile: "/nonexistent-dir/urls.txt")
        }
        let directory = try CrawlTestDirectory()
        let path = directory.path("urls.txt")
        try Data("http://a.test/1\nftp://a.test/2\n".utf8).write(to: URL(fileURLWithPath: path))
        #expect(throws: CrawlInputError("\(path):2: 'ftp://a.test/2' is not an http(s) URL: the scheme 'ftp' is not supported")) {
            try PageTask.tasks(fromFile: path)
        }
        try Data([0x68, 0xFF, 0xFE]).write(to: URL(fileURLWithPath: path))
        #expect(throws: CrawlInputError("cannot read '\(path)' as UTF-8 text")) { try PageTask.tasks(fromFile: path) }
    }

    @Test("engine options out of range name the option and the range")
    func optionRanges() {
        #expect(throws: CrawlInputError("concurrency must be between 1 and 1000, got 0")) { try FrontierCrawlOptions(concurrency: 0).validate() }
        #expect(throws: CrawlInputError("concurrency must be between 1 and 1000, got 1001")) { try FrontierCrawlOptions(concurrency: 1001).validate() }
        #expect(throws: CrawlInputError("parsers must be between 1 and 64, got 0")) { try FrontierCrawlOptions(parsers: 0).validate() }
        #expect(throws: Never.self) { try FrontierCrawlOptions(concurrency: 1000, parsers: 64).validate() }
    }

    @Test("engine names are the CLI's: pool-callbacks is spelled with a hyphen")
    func engineNames() {
        #expect(CrawlEngineKind.allCases.map(\.rawValue) == ["sequential", "threads", "pool", "pool-callbacks", "pipeline", "async"])
        #expect(CrawlEngineKind(rawValue: "pool-callbacks") == .poolCallbacks)
    }

    @Test("the exit status is 0 when any page was crawled, 1 when none was")
    func exitStatus() {
        func summary(pages: Int, failed: Int) -> CrawlSummary {
            CrawlSummary(engine: .async, concurrency: 4, pages: pages, failed: failed, records: 0, bytes: 0, elapsed: .seconds(1))
        }
        #expect(summary(pages: 10, failed: 0).exitStatus == 0)
        #expect(summary(pages: 10, failed: 9).exitStatus == 0)
        #expect(summary(pages: 10, failed: 10).exitStatus == 1)
        #expect(summary(pages: 0, failed: 0).exitStatus == 1)
    }

    @Test("the JSON summary is one object with sorted keys, and decodes back")
    func summaryJSON() throws {
        var summary = CrawlSummary(engine: .pipeline, concurrency: 3, pages: 50, failed: 1, records: 980, bytes: 123_456, elapsed: .milliseconds(500))
        summary.peakResidentMegabytes = 41.25
        #expect(try summary.json() == """
            {"bytes":123456,"concurrency":3,"engine":"pipeline","failed":1,"pages":50,"pages_per_second":100,\
            "peak_rss_mb":41.3,"records":980,"seconds":0.5,"succeeded":49}
            """)
        let decoded = try JSONDecoder().decode(CrawlSummary.self, from: Data(try summary.json().utf8))
        #expect(decoded.pages == 50 && decoded.failed == 1 && decoded.records == 980 && decoded.elapsed == .milliseconds(500))
        #expect(summary.text == "50 pages (49 crawled, 1 failed), 980 records in 0.50 s: 100.0 pages/s [pipeline, concurrency 3]")
    }

    @Test("a frontier crawl's summary adds how it ended, its retries and its state")
    func frontierSummaryJSON() throws {
        var run = FrontierCrawlSummary(ending: .stopped)
        run.done = 9
        run.failed = 1
        run.retries = 2
        run.records = 40
        run.elapsed = .seconds(2)
        let summary = CrawlSummary(run, concurrency: 4, state: FrontierStatus(pending: 5, done: 9, failed: 1, records: 40))
        #expect(try summary.json() == """
            {"bytes":0,"concurrency":4,"done":9,"ending":"stopped","engine":"async","failed":1,"pages":10,\
            "pages_per_second":5,"pending":5,"records":40,"retries":2,"seconds":2,"succeeded":9}
            """)
        #expect(summary.text == "10 pages (9 done, 1 failed, 2 retries), 40 records in 2.00 s [stopped]; state: pending 5, leased 0, done 9, failed 1, records 40")
        #expect(summary.exitStatus == 0)
    }

    @Test("the progress line shows pages, failures, rate and queue depths")
    func progressLineText() {
        var snapshot = CrawlProgress.Snapshot(total: 2000)
        snapshot.done = 120
        snapshot.failed = 3
        snapshot.elapsed = .seconds(2)
        snapshot.queues = [.init(name: "urls", count: 32, capacity: 32), .init(name: "pages", count: 5, capacity: 32)]
        #expect(ProgressLine.render(snapshot) == "120/2000 pages · 3 failed · 60.0 pages/s · urls 32/32 · pages 5/32")
    }

    @Test("the peak resident memory of this process is known and plausible")
    func peakMemory() throws {
        let megabytes = try #require(ProcessMemory.peakResidentMegabytes())
        #expect(megabytes > 1 && megabytes < 1_000_000)
    }
}
