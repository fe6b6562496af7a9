import Foundation
import SpindleCrawler
import SpindleServer
import Testing

private typealias Support = EngineTestSupport

/// A page that cannot be crawled becomes a failure with its reason, and the others go on; a
/// record output that fails stops the crawl.
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
            let crawl = try await Support.crawl(urls, engine: engine, concurrency: 3, fetch: fetch)

            #expect(crawl.summary.done == 2)
            #expect(crawl.summary.failed == 4)
            let expected = site.expectedRecords(forPages: 1...2).map(LinkRecord.init)
            #expect(Set(crawl.records.compactMap(LinkRecord.init)) == Set(expected))

            // Transient failures (no retries here) say how many attempts were made.
            let failures = crawl.failures
            #expect(failures.count == 4)
            #expect(failures[closed.absoluteString]?.hasPrefix("connectionFailed: ") == true)
            #expect(failures[closed.absoluteString]?.hasSuffix(" (after 1 attempts)") == true)
            #expect(failures[missing.absoluteString] == "HTTP 404 Not Found")
            #expect(failures[huge.absoluteString]?.hasPrefix("bodyTooLarge: ") == true)
            #expect(failures[stalled.absoluteString]?.hasPrefix("timeout: ") == true)
        }
    }

    @Test("every page failing gives exit status 1", arguments: [CrawlEngineKind.async, .pipeline])
    func nothingCrawled(engine: CrawlEngineKind) async throws {
        let closedPort = try Support.closedPort()
        defer { withExtendedLifetime(closedPort) {} }
        let closed = Support.closedURL(closedPort)
        let crawl = try await Support.crawl([closed, closed.appendingPathComponent("other")], engine: engine)
        #expect(crawl.summary.done == 0)
        #expect(crawl.summary.failed == 2)
        #expect(crawl.records.isEmpty)
        #expect(CrawlSummary(crawl.summary, concurrency: 4, state: FrontierStatus()).exitStatus == 1)
    }

    @Test("a 500 and a 429 are retried, a 404 is not")
    func transientStatuses() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 1, faults: true)) { site in
            let missing = site.url(path: "/sitehome/p/99")
            let crawl = try await Support.crawl(
                [site.url(for: .flakyServerError), site.url(for: .rateLimited), missing], engine: .sequential, retries: 1)
            #expect(crawl.retried == [site.url(for: .flakyServerError).absoluteString, site.url(for: .rateLimited).absoluteString])
            #expect(crawl.failures[missing.absoluteString] == "HTTP 404 Not Found")
        }
    }

    @Test("an output that throws stops the crawl: the error comes back and no page is started after it", arguments: CrawlEngineKind.allCases)
    func outputErrorStops(engine: CrawlEngineKind) async throws {
        let pages = 150
        try await withBlogSite(BlogSiteConfiguration(pages: pages)) { site in
            let records = FailingRecordSink(failAt: 2)
            let session = CrawlSession(quiet: true, showsProgress: false, records: records)
            await #expect(throws: FailingRecordSink.DiskFull.self) {
                _ = try await session.run(
                    Support.listPages(site, pages).map { PageTask(url: $0) },
                    options: FrontierCrawlOptions(engine: engine, concurrency: 2, obeyRobots: false))
            }
            // Pages already started may finish; the rest are never fetched.
            #expect(site.requestLog.totalRequests <= 10)
        }
    }

    @Test("cancelling the crawling task ends every engine promptly, even with pages stalled", arguments: CrawlEngineKind.allCases)
    func cancellation(engine: CrawlEngineKind) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 1, faults: true)) { site in
            let stall = site.url(for: .stall).absoluteString
            let stalled = (1...6).map { URL(string: "\(stall)?n=\($0)")! }
            let crawl = Task {
                try await Support.crawl(stalled, engine: engine, concurrency: 2, fetch: FetchConfiguration(readTimeout: .seconds(2)))
            }
            try await FetcherTestSupport.waitUntil("the first stalled request arrived") { site.requestLog.totalRequests >= 1 }
            crawl.cancel()
            _ = await crawl.result
            // Fetches already running end with their read timeout (2 s) or the cancellation; the
            // pages not started are never fetched: 6 stalls of 2 s by 2 would take 6 s.
            #expect(site.requestLog.totalRequests <= 2)
        }
    }
}
