import Foundation
import NIOHTTP1
import SpindleCrawler
import Testing

@Suite("FetchedPage")
struct FetcherPageTests {
    private let url = URL(string: "http://127.0.0.1:8080/faults/redirect-chain/1")!

    private func page(_ headers: [(String, String)], status: Int = 200) -> FetchedPage {
        FetchedPage(requestedURL: url, url: url, status: status, headers: HTTPHeaders(headers), body: [])
    }

    @Test("Retry-After in seconds, as a past HTTP date, or unreadable")
    func retryAfter() {
        #expect(page([("Retry-After", "120")]).retryAfter == .seconds(120))
        #expect(page([("Retry-After", " 0 ")]).retryAfter == .zero)
        #expect(page([("Retry-After", "Wed, 21 Oct 2015 07:28:00 GMT")]).retryAfter == .zero)
        let future = page([("Retry-After", "Fri, 01 Jan 2100 00:00:00 GMT")]).retryAfter
        #expect(future.map { $0 > .seconds(3600) } == true)
        #expect(page([("Retry-After", "soon")]).retryAfter == nil)
        #expect(page([("Retry-After", "-5")]).retryAfter == nil)
        #expect(page([]).retryAfter == nil)
    }

    @Test("Location resolves against the page's URL")
    func location() {
        #expect(page([("Location", "/sitehome/p/1")], status: 302).location?.absoluteString == "http://127.0.0.1:8080/sitehome/p/1")
        #expect(page([("Location", "2")], status: 302).location?.absoluteString == "http://127.0.0.1:8080/faults/redirect-chain/2")
        #expect(page([("Location", "https://elsewhere.example/x")], status: 301).location?.absoluteString == "https://elsewhere.example/x")
        #expect(page([], status: 302).location == nil)
    }

    @Test("media type and HTML-ness come from Content-Type")
    func mediaType() {
        #expect(page([("Content-Type", "Text/HTML; charset=ISO-8859-1")]).mediaType == "text/html")
        #expect(page([("Content-Type", "text/html")]).isHTML)
        #expect(page([("Content-Type", "application/xhtml+xml")]).isHTML)
        #expect(!page([("Content-Type", "image/png")]).isHTML)
        #expect(!page([("Content-Type", "application/octet-stream")]).isHTML)
        #expect(page([]).isHTML, "no Content-Type: treated as HTML, as browsers sniff")
    }

    @Test("FetchError describes itself with code, URL and message, and says what is transient")
    func fetchErrorDescription() {
        let error = FetchError(.timeout, url: "http://a.example/", "no data for 1 s")
        #expect(error.description == "timeout: http://a.example/: no data for 1 s")
        #expect(error.isTransient)
        #expect(FetchError(.connectionFailed, url: "u", "m").isTransient)
        #expect(FetchError(.connectionClosed, url: "u", "m").isTransient)
        #expect(!FetchError(.bodyTooLarge, url: "u", "m").isTransient)
        #expect(!FetchError(.tooManyRedirects, url: "u", "m").isTransient)
        #expect(FetchError(.invalidConfiguration, url: "", "maxBodySize must be at least 1").description == "invalidConfiguration: maxBodySize must be at least 1")
    }
}
