import Foundation
import HummingbirdTesting
import SpindleServer
import Testing

private typealias Support = BlogSiteTestSupport

/// The fault endpoints as the server sends them. How a client copes with each one is tested
/// with the real HTTP client in `FetcherFaultTests` (SpindleCrawlerTests).
@Suite("BlogSite fault endpoints")
struct BlogSiteFaultTests {
    private static let faults = BlogSiteConfiguration(pages: 2, postsPerPage: 5, faults: true)

    @Test("/faults/ links every fault endpoint")
    func indexLinksEveryFault() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            let html = Support.text(try await Support.get(site, "/faults/"))
            for fault in BlogSiteFault.allCases {
                #expect(html.contains("href=\"\(fault.path)\""), "\(fault) is not linked")
            }
        }
    }

    @Test("flaky-500 fails once per URL, then serves the page")
    func flakyServerError() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            let path = BlogSiteFault.flakyServerError.path
            #expect(try await Support.get(site, path).status == .internalServerError)
            #expect(try await Support.get(site, path).status == .ok)
            #expect(try await Support.get(site, path).status == .ok)
            #expect(try await Support.get(site, path + "?fresh=1").status == .internalServerError, "another URL has its own first time")
        }
    }

    @Test("rate-limited answers 429 with Retry-After: 1 once per URL, then the page")
    func rateLimited() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            let first = try await Support.get(site, BlogSiteFault.rateLimited.path)
            #expect(first.status == .tooManyRequests)
            #expect(first.headers[.retryAfter] == "1")
            let second = try await Support.get(site, BlogSiteFault.rateLimited.path)
            #expect(second.status == .ok)
            #expect(second.headers[.retryAfter] == nil)
        }
    }

    @Test("the redirect loop goes a → b → a; the chain makes three hops to the first list page")
    func redirects() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            let a = try await Support.get(site, "/faults/redirect-loop/a")
            #expect(a.status == .found)
            #expect(a.headers[.location] == "/faults/redirect-loop/b")
            let b = try await Support.get(site, "/faults/redirect-loop/b")
            #expect(b.headers[.location] == site.origin + "/faults/redirect-loop/a")

            var path = BlogSiteFault.redirectChain.path
            var hops = 0
            while true {
                let response = try await Support.get(site, path)
                guard (300..<400).contains(response.status.code), let location = response.headers[.location] else { break }
                hops += 1
                path = location
                #expect(hops <= 10, "the chain does not end")
                if hops > 10 { break }
            }
            #expect(hops == BlogSiteFault.redirectChainHops)
            #expect(path == "/sitehome/p/1")
        }
    }

    @Test("the ISO-8859-1 pages send single bytes for é, declared in the header or only in <meta>")
    func latin1Pages() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            let header = try await Support.get(site, BlogSiteFault.latin1Header.path)
            #expect(header.headers[.contentType] == "text/html; charset=iso-8859-1")
            let bytes = Support.bytes(header)
            #expect(bytes.contains(0xE9))
            #expect(String(validating: bytes, as: UTF8.self) == nil, "the body is not UTF-8")
            let latin1 = String(bytes.map { Character(Unicode.Scalar($0)) })
            #expect(latin1.contains(BlogSiteFault.latin1Title.replacingOccurrences(of: "&", with: "&amp;")))

            let meta = try await Support.get(site, BlogSiteFault.latin1Meta.path)
            #expect(meta.headers[.contentType] == "text/html")
            #expect(Support.bytes(meta).contains(0xE9))
            #expect(Support.text(meta).contains("<meta charset=\"iso-8859-1\">"))
        }
    }

    @Test("the malformed page still holds two post-item-title links; the image is a PNG")
    func malformedAndBinary() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            let malformed = Support.text(try await Support.get(site, BlogSiteFault.malformedMarkup.path))
            #expect(Support.occurrences(of: "class=post-item-title", in: malformed) + Support.occurrences(of: "class=\"post-item-title\"", in: malformed) == 2)
            #expect(site.expectedRecords(on: .malformedMarkup).map(\.title) == BlogSiteFault.malformedTitles)

            let image = try await Support.get(site, BlogSiteFault.binary.path)
            #expect(image.headers[.contentType] == "image/png")
            #expect(Support.bytes(image).prefix(8) == [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A])
        }
    }

    @Test("the gzip page is sent gzip-encoded, and the private page exists (robots.txt forbids it)")
    func gzipAndPrivate() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            let gzip = try await Support.get(site, BlogSiteFault.gzip.path)
            #expect(gzip.headers[.contentEncoding] == "gzip")
            #expect(Support.bytes(gzip).prefix(3) == [0x1F, 0x8B, 8])
            #expect(try await Support.get(site, BlogSiteFault.privatePage.path).status == .ok)
        }
    }

    @Test("the huge body declares 20 MiB and streams all of it to a client that reads it")
    func hugeBody() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            // 20 MiB through the test client takes a few seconds, many more while the other
            // suites load the machine.
            let response = try await Support.get(site, BlogSiteFault.hugeBody.path, timeout: .seconds(120))
            #expect(response.headers[.contentLength] == "\(BlogSiteFault.hugeBodySize)")
            #expect(response.body?.readableBytes == BlogSiteFault.hugeBodySize)
            let snapshot = site.requestLog.snapshot()
            #expect(snapshot.streamedBytesByPath[BlogSiteFault.hugeBody.path] == BlogSiteFault.hugeBodySize)
            #expect(snapshot.completedStreams == 1)
        }
    }

    @Test("the reset page closes the connection before the declared length")
    func reset() async throws {
        try await withBlogSite(Self.faults) { site async throws in
            await #expect(throws: (any Error).self) {
                _ = try await Support.get(site, BlogSiteFault.reset.path)
            }
        }
    }
}
