import Foundation
import SpindleServer
import Testing
@testable import SpindleCrawler

/// Every engine drives every frontier: the same link-following crawl of the blog site gives the
/// same records whichever engine schedules it and wherever the frontier keeps it.
@Suite("Every engine × every frontier", .timeLimit(.minutes(5)))
struct EngineFrontierMatrixTests {
    /// The kinds this run can open: PostgreSQL when `SPINDLE_TEST_POSTGRES_URL` names a server.
    static let kinds: [FrontierKind] = FrontierKind.local + (testPostgresURL == nil ? [] : [.postgres])

    @Test("--follow over the blog site: each record once, every page fetched once", arguments: CrawlEngineKind.allCases, kinds)
    func sameRecords(engine: CrawlEngineKind, kind: FrontierKind) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 4, postsPerPage: 6, latency: .milliseconds(5))) { site in
            try await withFrontierFixture(kind) { fixture in
                let frontier = try await fixture.open()
                let options = FrontierCrawlOptions(
                    engine: engine, concurrency: 4, parsers: 2, perHost: 4,
                    extraction: .selection(try CSSSelector("a.post-item-title")),
                    follow: try CSSSelector("a.post-item-title, a.p_next"),
                    scope: try CrawlScope(allowedHosts: [try CanonicalURL(site.baseURL).authority])
                )
                let summary = try await withFetcher(options.fetchConfiguration()) { fetcher in
                    try await FrontierCrawl(frontier: frontier, fetcher: fetcher, options: options)
                        .run(seeds: [FrontierEntry(try CanonicalURL(site.listPageURL(1)))])
                }
                let records = try await frontier.allRecords()
                try await frontier.close()

                let expected = site.expectedRecords().map { CrawlRecord.selection(page: $0.pageURL, href: $0.href, text: $0.title) }
                #expect(summary.ending == .finished)
                #expect(summary.done == 4 * 7 && summary.failed == 0, "4 list pages and their 24 posts")
                #expect(records.count == expected.count, "no record lost or stored twice")
                #expect(Set(records) == Set(expected))
                let byPath = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
                #expect(byPath.count == 28 && byPath.values.allSatisfy { $0 == 1 }, "each page fetched once")
            }
        }
    }

    @Test("the options are checked in the library's words, with one concurrency range for every engine")
    func optionErrors() throws {
        let scope = try CrawlScope()
        #expect(throws: CrawlInputError("concurrency must be between 1 and 1000, got 1001")) {
            try FrontierCrawlOptions(engine: .threads, concurrency: 1001, scope: scope).validate()
        }
        #expect(throws: CrawlInputError("parsers must be between 1 and 64, got 0")) {
            try FrontierCrawlOptions(engine: .pipeline, parsers: 0, scope: scope).validate()
        }
        #expect(throws: CrawlInputError("delay must not be negative, got -1.0 seconds")) {
            try FrontierCrawlOptions(delay: .seconds(-1), scope: scope).validate()
        }
        let configuration = FrontierCrawlOptions(concurrency: 40, perHost: 8, scope: scope).fetchConfiguration(FetchConfiguration(maxConnectionsPerHost: 2))
        #expect(configuration.maxConnectionsPerHost == 40 && !configuration.followRedirects)
    }
}
