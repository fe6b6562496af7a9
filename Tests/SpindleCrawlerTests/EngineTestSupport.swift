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

/// What a list crawl in the engine tests gave: the run's summary, the records, and what
/// happened to the URLs that were retried or given up on.
struct ListCrawl: Sendable {
    var summary: FrontierCrawlSummary
    var records: [CrawlRecord]
    /// Each URL given up on, with the reason the crawl gave.
    var failures: [String: String]
    /// The URLs the crawl said it would try again.
    var retried: Set<String>
}

/// Collects a crawl's events (they come from the pages' tasks, several at once).
final class CrawlEventLog: @unchecked Sendable {
    private let lock = NSLock()
    private var records: [CrawlRecord] = []
    private var failures: [String: String] = [:]
    private var retried: Set<String> = []

    func record(_ event: FrontierCrawlEvent) {
        lock.withLock {
            switch event {
            case .done(_, let pageRecords, _, _): records += pageRecords
            case .failed(let url, let reason): failures[url.string] = reason
            case .retrying(let url, _, _): retried.insert(url.string)
            case .attempt, .note: break
            }
        }
    }

    func crawl(_ summary: FrontierCrawlSummary) -> ListCrawl {
        lock.withLock { ListCrawl(summary: summary, records: records, failures: failures, retried: retried) }
    }
}

/// What the engine tests share: running a crawl against a site, and the selector of the course.
enum EngineTestSupport {
    static let postTitles = try! CSSSelector("a.post-item-title")

    /// Crawls `urls` as a list crawl does (an in-memory frontier, no links followed) with
    /// `engine`, up to `concurrency` pages at once on any host, robots.txt not asked for, and
    /// `retries` retries of a transient failure.
    static func crawl(
        _ urls: [URL],
        engine: CrawlEngineKind,
        concurrency: Int = 4,
        extraction: RecordExtraction = .selection(postTitles),
        fetch: FetchConfiguration = FetchConfiguration(),
        retries: Int = 0
    ) async throws -> ListCrawl {
        let options = FrontierCrawlOptions(
            engine: engine, concurrency: concurrency, perHost: concurrency, obeyRobots: false,
            retryPolicy: RetryPolicy(maxRetries: retries, baseDelay: .milliseconds(10)), extraction: extraction)
        let seeds = try urls.map { FrontierEntry(try CanonicalURL($0)) }
        let events = CrawlEventLog()
        let summary = try await withFetcher(options.fetchConfiguration(fetch)) { fetcher in
            try await FrontierCrawl(frontier: MemoryFrontier(), fetcher: fetcher, options: options).run(seeds: seeds, observer: events.record)
        }
        return events.crawl(summary)
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

/// A record output that fails on the `failAt`-th write, to check that a crawl stops on output errors.
final class FailingRecordSink: RecordSink, @unchecked Sendable {
    struct DiskFull: Error {}

    private let lock = NSLock()
    private let failAt: Int
    private var written = 0

    init(failAt: Int) {
        self.failAt = failAt
    }

    var writeCount: Int { lock.withLock { written } }

    func write(_ records: [CrawlRecord]) throws {
        try lock.withLock {
            written += 1
            if written == failAt { throw DiskFull() }
        }
    }

    func finish() throws {}
}
