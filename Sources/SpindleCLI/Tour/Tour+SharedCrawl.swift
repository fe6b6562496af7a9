import Foundation
import SpindleCrawler
import SpindleServer

extension TourSections {
    static let sharedCrawl = TourSection(title: "One crawl, two workers, through PostgreSQL") { tour in
        tour.say("""
            When one machine is not enough, several crawlers share one frontier in PostgreSQL: \
            each leases URLs with SELECT ... FOR UPDATE SKIP LOCKED, so no two workers fetch the \
            same page, and a lease that expires (a worker died) goes back to the others. Here two \
            workers, each with its own connection pool, crawl one local site together.
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
        let selector = try CSSSelector("a.post-item-title")
        let fetcher = try Fetcher()
        do {
            let seeds = try (1...pages).map { FrontierEntry(try CanonicalURL(site.listPageURL($0))) }
            let first = try await PostgresFrontier(url: url, crawlID: crawlID, workerID: "worker-1")
            _ = try await first.add(seeds)
            let second = try await PostgresFrontier(url: url, crawlID: crawlID, workerID: "worker-2")
            let processor = PageProcessor(fetcher: fetcher, extraction: .selection(selector))
            let (counts, elapsed) = try await tour.time {
                try await withThrowingTaskGroup(of: Int.self) { group in
                    for frontier in [first, second] {
                        group.addTask { try await sharedCrawlWorker(frontier, processor: processor) }
                    }
                    return try await group.reduce(into: []) { $0.append($1) }
                }
            }
            let records = try await first.allRecords()
            let expected = Set(site.expectedRecords(forPages: 1...pages).map(SiteLink.init))
            let got = records.compactMap(SiteLink.init)
            tour.line("  pages per worker: \(counts.map(String.init).joined(separator: " + ")) = \(counts.reduce(0, +)) of \(pages), in \(tour.format(elapsed))")
            tour.line("  records: \(got.count), expected \(expected.count), duplicates \(got.count - Set(got).count)")
            try await first.close()
            try await second.close()
            try await fetcher.shutdown()
            guard counts.reduce(0, +) == pages, Set(got) == expected, got.count == expected.count else {
                throw TourCheckFailed("the shared crawl lost or repeated pages")
            }
        } catch {
            try? await fetcher.shutdown()
            throw error
        }
    }
}

/// One worker: lease, fetch and parse, record done with the records, until the crawl is finished.
private func sharedCrawlWorker(_ frontier: PostgresFrontier, processor: PageProcessor) async throws -> Int {
    var done = 0
    while true {
        let leased = try await frontier.lease(limit: 4)
        if leased.isEmpty {
            if try await frontier.isFinished() { return done }
            try await Task.sleep(for: .milliseconds(20))
            continue
        }
        for lease in leased {
            let outcome = await processor.process(PageTask(url: lease.url.url, depth: lease.depth))
            if let failure = outcome.failure {
                try await frontier.fail(lease.url, error: failure.reason)
            } else {
                _ = try await frontier.complete(lease.url, records: outcome.records, discovered: [])
                done += 1
            }
        }
    }
}
