import Foundation
import SpindleCrawler
import SpindleServer
import Testing

private typealias Support = EngineTestSupport

/// A page that cannot be crawled becomes a failure with its reason, and the others go on; a
/// sink that fails stops the crawl.
@Suite("Crawler engines: failures")
struct EngineFailureTests {
    @Test(
        "a closed port, a 404, an oversize body and a stalled body each fail with their reason; the good pages are crawled",
        arguments: CrawlEngineKind.allCases)
    func failuresAreRecorded(engine: CrawlEngineKind) async throws {
        let closedPort = try Support.closedPort()
        defer { withExtendedLifetime(closedPort) {} }
        let closed = Support.closedURL(closedPort)
        try await withBlogSite(BlogSiteConfiguration(pages: 2, faults: true)) { site in
            let missing = site.url(path: "/sitehome/p/99")
            let huge = site.url(for: .hugeBody)
            let stalled = site.url(for: .stall)
            let urls = [site.listPageURL(1), closed, missing, huge, stalled, site.listPageURL(2)]
            // The read timeout tells a 30 s stall from a busy machine (tests run in parallel); the
            // connect timeout is long so that a refusal, which is immediate, is never overtaken
            // by the request's connect deadline on a machine busy building and testing at once.
            let fetch = FetchConfiguration(
                connectTimeout: .seconds(30), readTimeout: .seconds(4), totalTimeout: .seconds(25), maxBodySize: 1024 * 1024)
            let (summary, sink) = try await Support.crawl(urls, engine: engine, concurrency: 3, fetch: fetch)

            #expect(summary.pages == 6)
            #expect(summary.failed == 4)
            #expect(summary.exitStatus == 0, "some pages were crawled")
            let expected = site.expectedRecords(forPages: 1...2).map(LinkRecord.init)
            #expect(Set(sink.records.compactMap(LinkRecord.init)) == Set(expected))

            let failures = Dictionary(uniqueKeysWithValues: sink.failures.map { ($0.url, $0) })
            let refused = try #require(failures[closed.absoluteString])
            #expect(refused.fetchErrorCode == .connectionFailed)
            #expect(refused.isTransient)
            let notFound = try #require(failures[missing.absoluteString])
            #expect(notFound.status == 404)
            #expect(notFound.reason == "HTTP 404 Not Found")
            #expect(!notFound.isTransient)
            let tooLarge = try #require(failures[huge.absoluteString])
            #expect(tooLarge.fetchErrorCode == .bodyTooLarge)
            #expect(tooLarge.reason.hasPrefix("bodyTooLarge: "))
            let timedOut = try #require(failures[stalled.absoluteString])
            #expect(timedOut.fetchErrorCode == .timeout)
            #expect(timedOut.reason.hasPrefix("timeout: "))
            #expect(timedOut.description.hasPrefix(stalled.absoluteString + ": "))
        }
    }

    @Test("every page failing gives exit status 1", arguments: [CrawlEngineKind.async, .pipeline])
    func nothingCrawled(engine: CrawlEngineKind) async throws {
        let closedPort = try Support.closedPort()
        defer { withExtendedLifetime(closedPort) {} }
        let closed = Support.closedURL(closedPort)
        let (summary, sink) = try await Support.crawl([closed, closed.appendingPathComponent("other")], engine: engine)
        #expect(summary.pages == 2)
        #expect(summary.failed == 2)
        #expect(sink.records.isEmpty)
        #expect(summary.exitStatus == 1)
    }

    @Test("a 503 is a transient failure and a 500 too; the Retry-After of a 429 is kept")
    func transientStatuses() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 1, faults: true)) { site in
            let (_, sink) = try await Support.crawl(
                [site.url(for: .flakyServerError), site.url(for: .rateLimited)], engine: .sequential)
            let failures = Dictionary(uniqueKeysWithValues: sink.failures.map { ($0.status, $0) })
            #expect(failures[500]?.isTransient == true)
            #expect(failures[500]?.reason == "HTTP 500 Internal Server Error")
            #expect(failures[429]?.isTransient == true)
            #expect(failures[429]?.retryAfter == .seconds(1))
        }
    }

    @Test("a sink that throws stops the crawl: the error comes back and no page is started after it", arguments: CrawlEngineKind.allCases)
    func sinkErrorStops(engine: CrawlEngineKind) async throws {
        // More pages than the pool engine's first map window (64 at this concurrency), which
        // it fetches before parsing any.
        let pages = 150
        try await withBlogSite(BlogSiteConfiguration(pages: pages)) { site in
            try await withFetcher { fetcher in
                let sink = FailingOutcomeSink(failAt: 2)
                let crawler = Crawler(
                    engine: engine, processor: PageProcessor(fetcher: fetcher, extraction: .pageSummary),
                    options: CrawlEngineOptions(concurrency: 2))
                await #expect(throws: FailingOutcomeSink.DiskFull.self) {
                    _ = try await crawler.run(Support.listPages(site, pages).map { PageTask(url: $0) }, sink: sink)
                }
                #expect(sink.acceptedCount == 2, "outcomes after the error are dropped")
                // Pages already started may finish; the rest are never fetched.
                #expect(site.requestLog.totalRequests <= 70)
            }
        }
    }

    @Test("cancelling the crawling task ends every engine promptly, even with pages stalled", arguments: CrawlEngineKind.allCases)
    func cancellation(engine: CrawlEngineKind) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 1, faults: true)) { site in
            let stalled = Array(repeating: site.url(for: .stall), count: 6)
            let crawl = Task {
                try await Support.crawl(stalled, engine: engine, concurrency: 2, fetch: FetchConfiguration(readTimeout: .seconds(2)))
            }
            try await FetcherTestSupport.waitUntil("the first stalled request arrived") { site.requestLog.totalRequests >= 1 }
            crawl.cancel()
            let result = await crawl.result
            // Fetches already running end with their read timeout (2 s) or the cancellation; the
            // pages not started are never fetched: 6 stalls of 2 s by 2 would take 6 s.
            #expect(throws: CancellationError.self) { try result.get() }
            #expect(site.requestLog.totalRequests <= 2)
        }
    }
}
