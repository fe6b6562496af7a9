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
            let (summary, sink) = try await Support.crawl(Support.listPages(site, pages), engine: engine, concurrency: 3)
            let records = sink.records.compactMap(LinkRecord.init)
            let expected = site.expectedRecords(forPages: 1...pages).map(LinkRecord.init)
            #expect(expected.count == 20 * pages)
            #expect(records.count == expected.count, "no record lost or doubled")
            #expect(Set(records) == Set(expected))
            #expect(summary.pages == pages)
            #expect(summary.failed == 0)
            #expect(summary.records == 20 * pages)
            #expect(sink.outcomes.count == pages, "one outcome per page")
        }
    }

    @Test("without a selector, each engine yields one page record: status 200, body size, title", arguments: CrawlEngineKind.allCases)
    func pageRecords(engine: CrawlEngineKind) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 3)) { site in
            let urls = Support.listPages(site, 3)
            let (summary, sink) = try await Support.crawl(urls, engine: engine, extraction: .pageSummary)
            var expected: Set<CrawlRecord> = []
            try await withFetcher { fetcher in
                for url in urls {
                    let page = try await fetcher.fetch(url)
                    let title = try #require(HTMLDocument(html: page.text, url: url).title)
                    #expect(!title.isEmpty)
                    expected.insert(.page(page: url.absoluteString, status: 200, bytes: page.bytes, title: title))
                }
            }
            #expect(sink.records.count == 3)
            #expect(Set(sink.records) == expected)
            #expect(summary.bytes == expected.reduce(0) { total, record in
                if case .page(_, _, let bytes, _) = record { return total + bytes }
                return total
            })
        }
    }

    @Test("no engine has more requests in flight than its concurrency", arguments: CrawlEngineKind.allCases)
    func concurrencyBound(engine: CrawlEngineKind) async throws {
        let concurrency = 3
        try await withBlogSite(BlogSiteConfiguration(pages: 12, latency: .milliseconds(100))) { site in
            let (summary, _) = try await Support.crawl(Support.listPages(site, 12), engine: engine, concurrency: concurrency)
            #expect(summary.pages == 12)
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

    @Test("an empty task list finishes at once with an empty summary", arguments: CrawlEngineKind.allCases)
    func emptyCrawl(engine: CrawlEngineKind) async throws {
        let (summary, sink) = try await Support.crawl([], engine: engine)
        #expect(summary.pages == 0)
        #expect(sink.outcomes.isEmpty)
        #expect(summary.exitStatus == 1, "nothing crawled")
    }

    @Test("options out of range are refused before anything is fetched")
    func invalidOptions() async throws {
        try await withFetcher { fetcher in
            let processor = PageProcessor(fetcher: fetcher, extraction: .pageSummary)
            for options in [CrawlEngineOptions(concurrency: 0), CrawlEngineOptions(parsers: 0), CrawlEngineOptions(queueCapacity: 0)] {
                let crawler = Crawler(engine: .pipeline, processor: processor, options: options)
                await #expect(throws: CrawlInputError.self) {
                    _ = try await crawler.run([PageTask(url: URL(string: "http://127.0.0.1:1/")!)], sink: CollectingOutcomeSink())
                }
            }
        }
    }

    @Test("the pipeline reports its two queues while it runs, and none once done")
    func pipelineQueueDepths() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 8, latency: .milliseconds(50))) { site in
            try await withFetcher { fetcher in
                let progress = CrawlProgress(total: 8)
                let crawler = Crawler(
                    engine: .pipeline, processor: PageProcessor(fetcher: fetcher, extraction: .pageSummary),
                    options: CrawlEngineOptions(concurrency: 2, parsers: 1, queueCapacity: 3))
                let sink = QueueWatchingSink(progress: progress)
                _ = try await crawler.run(Support.listPages(site, 8).map { PageTask(url: $0) }, sink: sink, progress: progress)
                let seen = sink.queuesSeen
                #expect(seen.count == 8)
                #expect(seen.allSatisfy { $0.map(\.name) == ["urls", "pages"] && $0.allSatisfy { $0.capacity == 3 && $0.count <= 3 } })
                #expect(progress.snapshot().queues.isEmpty)
                #expect(progress.snapshot().done == 8)
            }
        }
    }
}

/// Reads the progress's queue depths each time a page is delivered.
private final class QueueWatchingSink: PageOutcomeSink, @unchecked Sendable {
    private let progress: CrawlProgress
    private let lock = NSLock()
    private var seen: [[CrawlProgress.QueueDepth]] = []

    init(progress: CrawlProgress) {
        self.progress = progress
    }

    var queuesSeen: [[CrawlProgress.QueueDepth]] { lock.withLock { seen } }

    func accept(_ outcome: PageOutcome) {
        let queues = progress.snapshot().queues
        lock.withLock { seen.append(queues) }
    }
}
