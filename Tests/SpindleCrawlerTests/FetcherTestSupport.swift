import Foundation
import SpindleCrawler
import SpindleServer
import Testing

/// What the fetcher's tests share: a site and a fetcher started together, and bounded waiting.
enum FetcherTestSupport {
    /// Runs `body` with a blog site (faults on unless told otherwise) and a fetcher.
    static func withSiteAndFetcher<T>(
        site configuration: BlogSiteConfiguration = BlogSiteConfiguration(pages: 3, postsPerPage: 5, faults: true),
        fetch fetchConfiguration: FetchConfiguration = FetchConfiguration(),
        _ body: (BlogSite, Fetcher) async throws -> T
    ) async throws -> T {
        try await withBlogSite(configuration) { site async throws -> T in
            try await withFetcher(fetchConfiguration) { fetcher async throws -> T in
                try await body(site, fetcher)
            }
        }
    }

    /// Fetches and expects a ``FetchError``, returning it with how long the fetch took.
    static func fetchError(
        _ fetcher: Fetcher,
        _ url: URL,
        sourceLocation: SourceLocation = #_sourceLocation
    ) async -> (error: FetchError?, elapsed: Duration) {
        let start = ContinuousClock.now
        do {
            let page = try await fetcher.fetch(url)
            Issue.record("expected a FetchError, got a page with status \(page.status) of \(page.bytes) bytes", sourceLocation: sourceLocation)
            return (nil, ContinuousClock.now - start)
        } catch let error as FetchError {
            return (error, ContinuousClock.now - start)
        } catch {
            Issue.record("expected a FetchError, got \(error)", sourceLocation: sourceLocation)
            return (nil, ContinuousClock.now - start)
        }
    }

    /// Polls `condition` every 10 ms until it holds, failing the test after `timeout`.
    static func waitUntil(
        timeout: Duration = .seconds(10),
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out after \(timeout) waiting until \(what)", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }
}
