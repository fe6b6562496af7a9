import Foundation
import SpindleCrawler
import Spindle
import SpindleServer
import Testing

private typealias Support = FetcherTestSupport

@Suite("Fetcher")
struct FetcherTests {
    @Test("fetches a list page: status, body, headers, final URL, and the title links a parse finds")
    func fetchesListPage() async throws {
        try await Support.withSiteAndFetcher(site: BlogSiteConfiguration(pages: 4, postsPerPage: 20)) { site, fetcher async throws in
            for pageNumber in 1...4 {
                let url = site.listPageURL(pageNumber)
                let page = try await fetcher.fetch(url)
                #expect(page.status == 200)
                #expect(page.isSuccess)
                #expect(page.url == url)
                #expect(page.requestedURL == url)
                #expect(page.redirectCount == 0)
                #expect(page.bytes == page.body.count)
                #expect(page.bytes > 40_000)
                #expect(page.header("content-length") == "\(page.bytes)")
                #expect(page.mediaType == "text/html")
                #expect(page.isHTML)
                #expect(page.elapsed > .zero)

                let document = HTMLDocument(bytes: page.body, contentTypeHeader: page.contentType, url: page.url)
                let links = try document.select("a.post-item-title").map { anchor in
                    BlogPostLink(
                        pageURL: page.url.absoluteString,
                        href: anchor.absoluteURL()?.absoluteString ?? "(none)",
                        title: anchor.trimmedText
                    )
                }
                #expect(links == site.expectedRecords(forPages: [pageNumber]))
            }
        }
    }

