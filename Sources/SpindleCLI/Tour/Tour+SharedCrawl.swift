import Foundation
import SpindleCrawler
import SpindleServer

extension TourSections {
    static let sharedCrawl = TourSection(title: "One crawl, two workers, through PostgreSQL") { tour in
        tour.say("""
            When one machine is not enough, several `spindle crawl` processes share one frontier \
            in PostgreSQL (--frontier postgres://… --crawl-id NAME): each leases URLs with \
            SELECT ... FOR UPDATE SKIP LOCKED, so no two workers fetch the same page; a worker \
            that dies has its leases taken over once they expire (--lease); --per-host and \
            --delay hold over all workers together, and robots.txt is fetched once for the crawl. \
            Here two worker processes follow the links of one local site together.
            """)
        guard let url = ProcessInfo.processInfo.environment["SPINDLE_POSTGRES_URL"], !url.isEmpty else {
            tour.line("  PostgreSQL is not configured for this run: set SPINDLE_POSTGRES_URL=postgres://user@host/db")
            tour.line("  (scripts/tour.sh starts a private server when PostgreSQL is installed). Skipped.")
            return
        }
        let pages = tour.quick ? 8 : 24
        let site = try await BlogSite.start(BlogSiteConfiguration(pages: pages, latency: .milliseconds(20)))
        defer { Task { await site.stop() } }
        let crawlID = "tour-\(UUID().uuidString.prefix(8))"
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-tour-\(crawlID)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let outputs = (1...2).map { folder.appendingPathComponent("worker-\($0).jsonl").path }
        // One record per page, so each worker's file is its share of the pages. The first list
        // page links 20 posts at once: the crawl fans out, and each worker (4 pages at a time)
        // leaves work for the other.
        let (statuses, elapsed) = try await tour.time {
            try await withThrowingTaskGroup(of: Int32.self) { group in
                for output in outputs {
                    group.addTask {
                        try await SpindleChild.run([
                            "crawl", "--frontier", url, "--crawl-id", crawlID, "--follow", "a.post-item-title, a.p_next",
                            "--concurrency", "4", "--per-host", "8", "--quiet", "--output", output, site.listPageURL(1).absoluteString,
                        ])
                    }
                }
                return try await group.reduce(into: []) { $0.append($1) }
            }
        }
        let perWorker = try outputs.map { path in
            try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map { line in
                try JSONDecoder().decode(CrawlRecord.self, from: Data(line.utf8)).page
            }
        }
        let got = perWorker.flatMap { $0 }
        let posts = site.expectedRecords(forPages: 1...pages).map(\.href)
        let expected = Set(try ((1...pages).map { site.listPageURL($0).absoluteString } + posts).map { try CanonicalURL($0).string })
        let fetched = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
        tour.line("  pages per worker: \(perWorker.map { String($0.count) }.joined(separator: " + ")) = \(got.count), expected \(expected.count), duplicates \(got.count - Set(got).count), in \(tour.format(elapsed))")
        tour.line("  the site saw \(fetched.count) pages, \(fetched.values.filter { $0 > 1 }.count) of them more than once; robots.txt \(site.requestLog.requests(to: "/robots.txt")) time(s)")
        guard statuses.allSatisfy({ $0 == 0 }) else {
            throw TourCheckFailed("a worker exited with status \(statuses.first { $0 != 0 }!)")
        }
        guard Set(got) == expected, got.count == expected.count else {
            throw TourCheckFailed("the shared crawl lost or repeated pages")
        }
        guard perWorker.allSatisfy({ !$0.isEmpty }) else {
            throw TourCheckFailed("one worker crawled every page: the crawl was not shared")
        }
    }
}
