import Foundation
import SpindleCrawler
import SpindleServer
import SpindleTestSupport
import Testing

extension CrawlEngineKind: CustomTestStringConvertible {
    public var testDescription: String { rawValue }
}

/// A selection record reduced to what the blog site's expected records say, for comparing sets.
struct LinkRecord: Hashable, CustomStringConvertible {
    var page: String
    var href: String?
    var text: String

    init(page: String, href: String?, text: String) {
        self.page = page
        self.href = href
        self.text = text
    }

    init(_ link: BlogPostLink) {
        self.init(page: link.pageURL, href: link.href, text: link.title)
    }

    /// The link of a selection record; nil for a page record.
    init?(_ record: CrawlRecord) {
        guard case .selection(let page, let href, let text) = record else { return nil }
        self.init(page: page, href: href, text: text)
    }

    var description: String { "\(page) → \(href ?? "nil") \"\(text)\"" }
}

/// What the engine tests share: running a crawl against a site, and the selector of the course.
enum EngineTestSupport {
    static let postTitles = try! CSSSelector("a.post-item-title")

    /// Crawls `urls` with `engine` and a fetcher of `fetch`'s configuration, collecting outcomes.
    static func crawl(
        _ urls: [URL],
        engine: CrawlEngineKind,
        concurrency: Int = 4,
        extraction: RecordExtraction = .selection(postTitles),
        fetch: FetchConfiguration = FetchConfiguration()
    ) async throws -> (summary: CrawlSummary, sink: CollectingOutcomeSink) {
        try await withFetcher(fetch) { fetcher in
            let sink = CollectingOutcomeSink()
            let crawler = Crawler(
                engine: engine,
                processor: PageProcessor(fetcher: fetcher, extraction: extraction),
                options: CrawlEngineOptions(concurrency: concurrency, parsers: 2))
            let summary = try await crawler.run(urls.map { PageTask(url: $0) }, sink: sink)
            return (summary, sink)
        }
    }

    /// The list pages `1...count` of `site`.
    static func listPages(_ site: BlogSite, _ count: Int) -> [URL] {
        (1...count).map(site.listPageURL)
    }

    /// A port on 127.0.0.1 that refuses connections while the value lives (see
    /// ``RefusingPort``); its URL is ``closedURL(_:)``.
    static func closedPort() throws -> RefusingPort {
        try RefusingPort()
    }

    /// A list page's URL on `port`.
    static func closedURL(_ port: RefusingPort) -> URL {
        URL(string: "http://127.0.0.1:\(port.port)/sitehome/p/1")!
    }
}

/// A sink that fails on the `failAt`-th outcome, to check that engines stop on sink errors.
final class FailingOutcomeSink: PageOutcomeSink, @unchecked Sendable {
    struct DiskFull: Error {}

    private let lock = NSLock()
    private let failAt: Int
    private var accepted = 0

    init(failAt: Int) {
        self.failAt = failAt
    }

    var acceptedCount: Int { lock.withLock { accepted } }

    func accept(_ outcome: PageOutcome) throws {
        try lock.withLock {
            accepted += 1
            if accepted == failAt { throw DiskFull() }
        }
    }
}