    @Test("sends the spindle User-Agent by default, and the configured one otherwise")
    func userAgent() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            _ = try await fetcher.fetch(site.listPageURL(1))
            #expect(site.requestLog.snapshot().requestsByUserAgent == ["spindle/\(spindleVersion)": 1])
            #expect(FetchConfiguration.defaultUserAgent == "spindle/\(spindleVersion)")
        }
        try await Support.withSiteAndFetcher(fetch: FetchConfiguration(userAgent: "course-crawler/2")) { site, fetcher async throws in
            _ = try await fetcher.fetch(site.listPageURL(1))
            #expect(site.requestLog.snapshot().requestsByUserAgent == ["course-crawler/2": 1])
        }
    }

    @Test("HTTP error statuses are pages, not errors")
    func errorStatusesArePages() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            let missing = try await fetcher.fetch(site.url(path: "/sitehome/p/999"))
            #expect(missing.status == 404)
            #expect(!missing.isSuccess)
        }
    }

    @Test("a fetch by string works, and a string that is no fetchable URL is invalidURL")
    func fetchByString() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            #expect(try await fetcher.fetch(site.origin + "/robots.txt").status == 200)
            let error = await #expect(throws: FetchError.self) { _ = try await fetcher.fetch("no scheme here") }
            #expect(error?.code == .invalidURL)
        }
    }

    @Test(
        "URLs that cannot be fetched fail before any I/O with an error naming the URL",
        arguments: [
            ("ftp://127.0.0.1/file.txt", FetchError.Code.unsupportedScheme),
            ("mailto:someone@blogs.example", .unsupportedScheme),
            ("file:///etc/passwd", .unsupportedScheme),
            ("http:///no-host", .invalidURL),
            ("/sitehome/p/1", .invalidURL),
        ]
    )
    func unfetchableURLs(text: String, code: FetchError.Code) async throws {
        try await withFetcher { fetcher async throws in
            let url = try #require(URL(string: text))
            let error = await #expect(throws: FetchError.self) { _ = try await fetcher.fetch(url) }
            #expect(error?.code == code)
            #expect(error?.description.contains(url.absoluteString) == true, "\(error?.description ?? "")")
        }
    }

    @Test("a closed port fails fast with connectionFailed")
    func connectionRefused() async throws {
        let site = try await BlogSite.start(BlogSiteConfiguration(pages: 1))
        let url = site.listPageURL(1)
        await site.stop()
        try await withFetcher(FetchConfiguration(connectTimeout: .seconds(5))) { fetcher async throws in
            let (error, _) = await Support.fetchError(fetcher, url)
            #expect(error?.code == .connectionFailed, "\(error.map(String.init(describing:)) ?? "")")
            #expect(error?.isTransient == true)
            #expect(error?.description.contains(url.absoluteString) == true)
        }
    }

    @Test(
        "an invalid configuration is refused, naming the field",
        arguments: [
            (FetchConfiguration(maxBodySize: 0), "maxBodySize"),
            (FetchConfiguration(totalTimeout: .zero), "totalTimeout"),
            (FetchConfiguration(readTimeout: .seconds(-1)), "readTimeout"),
            (FetchConfiguration(maxRedirects: -1), "maxRedirects"),
            (FetchConfiguration(maxConnectionsPerHost: 0), "maxConnectionsPerHost"),
            (FetchConfiguration(userAgent: "evil\r\nX-Injected: 1"), "userAgent"),
        ]
    )
    func invalidConfiguration(configuration: FetchConfiguration, field: String) throws {
        let error = #expect(throws: FetchError.self) { _ = try Fetcher(configuration: configuration) }
        #expect(error?.code == .invalidConfiguration)
        #expect(error?.message.contains(field) == true, "\(error?.message ?? "")")
    }

    @Test("many fetches to one host run concurrently, never more than maxConnectionsPerHost")
    func perHostConcurrency() async throws {
        let slowSite = BlogSiteConfiguration(pages: 2, postsPerPage: 5, latency: .seconds(2))
        // 50 connections opened at once while the rest of the suite runs: give them time to connect.
        var patient = FetchConfiguration()
        patient.connectTimeout = .seconds(60)
        patient.totalTimeout = .seconds(120)
        try await Support.withSiteAndFetcher(site: slowSite, fetch: patient) { site, fetcher async throws in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<50 { group.addTask { try await fetcher.fetch(site.listPageURL(1)).status } }
                for try await status in group { #expect(status == 200) }
            }
            // More than AsyncHTTPClient's default of 8 connections per host: the default of 100
            // is in force. (How many overlap beyond that depends on the machine's load.)
            #expect(site.requestLog.maxInFlight > 8)
            #expect(site.requestLog.maxInFlight <= 50)
        }
        patient.maxConnectionsPerHost = 4
        try await Support.withSiteAndFetcher(site: slowSite, fetch: patient) { site, fetcher async throws in
            try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<12 { group.addTask { try await fetcher.fetch(site.listPageURL(2)).status } }
                for try await status in group { #expect(status == 200) }
            }
            #expect(site.requestLog.maxInFlight <= 4)
            #expect(site.requestLog.maxInFlight > 1)
            #expect(site.requestLog.snapshot().acceptedConnections <= 4)
            #expect(site.requestLog.requests(to: "/sitehome/p/2") == 12)
        }
    }

    @Test("fetchBlocking serves plain threads, one fetch per thread")
    func fetchBlockingFromThreads() async throws {
        try await Support.withSiteAndFetcher(site: BlogSiteConfiguration(pages: 4, postsPerPage: 3)) { site, fetcher async throws in
            let urls = (1...4).map(site.listPageURL)
            let statuses = await withCheckedContinuation { (continuation: CheckedContinuation<[Int], Never>) in
                let collector = ThreadResults(count: urls.count) { continuation.resume(returning: $0) }
                for (index, url) in urls.enumerated() {
                    Thread {
                        collector.set(index, (try? fetcher.fetchBlocking(url).status) ?? -1)
                    }.start()
                }
            }
            #expect(statuses == [200, 200, 200, 200])
            for page in 1...4 { #expect(site.requestLog.requests(to: "/sitehome/p/\(page)") == 1) }
        }
    }

    @Test("cancelling the fetching task ends a stalled fetch with CancellationError")
    func cancellation() async throws {
        try await Support.withSiteAndFetcher(fetch: FetchConfiguration(readTimeout: .seconds(60), totalTimeout: .seconds(60))) { site, fetcher async throws in
            let task = Task { try await fetcher.fetch(site.url(for: .stall)) }
            try await Support.waitUntil("the stall request arrived") { site.requestLog.requests(to: BlogSiteFault.stall.path) == 1 }
            task.cancel()
            await #expect(throws: CancellationError.self) { _ = try await task.value }
        }
    }
}

/// Collects one result per thread and hands them over once all are in.
private final class ThreadResults: @unchecked Sendable {
    private let lock = NSLock()
    /// Protected by `lock`.
    private var results: [Int?]
    private let done: @Sendable ([Int]) -> Void

    init(count: Int, done: @escaping @Sendable ([Int]) -> Void) {
        self.results = Array(repeating: nil, count: count)
        self.done = done
    }

    func set(_ index: Int, _ value: Int) {
        let complete: [Int]? = lock.withLock {
            results[index] = value
            return results.contains(where: { $0 == nil }) ? nil : results.map { $0! }
        }
        if let complete { done(complete) }
    }
}
