import Foundation
import SpindleCrawler
import SpindleServer

extension TourSections {
    static let threadsAndCrawler = TourSection(title: "The blog crawler, step by step: one thread, many threads, a pipeline, a pool, async") { tour in
        let pages = tour.quick ? 8 : 20
        tour.say("""
            The course's running example fetches the list pages of a blog and keeps every \
            a.post-item-title link (href, title). It makes the crawler faster step by step. Here \
            every step runs over the same fetch and parse code (AsyncHTTPClient, libxml2) against \
            a local copy of the blog that answers each request after 100 ms: \(pages) pages, each \
            engine allowed \(pages) at once. `spindle crawl --engine NAME` runs any of them.
            """)
        try await withBlogSite(BlogSiteConfiguration(pages: pages, latency: .milliseconds(100))) { site in
            let urls = (1...pages).map(site.listPageURL)
            let expected = Set(site.expectedRecords(forPages: 1...pages).map(SiteLink.init))
            let steps: [(CrawlEngineKind, String)] = [
                (.sequential, """
                    single_thread: one requests.get after another, so the waits add up. Spindle's \
                    sequential engine is the same loop and the baseline for the rest.
                    """),
                (.threads, """
                    multi_thread: one threading.Thread per URL, all started at once and joined. \
                    Spindle starts an OS thread per page too, but at most --concurrency at a time, \
                    so a list of 100,000 URLs does not mean 100,000 threads.
                    """),
                (.pipeline, """
                    producer-consumer: 3 fetcher threads feed a queue.Queue that 2 parser threads \
                    drain, printing the queue size; the course's threads loop forever. Spindle's \
                    queues are bounded (a fast stage waits for a slow one), their depths show in \
                    the progress line, and each stage ends once the one before it has.
                    """),
                (.pool, """
                    ThreadPoolExecutor: map fetches every URL, then submit + as_completed parses \
                    them. Spindle does the same on ThreadPoolExecutor, in windows so it never holds \
                    every body at once; --engine pool-callbacks parses in add_done_callback style.
                    """),
                (.async, """
                    asyncio + aiohttp: a coroutine per URL on one thread. Spindle runs a task per \
                    page under an AsyncSemaphore; no thread blocks while a response is on its way.
                    """),
            ]
            var times: [CrawlEngineKind: Duration] = [:]
            for (engine, story) in steps {
                tour.line("")
                tour.say(story)
                let (links, summary) = try await crawl(urls, engine: engine, concurrency: pages)
                times[engine] = summary.elapsed
                tour.line("  \(engine.rawValue): \(summary.pages) pages, \(summary.records) records in \(tour.format(summary.elapsed))")
                guard links == expected, summary.failed == 0 else {
                    throw TourCheckFailed("the \(engine.rawValue) engine returned \(links.count) of \(expected.count) expected links (\(summary.failed) pages failed)")
                }
            }
            let sequential = times[.sequential]!
            tour.line("")
            tour.line("  every engine returned the same \(expected.count) links; speedup over sequential:")
            for (engine, _) in steps where engine != .sequential {
                tour.line("    \(engine.rawValue.padding(toLength: 10, withPad: " ", startingAt: 0)) \(String(format: "%.1fx", sequential.seconds / times[engine]!.seconds))")
            }
            tour.record("crawl.async.speedup", sequential.seconds / times[.async]!.seconds)
            tour.say("""
                Waiting is what a crawler does, so anything that overlaps the waits wins by about \
                the number of pages in flight. Threads, pools and tasks all get there here; they \
                part ways when pages are many and cores few (see `spindle bench crawl`).
                """)
        }
    }

    static let asyncSemaphore = TourSection(title: "asyncio's Semaphore: bounding requests in flight") { tour in
        let pages = tour.quick ? 20 : 50
        tour.say("""
            The course's last crawler wraps each aiohttp request in `async with semaphore`, \
            Semaphore(10), so a long URL list does not open a connection per URL at once. Spindle's \
            async engine takes an AsyncSemaphore permit before it even creates a page's task. The \
            blog site counts the requests it is serving at once; here is its high-water mark for \
            \(pages) pages at 100 ms each, with 1, 5, 10 and 50 permits.
            """)
        try await withBlogSite(BlogSiteConfiguration(pages: pages, latency: .milliseconds(100))) { site in
            let urls = (1...pages).map(site.listPageURL)
            for permits in [1, 5, 10, 50] {
                site.requestLog.resetMaxInFlight()
                let (_, summary) = try await crawl(urls, engine: .async, concurrency: permits)
                let peak = site.requestLog.maxInFlight
                tour.line("  Semaphore(\(permits)):".padding(toLength: 18, withPad: " ", startingAt: 0)
                    + "\(tour.format(summary.elapsed)), at most \(peak) requests in flight")
                guard peak <= permits, summary.failed == 0 else {
                    throw TourCheckFailed("with \(permits) permits the site saw \(peak) requests at once (\(summary.failed) pages failed)")
                }
            }
            tour.say("""
                The time falls as permits grow, until every page is in flight at once; the bound \
                is what keeps a crawler polite to a site, and its memory flat.
                """)
        }
    }

    /// Crawls `urls` for `a.post-item-title` links with `engine` and returns the links found.
    private static func crawl(_ urls: [URL], engine: CrawlEngineKind, concurrency: Int) async throws -> (Set<SiteLink>, CrawlSummary) {
        let records = MemoryRecordSink()
        let result = try await CrawlSession(quiet: true, showsProgress: false, records: records).run(
            urls.map { PageTask(url: $0) },
            options: FrontierCrawlOptions(
                engine: engine, concurrency: concurrency, perHost: concurrency, extraction: .selection(try CSSSelector("a.post-item-title"))))
        return (Set(records.records.compactMap(SiteLink.init)), result.summary)
    }
}
