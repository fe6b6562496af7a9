import Foundation
import Testing
@testable import SpindleCrawler

@Suite("CanonicalURL")
struct URLCanonicalTests {
    /// (input, canonical form)
    static let canonicalForms: [(String, String)] = [
        ("HTTP://Example.COM/", "http://example.com/"),
        ("http://example.com", "http://example.com/"),
        ("http://example.com:80/a", "http://example.com/a"),
        ("https://example.com:443/a", "https://example.com/a"),
        ("https://example.com:80/a", "https://example.com:80/a"),
        ("http://example.com:8080/a", "http://example.com:8080/a"),
        ("http://example.com:/a", "http://example.com/a"),
        ("http://example.com/a#section", "http://example.com/a"),
        ("http://example.com/#", "http://example.com/"),
        ("http://example.com/a/./b/../c", "http://example.com/a/c"),
        ("http://example.com/a/b/..", "http://example.com/a/"),
        ("http://example.com/../../a", "http://example.com/a"),
        ("http://example.com/a/%2E%2E/b", "http://example.com/b"),
        ("http://example.com/%7Euser/%41%62c", "http://example.com/~user/Abc"),
        ("http://example.com/a%2fb%3A", "http://example.com/a%2Fb%3A"),
        ("http://example.com/a b/é", "http://example.com/a%20b/%C3%A9"),
        ("http://example.com/100%", "http://example.com/100%25"),
        ("http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1"),
        ("http://example.com/?", "http://example.com/"),
        ("http://example.com/p?q=%7e%2f+x", "http://example.com/p?q=~%2F+x"),
        ("http://example.com/p?next=/a?b", "http://example.com/p?next=/a?b"),
        ("  http://example.com/a\t\n  ", "http://example.com/a"),
        ("http://User:Pw@Example.com/", "http://example.com/"),
        ("http://[::1]:8080/a", "http://[::1]:8080/a"),
        ("http://[FE80::1]/", "http://[fe80::1]/"),
        ("http://127.0.0.1:8080/sitehome/p/2", "http://127.0.0.1:8080/sitehome/p/2"),
        ("http://example.com//a//b", "http://example.com//a//b"),
    ]

    @Test("canonical forms", arguments: canonicalForms)
    func canonicalForm(input: String, expected: String) throws {
        let url = try CanonicalURL(input)
        #expect(url.string == expected)
        // Canonicalisation is idempotent, and Foundation reads the result as the same URL.
        #expect(try CanonicalURL(url.string).string == expected)
        #expect(url.url.absoluteString == expected)
    }

    /// (reference, expected) resolved against http://a.example/b/c/d;p?q (RFC 3986 section 5.4).
    static let references: [(String, String)] = [
        ("g", "http://a.example/b/c/g"),
        ("./g", "http://a.example/b/c/g"),
        ("g/", "http://a.example/b/c/g/"),
        ("/g", "http://a.example/g"),
        ("//g.example", "http://g.example/"),
        ("?y", "http://a.example/b/c/d;p?y"),
        ("g?y", "http://a.example/b/c/g?y"),
        ("#s", "http://a.example/b/c/d;p?q"),
        ("", "http://a.example/b/c/d;p?q"),
        (".", "http://a.example/b/c/"),
        ("..", "http://a.example/b/"),
        ("../g", "http://a.example/b/g"),
        ("../../../g", "http://a.example/g"),
        ("g;x=1/../y", "http://a.example/b/c/y"),
        ("HTTPS://Other.example:443/x", "https://other.example/x"),
    ]

    @Test("relative references resolve against a base", arguments: references)
    func resolution(reference: String, expected: String) throws {
        let base = try CanonicalURL("http://a.example/b/c/d;p?q")
        #expect(try CanonicalURL(reference, relativeTo: base).string == expected)
    }

    @Test("sortQuery orders parameters by name and keeps repeated names in order")
    func sortedQuery() throws {
        let url = try CanonicalURL("http://example.com/s?b=2&a=1&c&a=0", sortQuery: true)
        #expect(url.string == "http://example.com/s?a=1&a=0&b=2&c")
        #expect(try CanonicalURL("http://example.com/s?b=2&a=1").string == "http://example.com/s?b=2&a=1")
    }

    /// (input, expected reason)
    static let rejected: [(String, URLCanonicalizationError.Reason)] = [
        ("mailto:someone@example.com", .unsupportedScheme("mailto")),
        ("ftp://example.com/file", .unsupportedScheme("ftp")),
        ("javascript:void(0)", .unsupportedScheme("javascript")),
        ("/relative/path", .relativeWithoutBase),
        ("example.com/a", .relativeWithoutBase),
        ("http:///path", .missingHost),
        ("http:path", .missingHost),
        ("http://example.com:99999/", .invalidPort("99999")),
        ("http://example.com:8o/", .invalidPort("8o")),
        ("http://exa mple.com/", .invalidHost("exa mple.com")),
        ("http://bücher.example/", .invalidHost("bücher.example")),
        ("http://[::1/", .invalidHost("[::1")),
    ]

    @Test("non-http(s) and malformed URLs are refused with the reason", arguments: rejected)
    func rejection(input: String, reason: URLCanonicalizationError.Reason) {
        #expect(throws: URLCanonicalizationError(input: input, reason: reason)) {
            try CanonicalURL(input)
        }
    }

    @Test("errors name the input and the problem")
    func errorMessages() {
        let error = URLCanonicalizationError(input: "ftp://x/", reason: .unsupportedScheme("ftp"))
        #expect(error.description == "\"ftp://x/\" has scheme \"ftp\": only http and https URLs can be crawled")
        let port = URLCanonicalizationError(input: "http://x:70000/", reason: .invalidPort("70000"))
        #expect(port.description.contains("70000"))
    }

    @Test("derived parts: authority, origin, path and query, robots.txt URL")
    func parts() throws {
        let url = try CanonicalURL("HTTP://Blog.Example:8080/a/b?x=1#f")
        #expect(url.scheme == "http")
        #expect(url.host == "blog.example")
        #expect(url.port == 8080)
        #expect(url.authority == "blog.example:8080")
        #expect(url.origin == "http://blog.example:8080")
        #expect(url.pathAndQuery == "/a/b?x=1")
        #expect(url.robotsURL.string == "http://blog.example:8080/robots.txt")
        let plain = try CanonicalURL("https://example.com")
        #expect(plain.port == nil)
        #expect(plain.authority == "example.com")
        #expect(plain.path == "/")
        #expect(plain.query == nil)
    }

    @Test("equal spellings are one URL: equality, hashing and Codable use the canonical string")
    func identity() throws {
        let spellings = ["http://EXAMPLE.com:80/%7Ea", "http://example.com/~a#x", "http://example.com/b/../~a"]
        let urls = try spellings.map { try CanonicalURL($0) }
        #expect(Set(urls).count == 1)
        let encoded = try JSONEncoder().encode([urls[0]])
        #expect(try JSONDecoder().decode([String].self, from: encoded) == ["http://example.com/~a"])
        #expect(try JSONDecoder().decode(CanonicalURL.self, from: Data("\"HTTP://Example.com:80/~a\"".utf8)) == urls[0])
        #expect(throws: (any Error).self) {
            try JSONDecoder().decode(CanonicalURL.self, from: Data("\"mailto:a@b\"".utf8))
        }
    }

    @Test("a Foundation URL canonicalises like its text")
    func fromFoundationURL() throws {
        let url = try #require(URL(string: "HTTP://Example.com:80/a/./b?x=1#y"))
        #expect(try CanonicalURL(url).string == "http://example.com/a/b?x=1")
    }
}
