import Foundation
import SpindleCrawler
import SpindleServer

/// `spindle bench crawl --frontier postgres://…`: the shared crawl against the one-process one.
extension CrawlBench {
    /// Two workers on the PostgreSQL frontier against one process on SQLite (goal ≥ 0.7×), and
    /// four workers against two (goal: not slower), pages/s over the wall time from the first
    /// start to the last exit, medians of `followRuns` runs, alternating.
    ///
    /// Every process runs with --concurrency `concurrency`. The workers' --per-host, which
    /// they keep together, is the sum of their concurrencies, so it does not bind and what is
    /// measured is the cost of sharing the crawl, on CPUs the workers, the site and PostgreSQL
    /// share. A third figure, without a goal, gives two workers the one process's budget
    /// (--per-host `concurrency` over both): then they share its slots, and each slot waits for
    /// a report and a lease in PostgreSQL between two pages.
    func measureSharedPostgres(url: String, into report: inout BenchReport, problems: inout [String], scratch: URL) async throws {
        var sqlite: [Double] = []
        var two: [Double] = []
        var four: [Double] = []
        var twoCapped: [Double] = []
        let shared = { (perHost: Int) in ["--frontier", url, "--crawl-id", "bench-\(UUID().uuidString.prefix(8))", "--per-host", "\(perHost)"] }
        try await withBlogSite(BlogSiteConfiguration(pages: followPages / 20, postsPerPage: 19, latency: .milliseconds(10))) { site in
            for run in 0..<followRuns {
                let state = scratch.appendingPathComponent("shared-\(run).sqlite").path
                sqlite.append(try await sharedRate(site, workers: 1, store: ["--state", state, "--per-host", "\(concurrency)"], scratch: scratch, problems: &problems))
                two.append(try await sharedRate(site, workers: 2, store: shared(2 * concurrency), scratch: scratch, problems: &problems))
                four.append(try await sharedRate(site, workers: 4, store: shared(4 * concurrency), scratch: scratch, problems: &problems))
                twoCapped.append(try await sharedRate(site, workers: 2, store: shared(concurrency), scratch: scratch, problems: &problems))
                for suffix in ["", "-wal", "-shm", "-lock"] { try? FileManager.default.removeItem(atPath: state + suffix) }
            }
        }
        let median = { (values: [Double]) -> Double in
            let sorted = values.sorted()
            return sorted.isEmpty ? .nan : sorted.count % 2 == 1 ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
        }
        report.add(BenchFigure(
            name: "crawl.shared_postgres.2_workers", unit: "pages/s", value: median(two), direction: .higherIsBetter,
            baseline: "one process on the SQLite frontier", baselineValue: median(sqlite), extra: [("goal_ratio", 0.7)]))
        report.add(BenchFigure(
            name: "crawl.shared_postgres.4_workers", unit: "pages/s", value: median(four), direction: .higherIsBetter,
            baseline: "two workers on the PostgreSQL frontier", baselineValue: median(two), extra: [("goal_ratio", 1.0)]))
        report.add(BenchFigure(
            name: "crawl.shared_postgres.2_workers_one_budget", unit: "pages/s", value: median(twoCapped), direction: .higherIsBetter,
            baseline: "one process on the SQLite frontier", baselineValue: median(sqlite)))
        report.notes.append(
            "shared: `spindle crawl --follow` of \(followPages) pages at 10 ms, every process --concurrency \(concurrency); "
                + "SQLite --per-host \(concurrency); workers --per-host \(concurrency) × workers, kept over all of them (one_budget: \(concurrency) over both); "
                + "pages/s from the first start to the last exit, medians of \(followRuns) runs, alternating; the workers, the site and PostgreSQL share this machine's CPUs.")
    }

    /// Runs `workers` `spindle crawl` processes on one crawl at once; returns pages per second.
    private func sharedRate(_ site: BlogSite, workers: Int, store: [String], scratch: URL, problems: inout [String]) async throws -> Double {
        let start = ContinuousClock.now
        let outputs = try await withThrowingTaskGroup(of: String.self) { group in
            for worker in 0..<workers {
                let summaryPath = scratch.appendingPathComponent("shared-\(worker).summary").path
                let arguments = ["crawl"] + store + [
                    "--follow", "a.post-item-title, .pager a", "--select", "a.post-item-title", "--concurrency", "\(concurrency)",
                    "--output", scratch.appendingPathComponent("shared-\(worker).jsonl").path,
                    "--json-summary", "--quiet", site.listPageURL(1).absoluteString,
                ]
                group.addTask { try await Self.runWorker(arguments, summaryPath: summaryPath) }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        let seconds = (ContinuousClock.now - start).timeInterval
        var done = 0
        for output in outputs {
            guard let line = output.split(separator: "\n").last,
                  let summary = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
                  let succeeded = summary["succeeded"] as? Int else {
                throw PythonPeer.Failure(description: "spindle crawl printed no summary: \(output.suffix(500))")
            }
            done += succeeded
        }
        if done != followPages {
            problems.append("\(workers) worker(s) on \(store[0]) crawled \(done) of \(followPages) pages")
        }
        return Double(done) / seconds
    }

    /// Runs `spindle arguments` with its standard output and error in `summaryPath` (the
    /// --json-summary line comes last).
    private static func runWorker(_ arguments: [String], summaryPath: String) async throws -> String {
        let status = try await SpindleChild.run(arguments, outputPath: summaryPath)
        let output = (try? String(contentsOfFile: summaryPath, encoding: .utf8)) ?? ""
        guard status == 0 else {
            throw PythonPeer.Failure(description: "spindle \(arguments.joined(separator: " ")) exited with \(status): \(output.suffix(500))")
        }
        return output
    }
}
