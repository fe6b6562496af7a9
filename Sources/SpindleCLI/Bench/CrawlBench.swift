import ArgumentParser
import Foundation
import SpindleCrawler
import SpindleServer

/// `spindle bench crawl`: every crawl engine against an in-process blog site, and the course's
/// own Python crawlers against the same site in the same run.
struct CrawlBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crawl",
        abstract: "Crawler engines against the course's Python crawlers (requests + threads, aiohttp + Semaphore).",
        discussion: """
            Latency: 50 list pages served with 100 ms of latency, crawled by every engine with \
            --concurrency 50 (crawl.ENGINE.latency100, seconds; the floor is one round of 100 ms). \
            Each is compared with Spindle's sequential engine (about 5 s); the sequential engine \
            with the course's single_thread program (requests + BeautifulSoup), and the threads \
            and async engines also show the course's multi_thread and aiohttp programs beside them.

            Throughput: --pages list pages with no latency, crawled, parsed and written to a file by \
            `spindle crawl --engine async` in a child process (--throughput-runs times; the median \
            run is reported) and by the course's aiohttp + \
            asyncio.Semaphore + BeautifulSoup crawler on --python-pages of them spread evenly \
            (the pager makes each page of a big site long), same concurrency (crawl.async.throughput, \
            pages/s; crawl.async.peak_rss, MB, each process's own peak). The site is crawled once \
            before either is measured, so both meet the same warm site.

            Link following (`spindle crawl --follow` on a frontier): a site of --follow-pages \
            pages (list pages of 19 posts, followed through `a.post-item-title, .pager a`) with no \
            latency, crawled --follow-runs times with `--state crawl.sqlite` and as often with \
            `--state :memory:`, alternating, each in a child process (crawl.follow_sqlite, pages/s, \
            medians; the goal is at least 0.8× the in-memory frontier). Then --memory-pages pages \
            on SQLite: its peak RSS against the --follow-pages runs' (crawl.follow_sqlite.peak_rss, \
            MB, each child's own high-water mark; the goal is at most 1.5×).

            With --frontier postgres://…: --follow-pages pages at 10 ms crawled by one process on \
            SQLite and by 2 and 4 `spindle crawl --frontier` workers sharing one crawl, every \
            process at --concurrency, the workers' shared --per-host the sum of theirs \
            (crawl.shared_postgres.2_workers against SQLite, goal at least 0.7×; 4_workers against \
            2, goal not slower), and 2 workers held to one process's --per-host over both \
            (2_workers_one_budget, no goal).

            Every run's records are checked against what the site says it holds; a run that \
            returns the wrong records fails the suite. The Python crawlers' packages (aiohttp, \
            beautifulsoup4, requests) are installed with pip where missing.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "List pages of the throughput run.")
    var pages = 2000

    @Option(help: "Requests in flight in the throughput run, for Spindle and aiohttp alike (the course uses Semaphore(10)).")
    var concurrency = 10

    @Option(name: .customLong("throughput-runs"), help: "Runs of `spindle crawl` in the throughput measurement (the median run's pages/s and peak RSS are reported).")
    var throughputRuns = 3

    @Option(help: "Pages the Python crawler fetches in the throughput run, spread evenly over the site (BeautifulSoup needs about 0.2 s for one of its pages).")
    var pythonPages = 300

    @Option(name: .customLong("follow-pages"), help: "Pages of the link-following runs, SQLite vs in-memory frontier (a multiple of 20).")
    var followPages = 2000

    @Option(name: .customLong("memory-pages"), help: "Pages of the big link-following run, whose peak RSS is compared with the smaller runs' (a multiple of 20).")
    var memoryPages = 20_000

    @Option(name: .customLong("follow-runs"), help: "Runs of each frontier in the link-following comparison (medians are reported).")
    var followRuns = 5

    @Option(help: ArgumentHelp("Also compare workers sharing a crawl on this PostgreSQL server (2 and 4) with one process on SQLite.", valueName: "postgres-url"))
    var frontier: String?

    @Option(help: "Which part to run: engines (engines vs the course's crawlers), follow (the frontier crawl), or all.")
    var only: CrawlBenchPart = .all

    func validate() throws {
        for (name, value) in [("--follow-pages", followPages), ("--memory-pages", memoryPages)]
        where value % 20 != 0 || !(100...(20 * BlogSiteConfiguration.maximumPages)).contains(value) {
            throw ValidationError("\(name) must be a multiple of 20 between 100 and \(20 * BlogSiteConfiguration.maximumPages), got \(value)")
        }
        guard (1...20).contains(followRuns) else { throw ValidationError("--follow-runs must be between 1 and 20, got \(followRuns)") }
        guard (1...20).contains(throughputRuns) else { throw ValidationError("--throughput-runs must be between 1 and 20, got \(throughputRuns)") }
        guard (10...BlogSiteConfiguration.maximumPages).contains(pages) else {
            throw ValidationError("--pages must be between 10 and \(BlogSiteConfiguration.maximumPages), got \(pages)")
        }
        guard (1...1000).contains(concurrency) else { throw ValidationError("--concurrency must be between 1 and 1000, got \(concurrency)") }
        guard (10...pages).contains(pythonPages) else { throw ValidationError("--python-pages must be between 10 and --pages (\(pages)), got \(pythonPages)") }
    }

    func run() async throws {
        if only != .follow {
            try PythonPeer.ensure(modules: ["aiohttp", "bs4", "requests"], packages: ["aiohttp", "beautifulsoup4", "requests"])
        }
        let scratch = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-bench-crawl-\(getpid())")
        try FileManager.default.createDirectory(at: scratch, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: scratch) }

        var report = BenchReport(suite: "crawl")
        var problems: [String] = []
        if only != .follow {
            try await measureLatency(into: &report, problems: &problems, scratch: scratch)
            try await measureThroughput(into: &report, problems: &problems, scratch: scratch)
        }
        if only != .engines {
            try await measureFollowing(into: &report, problems: &problems, scratch: scratch)
        }
        if let frontier {
            try await measureSharedPostgres(url: frontier, into: &report, problems: &problems, scratch: scratch)
        }
        #if DEBUG
        report.notes.append("Debug build: build with -c release for figures worth quoting.")
        #endif
        report.notes.append(contentsOf: problems.map { "WRONG: \($0)" })
        report.print(json: options.json)
        if !problems.isEmpty {
            throw ExitCode(1)
        }
    }

    // MARK: 50 pages at 100 ms

    private func measureLatency(into report: inout BenchReport, problems: inout [String], scratch: URL) async throws {
        let pageCount = 50
        let latencyConcurrency = 50
        try await withBlogSite(BlogSiteConfiguration(pages: pageCount, latency: .milliseconds(100))) { site in
            let urls = (1...pageCount).map(site.listPageURL)
            let expected = Set(site.expectedRecords(forPages: 1...pageCount).map { SiteLink($0) })
            var seconds: [CrawlEngineKind: Double] = [:]
            var rates: [CrawlEngineKind: Double] = [:]
            for engine in CrawlEngineKind.allCases {
                let (summary, links) = try await crawlInProcess(urls, engine: engine, concurrency: latencyConcurrency)
                if links != expected || summary.failed > 0 {
                    problems.append("the \(engine.rawValue) engine returned \(links.count) of \(expected.count) expected records, \(summary.failed) pages failed")
                }
                seconds[engine] = summary.seconds
                rates[engine] = summary.pagesPerSecond
            }
            let single = try await python(["crawl_threads.py", "single", site.origin, "\(pageCount)", scratch.appendingPathComponent("single.jsonl").path])
            let multi = try await python(["crawl_threads.py", "multi", site.origin, "\(pageCount)", scratch.appendingPathComponent("multi.jsonl").path])
            let list = try write(urls, to: scratch.appendingPathComponent("latency-urls.txt"))
            let aiohttp = try await python(["crawl_aiohttp.py", list.path, "\(latencyConcurrency)", scratch.appendingPathComponent("aiohttp.jsonl").path])
            for (name, run) in [("single_thread", single), ("multi_thread", multi), ("aiohttp", aiohttp)] where run.records != expected.count {
                problems.append("the course's \(name) crawler returned \(run.records) of \(expected.count) records")
            }

            let sequential = seconds[.sequential]!
            report.add(BenchFigure(
                name: "crawl.sequential.latency100", unit: "s", value: sequential, direction: .lowerIsBetter,
                baseline: "course single_thread (requests + BeautifulSoup)", baselineValue: single.seconds,
                extra: [("pages_per_s", rates[.sequential]!)]))
            for engine in CrawlEngineKind.allCases where engine != .sequential {
                var extra = [("pages_per_s", rates[engine]!)]
                if engine == .threads { extra.append(("python_multi_thread_s", multi.seconds)) }
                if engine == .async { extra.append(("python_aiohttp_s", aiohttp.seconds)) }
                report.add(BenchFigure(
                    name: "crawl.\(engine.rawValue).latency100", unit: "s", value: seconds[engine]!, direction: .lowerIsBetter,
                    baseline: "spindle sequential engine", baselineValue: sequential, extra: extra))
            }
            report.notes.append("latency100: \(pageCount) pages × 100 ms, --concurrency \(latencyConcurrency); the floor is 0.1 s.")
        }
    }

    /// Crawls `urls` in this process and returns the summary and the links found.
    private func crawlInProcess(_ urls: [URL], engine: CrawlEngineKind, concurrency: Int) async throws -> (CrawlSummary, Set<SiteLink>) {
        let records = MemoryRecordSink()
        let result = try await CrawlSession(quiet: true, showsProgress: false, records: records).run(
            urls.map { PageTask(url: $0) },
            options: FrontierCrawlOptions(
                engine: engine, concurrency: concurrency, perHost: concurrency, extraction: .selection(try CSSSelector("a.post-item-title"))))
        return (result.summary, Set(records.records.compactMap(SiteLink.init)))
    }

    // MARK: many pages, no latency

    private func measureThroughput(into report: inout BenchReport, problems: inout [String], scratch: URL) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: pages)) { site in
            let list = try write((1...pages).map(site.listPageURL), to: scratch.appendingPathComponent("urls.txt"))
            // Every k-th page: BeautifulSoup is too slow for all of them, and the sample meets
            // cached and uncached pages of the site in the same proportion.
            let stride = Double(pages) / Double(pythonPages)
            let sample = (0..<pythonPages).map { site.listPageURL(1 + Int(Double($0) * stride)) }
            let pythonList = try write(sample, to: scratch.appendingPathComponent("python-urls.txt"))
            // One unmeasured pass renders every page, so both measured crawls meet a warm site.
            _ = try await crawlInProcess((1...pages).map(site.listPageURL), engine: .async, concurrency: concurrency)

            let records = scratch.appendingPathComponent("spindle.jsonl").path
            var runs: [(rate: Double, records: Int, memory: Double)] = []
            for _ in 0..<throughputRuns {
                let output = try await offloaded {
                    try PythonPeer.run([
                        BenchServerProcess.currentExecutable(), "crawl", "--urls-from", list.path, "--select", "a.post-item-title",
                        "--engine", "async", "--concurrency", "\(concurrency)", "--output", records, "--json-summary", "--quiet",
                    ])
                }
                guard let line = output.split(separator: "\n").last,
                    let summary = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                    let rate = summary["pages_per_second"] as? Double,
                    let written = summary["records"] as? Int
                else {
                    throw PythonPeer.Failure(description: "spindle crawl printed no summary: \(output.suffix(500))")
                }
                runs.append((rate, written, summary["peak_rss_mb"] as? Double ?? .nan))
            }
            // The median run by pages/s; every run must have written every record.
            let median = runs.sorted { $0.rate < $1.rate }[runs.count / 2]
            let spindleRate = median.rate
            let spindleMemory = median.memory
            let spindleRecords = runs.map(\.records).min() ?? 0
            let aiohttp = try await python(["crawl_aiohttp.py", pythonList.path, "\(concurrency)", scratch.appendingPathComponent("aiohttp-many.jsonl").path])
            let postsPerPage = site.configuration.postsPerPage
            if spindleRecords != pages * postsPerPage { problems.append("spindle crawl wrote \(spindleRecords) of \(pages * postsPerPage) records") }
            if aiohttp.records != pythonPages * postsPerPage {
                problems.append("the course's aiohttp crawler wrote \(aiohttp.records) of \(pythonPages * postsPerPage) records")
            }

            report.add(BenchFigure(
                name: "crawl.async.throughput", unit: "pages/s", value: spindleRate, direction: .higherIsBetter,
                baseline: "course aiohttp + asyncio.Semaphore + BeautifulSoup", baselineValue: aiohttp.pagesPerSecond))
            report.add(BenchFigure(
                name: "crawl.async.peak_rss", unit: "MB", value: spindleMemory, direction: .lowerIsBetter,
                baseline: "course aiohttp + asyncio.Semaphore + BeautifulSoup", baselineValue: aiohttp.peakMegabytes))
            report.notes.append(
                "throughput: \(pages) pages (Python: \(pythonPages) of them, evenly spread), no latency, concurrency \(concurrency), records written to a file; spindle crawl (median of \(throughputRuns) runs: \(runs.map { String(Int($0.rate.rounded())) }.joined(separator: ", ")) pages/s) and python3 each in a process of their own, the site in this one.")
        }
    }

    // MARK: link following on a frontier

    private func measureFollowing(into report: inout BenchReport, problems: inout [String], scratch: URL) async throws {
        var sqliteRates: [Double] = []
        var memoryRates: [Double] = []
        var smallPeaks: [Double] = []
        try await withBlogSite(BlogSiteConfiguration(pages: followPages / 20, postsPerPage: 19)) { site in
            // One unmeasured pass renders every page, so every measured run meets a warm site.
            _ = try await followCrawl(site, pages: followPages, state: ":memory:", scratch: scratch, problems: &problems)
            for run in 0..<followRuns {
                let state = scratch.appendingPathComponent("follow-\(run).sqlite").path
                let sqlite = try await followCrawl(site, pages: followPages, state: state, scratch: scratch, problems: &problems)
                sqliteRates.append(sqlite.rate)
                smallPeaks.append(sqlite.peakMegabytes)
                memoryRates.append(try await followCrawl(site, pages: followPages, state: ":memory:", scratch: scratch, problems: &problems).rate)
            }
        }
        let bigPeak = try await withBlogSite(BlogSiteConfiguration(pages: memoryPages / 20, postsPerPage: 19)) { site in
            let state = scratch.appendingPathComponent("follow-big.sqlite").path
            return try await followCrawl(site, pages: memoryPages, state: state, scratch: scratch, problems: &problems).peakMegabytes
        }
        let sqliteRate = Self.median(sqliteRates)
        let memoryRate = Self.median(memoryRates)
        let smallPeak = Self.median(smallPeaks)
        report.add(BenchFigure(
            name: "crawl.follow_sqlite", unit: "pages/s", value: sqliteRate, direction: .higherIsBetter,
            baseline: "the same crawl on the in-memory frontier", baselineValue: memoryRate, extra: [("goal_ratio", 0.8)]))
        report.add(BenchFigure(
            name: "crawl.follow_sqlite.peak_rss", unit: "MB", value: bigPeak, direction: .lowerIsBetter,
            baseline: "the same crawl of \(followPages) pages", baselineValue: smallPeak,
            extra: [("pages", Double(memoryPages)), ("growth", smallPeak > 0 ? bigPeak / smallPeak : .nan), ("goal_growth", 1.5)]))
        report.notes.append(
            "follow: `spindle crawl --follow` from /sitehome/p/1, \(followPages) pages, no latency, --concurrency \(concurrency) --per-host \(concurrency), medians of \(followRuns) runs per frontier, alternating; peak RSS of \(memoryPages) pages vs \(followPages), SQLite, each a child process.")
    }

    /// Runs `spindle crawl --follow` over `site` in a child process; checks its counts.
    private func followCrawl(
        _ site: BlogSite, pages: Int, state: String, scratch: URL, problems: inout [String]
    ) async throws -> (rate: Double, peakMegabytes: Double) {
        let records = scratch.appendingPathComponent("follow.jsonl").path
        let arguments = [
            BenchServerProcess.currentExecutable(), "crawl", "--state", state, "--follow", "a.post-item-title, .pager a",
            "--select", "a.post-item-title", "--concurrency", "\(concurrency)", "--per-host", "\(concurrency)",
            "--output", records, "--json-summary", "--quiet", site.listPageURL(1).absoluteString,
        ]
        let output = try await offloaded { try PythonPeer.run(arguments) }
        defer {
            for suffix in ["", "-wal", "-shm", "-lock"] { try? FileManager.default.removeItem(atPath: state + suffix) }
        }
        guard let line = output.split(separator: "\n").last,
            let summary = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
            let rate = summary["pages_per_second"] as? Double, let done = summary["succeeded"] as? Int,
            let recordCount = summary["records"] as? Int
        else {
            throw PythonPeer.Failure(description: "spindle crawl --follow printed no summary: \(output.suffix(500))")
        }
        if done != pages || recordCount != pages / 20 * 19 {
            problems.append("spindle crawl --follow --state \(state == ":memory:" ? state : "FILE") crawled \(done) of \(pages) pages, \(recordCount) of \(pages / 20 * 19) records")
        }
        return (rate, summary["peak_rss_mb"] as? Double ?? .nan)
    }

    private static func median(_ values: [Double]) -> Double {
        let sorted = values.sorted()
        guard !sorted.isEmpty else { return .nan }
        return sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
    }

    // MARK: Helpers

    /// Writes `urls` one per line to `file` and returns it.
    private func write(_ urls: [URL], to file: URL) throws -> URL {
        try urls.map(\.absoluteString).joined(separator: "\n").write(to: file, atomically: true, encoding: .utf8)
        return file
    }

    /// What a Python crawler reported.
    struct PythonRun {
        var records: Int
        var seconds: Double
        var pagesPerSecond: Double
        var peakMegabytes: Double
    }

    private func python(_ arguments: [String]) async throws -> PythonRun {
        try await offloaded {
            let object = try PythonPeer.run(script: arguments[0], arguments: Array(arguments.dropFirst()))
            guard let records = object["records"] as? Int, let seconds = object["seconds"] as? Double,
                let rate = object["pages_per_second"] as? Double
            else {
                throw PythonPeer.Failure(description: "\(arguments[0]) printed an unexpected summary: \(object)")
            }
            return PythonRun(records: records, seconds: seconds, pagesPerSecond: rate, peakMegabytes: object["peak_rss_mb"] as? Double ?? .nan)
        }
    }

    /// Runs blocking work (a child process) on a thread of its own, so the site this process
    /// serves keeps every cooperative thread.
    private func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { try work() })
            }
        }
    }
}

/// The parts of `spindle bench crawl`.
enum CrawlBenchPart: String, CaseIterable, ExpressibleByArgument {
    case all, engines, follow
}
