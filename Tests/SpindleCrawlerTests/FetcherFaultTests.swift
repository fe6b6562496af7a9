import Foundation
import SpindleCrawler
import SpindleServer
import Testing

private typealias Support = FetcherTestSupport

/// How the fetcher copes with each of the blog site's fault endpoints.
@Suite("Fetcher against faults")
struct FetcherFaultTests {
    @Test("500 the first time is a page with status 500; the second fetch gets 200")
    func flakyServerError() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            #expect(try await fetcher.fetch(site.url(for: .flakyServerError)).status == 500)
            #expect(try await fetcher.fetch(site.url(for: .flakyServerError)).status == 200)
        }
    }

    @Test("429 comes with its Retry-After, then 200")
    func rateLimited() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            let limited = try await fetcher.fetch(site.url(for: .rateLimited))
            #expect(limited.status == 429)
            #expect(limited.retryAfter == .seconds(1))
            let served = try await fetcher.fetch(site.url(for: .rateLimited))
            #expect(served.status == 200)
            #expect(served.retryAfter == nil)
        }
    }

    @Test("a redirect loop fails with tooManyRedirects naming the URL")
    func redirectLoop() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            let url = site.url(for: .redirectLoop)
            let (error, _) = await Support.fetchError(fetcher, url)
            #expect(error?.code == .tooManyRedirects)
            #expect(error?.description.contains(url.absoluteString) == true)
            #expect(site.requestLog.totalRequests <= 6, "the loop was cut short")
        }
    }

    @Test("a chain of three redirects within the limit ends at the final page's URL")
    func redirectChain() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            let page = try await fetcher.fetch(site.url(for: .redirectChain))
            #expect(page.status == 200)
            #expect(page.url == site.listPageURL(1))
            #expect(page.requestedURL == site.url(for: .redirectChain))
            #expect(page.redirectCount == BlogSiteFault.redirectChainHops)
        }
    }

    @Test("a chain longer than maxRedirects fails with tooManyRedirects")
    func redirectChainOverLimit() async throws {
        try await Support.withSiteAndFetcher(fetch: FetchConfiguration(maxRedirects: 2)) { site, fetcher async throws in
            let (error, _) = await Support.fetchError(fetcher, site.url(for: .redirectChain))
            #expect(error?.code == .tooManyRedirects)
            #expect(site.requestLog.requests(to: "/sitehome/p/1") == 0)
        }
    }

    @Test("with followRedirects off, a redirect is a page with its resolved Location")
    func redirectsNotFollowed() async throws {
        try await Support.withSiteAndFetcher(fetch: FetchConfiguration(followRedirects: false)) { site, fetcher async throws in
            let hop = try await fetcher.fetch(site.url(for: .redirectChain))
            #expect(hop.status == 301)
            #expect(hop.location == site.url(path: "/faults/redirect-chain/2"))
            #expect(hop.url == site.url(for: .redirectChain))
            #expect(site.requestLog.totalRequests == 1)
        }
    }

    @Test("a declared 20 MiB body fails at once with bodyTooLarge")
    func hugeDeclaredBody() async throws {
        try await Support.withSiteAndFetcher(fetch: FetchConfiguration(maxBodySize: 1024 * 1024)) { site, fetcher async throws in
            let (error, _) = await Support.fetchError(fetcher, site.url(for: .hugeBody))
            #expect(error?.code == .bodyTooLarge)
            #expect(error?.message.contains("Content-Length") == true, "\(error?.message ?? "")")
            // Abandoning the body must close the connection: draining 20 MiB to reuse it is
            // what the limit is there to avoid. (The kernel's buffers may still have taken the
            // whole body from the site, so the site's byte count proves nothing here.)
            try await Support.waitUntil("the client closed its connection") { site.requestLog.snapshot().openConnections == 0 }
            #expect(try await fetcher.fetch(site.listPageURL(1)).status == 200)
            #expect(site.requestLog.snapshot().openConnections == 1, "a complete response leaves its connection open for reuse")
        }
    }

    @Test("a chunked 20 MiB body fails with bodyTooLarge once the limit is passed, and its connection is dropped")
    func hugeChunkedBody() async throws {
        try await Support.withSiteAndFetcher(fetch: FetchConfiguration(maxBodySize: 1024 * 1024)) { site, fetcher async throws in
            let (error, _) = await Support.fetchError(fetcher, site.url(for: .hugeChunkedBody))
            #expect(error?.code == .bodyTooLarge)
            #expect(error?.isTransient == false)
            try await Support.waitUntil("the client closed its connection") { site.requestLog.snapshot().openConnections == 0 }
        }
    }

    @Test("a stalled body fails with timeout after the read timeout, not after the stall")
    func stallHitsReadTimeout() async throws {
        let configuration = FetchConfiguration(readTimeout: .seconds(1), totalTimeout: .seconds(60))
        try await Support.withSiteAndFetcher(fetch: configuration) { site, fetcher async throws in
            let (error, elapsed) = await Support.fetchError(fetcher, site.url(for: .stall))
            #expect(error?.code == .timeout)
            #expect(error?.message.contains("read timeout") == true, "\(error?.message ?? "")")
            #expect(elapsed >= .seconds(1))
        }
    }

    @Test("a stalled body fails with timeout at the total timeout when reads may wait longer")
    func stallHitsTotalTimeout() async throws {
        let configuration = FetchConfiguration(readTimeout: .seconds(60), totalTimeout: .milliseconds(1500))
        try await Support.withSiteAndFetcher(fetch: configuration) { site, fetcher async throws in
            let (error, elapsed) = await Support.fetchError(fetcher, site.url(for: .stall))
            #expect(error?.code == .timeout)
            #expect(error?.message.contains("total timeout") == true, "\(error?.message ?? "")")
            #expect(elapsed >= .milliseconds(1500))
        }
    }

    @Test("a connection closed mid-body is connectionClosed, not a hang or a short page")
    func resetMidBody() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            let (error, _) = await Support.fetchError(fetcher, site.url(for: .reset))
            #expect(error?.code == .connectionClosed, "\(error.map(String.init(describing:)) ?? "")")
            #expect(error?.isTransient == true)
            // The pooled connection is gone, and the next fetch gets a fresh one.
            #expect(try await fetcher.fetch(site.listPageURL(1)).status == 200)
        }
    }

    @Test("ISO-8859-1 bytes arrive intact and decode by header, or by <meta> alone")
    func latin1() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            let byHeader = try await fetcher.fetch(site.url(for: .latin1Header))
            #expect(byHeader.body.contains(0xE9))
            #expect(String(validating: byHeader.body, as: UTF8.self) == nil)
            let decoded = byHeader.decoded()
            #expect(decoded.source == .contentTypeHeader)
            #expect(decoded.text.contains("Résumé of a café"))

            let byMeta = try await fetcher.fetch(site.url(for: .latin1Meta))
            #expect(byMeta.mediaType == "text/html")
            #expect(byMeta.decoded().source == .metaTag)
            #expect(byMeta.text.contains("Façade"))

            for fault in [BlogSiteFault.latin1Header, .latin1Meta] {
                let page = try await fetcher.fetch(site.url(for: fault))
                let document = HTMLDocument(bytes: page.body, contentTypeHeader: page.contentType, url: page.url)
                let titles = try document.select("a.post-item-title").map(\.trimmedText)
                #expect(titles == site.expectedRecords(on: fault).map(\.title))
                #expect(titles == [BlogSiteFault.latin1Title])
            }
        }
    }

    @Test("gzip bodies are decoded when decompression is on, and left alone when off")
    func gzip() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            let page = try await fetcher.fetch(site.url(for: .gzip))
            #expect(page.status == 200)
            #expect(page.text.contains(BlogSiteFault.gzipTitle))
            #expect(page.body.prefix(2) != [0x1F, 0x8B])
        }
        try await Support.withSiteAndFetcher(fetch: FetchConfiguration(decompression: false)) { site, fetcher async throws in
            let page = try await fetcher.fetch(site.url(for: .gzip))
            #expect(page.body.prefix(3) == [0x1F, 0x8B, 8])
            #expect(page.header("Content-Encoding") == "gzip")
        }
    }

    @Test("the malformed page yields its two title links; the image is recognisably not HTML")
    func malformedAndBinary() async throws {
        try await Support.withSiteAndFetcher { site, fetcher async throws in
            let page = try await fetcher.fetch(site.url(for: .malformedMarkup))
            let document = HTMLDocument(bytes: page.body, contentTypeHeader: page.contentType, url: page.url)
            let links = try document.select("a.post-item-title").map { anchor in
                BlogPostLink(pageURL: page.url.absoluteString, href: anchor.absoluteURL()?.absoluteString ?? "", title: anchor.trimmedText)
            }
            #expect(links == site.expectedRecords(on: .malformedMarkup))

            let image = try await fetcher.fetch(site.url(for: .binary))
            #expect(image.status == 200)
            #expect(image.mediaType == "image/png")
            #expect(!image.isHTML)
        }
    }
}
