import Foundation
import SpindleCrawler
import SpindleServer
import Testing

private typealias Support = EngineTestSupport

/// Every engine yields the records a correct crawl of the blog site must produce, stays within
/// its concurrency, and ends when the work is done.
@Suite("Crawler engines: records and concurrency")
struct EngineRecordsTests {
    @Test("each engine yields exactly the 20 × N expected post links of N list pages", arguments: CrawlEngineKind.allCases)
    func selectionRecords(engine: CrawlEngineKind) async throws {
        let pages = 6
        try await withBlogSite(BlogSiteConfiguration(pages: 10, postsPerPage: 20)) { site in
            let crawl = try await Support.crawl(Support.listPages(site, pages), engine: engine, concurrency: 3)
            let summary = crawl.summary
            let records = crawl.records.compactMap(LinkRecord.init)
            let expected = site.expectedRecords(forPages: 1...pages).map(LinkRecord.init)
            #expect(expected.count == 20 * pages)
            #expect(records.count == expected.count, "no record lost or doubled")
            #expect(Set(records) == Set(expected))
            #expect(summary.done == pages, "each page once")
            #expect(summary.failed == 0)
            #expect(summary.records == 20 * pages)
        }
    }

    @Test("without a selector, each engine yields one page record: status 200, body size, title", arguments: CrawlEngineKind.allCases)
    func pageRecords(engine: CrawlEngineKind) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 3)) { site in
            let urls = Support.listPages(site, 3)
            let crawl = try await Support.crawl(urls, engine: engine, extraction: .pageSummary)
            var expected: Set<CrawlRecord> = []
            try await withFetcher { fetcher in
                for url in urls {
                    let page = try await fetcher.fetch(url)
                    let title = try #require(HTMLDocument(html: page.text, url: url).title)
                    #expect(!title.isEmpty)
                    expected.insert(.page(page: url.absoluteString, status: 200, bytes: page.bytes, title: title))
                }
            }
            #expect(crawl.records.count == 3)
            #expect(Set(crawl.records) == expected)
            #expect(crawl.summary.bytes == expected.reduce(0) { total, record in
                if case .page(_, _, let bytes, _) = record { return total + bytes }
                return total
            })
        }
    }

    @Test("no engine has more requests in flight than its concurrency", arguments: CrawlEngineKind.allCases)
    func concurrencyBound(engine: CrawlEngineKind) async throws {
        let concurrency = 3
        try await withBlogSite(BlogSiteConfiguration(pages: 12, latency: .milliseconds(100))) { site in
            let crawl = try await Support.crawl(Support.listPages(site, 12), engine: engine, concurrency: concurrency)
            #expect(crawl.summary.done == 12)
            let maxInFlight = site.requestLog.maxInFlight
            #expect(maxInFlight <= concurrency)
            if engine == .sequential {
                #expect(maxInFlight == 1)
            } else {
                // With 100 ms per response, an engine that overlaps nothing would be sequential.
                #expect(maxInFlight >= 2, "the \(engine.rawValue) engine never overlapped two requests")
            }
        }
    }

    @Test("an empty list finishes at once with an empty summary", arguments: CrawlEngineKind.allCases)
    func emptyCrawl(engine: CrawlEngineKind) async throws {
        let crawl = try await Support.crawl([], engine: engine)
        #expect(crawl.summary.done + crawl.summary.failed == 0)
        #expect(crawl.records.isEmpty)
        #expect(CrawlSummary(crawl.summary, concurrency: 4, state: FrontierStatus()).exitStatus == 1, "nothing crawled")
    }

    @Test("a list crawl crawls a URL listed twice (the same after canonicalisation) once", arguments: [CrawlEngineKind.async, .threads])
    func duplicatesCrawledOnce(engine: CrawlEngineKind) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 2)) { site in
            let first = site.listPageURL(1)
            let again = try #require(URL(string: first.absoluteString + "#top"))
            let records = MemoryRecordSink()
            let result = try await CrawlSession(quiet: true, showsProgress: false, records: records).run(
                [first, again, site.listPageURL(2), first].map { PageTask(url: $0) },
                options: FrontierCrawlOptions(engine: engine, concurrency: 2, obeyRobots: false, extraction: .selection(Support.postTitles)))
            #expect(result.summary.pages == 2)
            #expect(site.requestLog.totalRequests == 2, "each page fetched once")
            let expected = site.expectedRecords(forPages: 1...2).map(LinkRecord.init)
            #expect(records.records.compactMap(LinkRecord.init).sorted(by: { $0.description < $1.description })
                == expected.sorted(by: { $0.description < $1.description }))
        }
    }

    @Test("options out of range are refused before anything is fetched")
    func invalidOptions() async throws {
        for options in [FrontierCrawlOptions(concurrency: 0), FrontierCrawlOptions(parsers: 0), FrontierCrawlOptions(perHost: 0)] {
            await #expect(throws: CrawlInputError.self) {
                _ = try await CrawlSession(quiet: true, showsProgress: false, records: MemoryRecordSink()).run(
                    [PageTask(url: URL(string: "http://127.0.0.1:1/")!)], options: options)
            }
        }
    }
}
