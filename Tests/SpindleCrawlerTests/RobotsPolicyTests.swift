import Foundation
import Testing
@testable import SpindleCrawler

@Suite("RobotsPolicy")
struct RobotsPolicyTests {
    static let agent = "Spindle/1.0 (+https://example.com/bot)"

    static let siteRules = """
        \u{FEFF}# robots.txt for a test site
        User-agent: *
        Disallow: /private/
        Allow: /private/open.html
        Disallow: /*.pdf$
        Disallow: /search*q=
        Disallow: /tmp       # trailing comment
        Allow: /tmp/public
        Disallow: /%7Ejoe/
        Crawl-delay: 1.5

        User-agent: OtherBot
        User-agent: spindle
        Disallow: /not-for-spindle
        Allow: /page
        Disallow: /page
        Disallow: /fish*.php
        Disallow: /exact$
        Crawl-delay: 2

        User-agent: SPINDLE
        Disallow: /merged

        this line is garbage
        Sitemap: https://example.com/sitemap.xml
        """

    /// (user agent, path, allowed)
    static let cases: [(String, String, Bool)] = [
        // Our product token (case-insensitive) selects the named groups, merged; `*` no longer applies.
        (agent, "/private/x", true),
        (agent, "/not-for-spindle", false),
        (agent, "/not-for-spindle/deeper?x=1", false),
        (agent, "/merged/page", false),
        (agent, "/page", true),                    // Allow wins a tie of equal length
        (agent, "/fish.php", false),
        (agent, "/fish/salmon.php?x", false),      // `*` spans `/`, and `.php` need not end the path
        (agent, "/Fish.php", true),                // paths are case-sensitive
        (agent, "/exact", false),
        (agent, "/exact/more", true),              // `$` anchors the end
        (agent, "/exact?x=1", true),
        (agent, "/robots.txt", true),
        ("otherbot/3.0", "/not-for-spindle", false),
        // Anyone else gets the `*` group.
        ("SomeBot/2.0", "/", true),
        ("SomeBot/2.0", "/private/", false),
        ("SomeBot/2.0", "/private/secret.html", false),
        ("SomeBot/2.0", "/private/open.html", true),   // the longer Allow wins
        ("SomeBot/2.0", "/paper.pdf", false),
        ("SomeBot/2.0", "/paper.pdf?download=1", true),
        ("SomeBot/2.0", "/paper.PDF", true),
        ("SomeBot/2.0", "/search?q=swift", false),
        ("SomeBot/2.0", "/search?lang=en&q=swift", false),
        ("SomeBot/2.0", "/search?lang=en", true),
        ("SomeBot/2.0", "/tmp", false),
        ("SomeBot/2.0", "/tmpfile", false),
        ("SomeBot/2.0", "/tmp/public/x", true),
        ("SomeBot/2.0", "/~joe/home", false),           // `%7E` in the rule is `~`
        ("SomeBot/2.0", "/%7ejoe/home", false),         // and in the path
        ("SomeBot/2.0", "/not-for-spindle", true),
        ("SomeBot/2.0", "", true),
    ]

    @Test("allow and disallow", arguments: cases)
    func allowed(userAgent: String, path: String, expected: Bool) {
        let policy = RobotsPolicy(parsing: Self.siteRules)
        #expect(policy.isAllowed(path: path, userAgent: userAgent) == expected)
    }

    @Test("Crawl-delay of the group that applies, decimals allowed")
    func crawlDelay() {
        let policy = RobotsPolicy(parsing: Self.siteRules)
        #expect(policy.crawlDelay(userAgent: Self.agent) == .seconds(2))
        #expect(policy.crawlDelay(userAgent: "SomeBot") == .milliseconds(1500))
        #expect(RobotsPolicy(parsing: "User-agent: *\nDisallow: /x\n").crawlDelay(userAgent: "a") == nil)
        #expect(RobotsPolicy(parsing: "User-agent: *\nCrawl-delay: soon\n").crawlDelay(userAgent: "a") == nil)
        #expect(RobotsPolicy(parsing: "User-agent: *\nCrawl-delay: -3\n").crawlDelay(userAgent: "a") == nil)
        #expect(RobotsPolicy(parsing: "User-agent: *\nCrawl-delay: 0.25\n").crawlDelay(userAgent: "a") == .milliseconds(250))
        #expect(RobotsPolicy(parsing: "User-agent: *\nCrawl-delay: 1e9\n").crawlDelay(userAgent: "a") == .seconds(86_400))
    }

    @Test("an empty Disallow allows everything")
    func emptyDisallow() {
        let policy = RobotsPolicy(parsing: "User-agent: *\nDisallow:\n")
        #expect(policy.isAllowed(path: "/anything", userAgent: Self.agent))
    }

    @Test("Disallow: / blocks everything but robots.txt")
    func disallowAll() {
        let policy = RobotsPolicy(parsing: "User-agent: *\r\nDisallow: /\r\n")
        #expect(!policy.isAllowed(path: "/", userAgent: Self.agent))
        #expect(!policy.isAllowed(path: "/a?b", userAgent: Self.agent))
        #expect(policy.isAllowed(path: "/robots.txt", userAgent: Self.agent))
    }

    @Test("rules before any User-agent, and garbage, are ignored")
    func strayLines() {
        let policy = RobotsPolicy(parsing: "Disallow: /\n<html>not robots</html>\n:::\nUser-agent: *\nDisallow: /x\n")
        #expect(policy.isAllowed(path: "/", userAgent: Self.agent))
        #expect(!policy.isAllowed(path: "/x", userAgent: Self.agent))
        #expect(RobotsPolicy(parsing: "<html><body>Not found</body></html>").isAllowed(path: "/", userAgent: Self.agent))
    }

    @Test("a User-agent after rules starts a new group")
    func groupBoundaries() {
        let policy = RobotsPolicy(parsing: "User-agent: a\nDisallow: /a\nUser-agent: spindle\nDisallow: /s\n")
        #expect(policy.isAllowed(path: "/a", userAgent: Self.agent))
        #expect(!policy.isAllowed(path: "/s", userAgent: Self.agent))
        #expect(!policy.isAllowed(path: "/a", userAgent: "a"))
        #expect(policy.isAllowed(path: "/s", userAgent: "a"))
    }

    @Test("no group for us and no `*` group allows everything")
    func noMatchingGroup() {
        let policy = RobotsPolicy(parsing: "User-agent: Googlebot\nDisallow: /\n")
        #expect(policy.isAllowed(path: "/", userAgent: Self.agent))
        #expect(!policy.isAllowed(path: "/", userAgent: "Googlebot/2.1"))
    }

    @Test("responses: 2xx parsed, 4xx no rules, 5xx and errors allow all but say so")
    func responses() {
        let body = Array("User-agent: *\nDisallow: /\n".utf8)
        let ok = RobotsPolicy(response: 200, body: body)
        #expect(ok.availability == .parsed)
        #expect(!ok.isAllowed(path: "/a", userAgent: Self.agent))
        #expect(ok.note == nil)

        for status in [401, 403, 404, 410] {
            let missing = RobotsPolicy(response: status, body: body)
            #expect(missing.availability == .missing(status: status))
            #expect(missing.isAllowed(path: "/a", userAgent: Self.agent))
            #expect(missing.note == nil)
        }

        let down = RobotsPolicy(response: 503, body: body)
        #expect(down.availability == .unreachable(reason: "HTTP 503"))
        #expect(down.isAllowed(path: "/a", userAgent: Self.agent))
        #expect(down.note?.contains("HTTP 503") == true)

        let unreachable = RobotsPolicy.unreachable("connectionFailed: refused")
        #expect(unreachable.isAllowed(path: "/a", userAgent: Self.agent))
        #expect(unreachable.note?.contains("refused") == true)
    }

    @Test("bodies: BOM skipped, invalid UTF-8 tolerated, only the first 500 KiB read")
    func bodies() {
        let withBOM: [UInt8] = [0xEF, 0xBB, 0xBF] + Array("User-agent: *\nDisallow: /a\n".utf8)
        #expect(!RobotsPolicy(body: withBOM).isAllowed(path: "/a", userAgent: Self.agent))

        let invalid: [UInt8] = Array("User-agent: *\n".utf8) + [0xFF, 0xFE, 0x0A] + Array("Disallow: /b\n".utf8)
        #expect(!RobotsPolicy(body: invalid).isAllowed(path: "/b", userAgent: Self.agent))

        var huge = Array("User-agent: *\nDisallow: /early\n".utf8)
        huge += Array(repeating: UInt8(ascii: "#"), count: RobotsPolicy.maxSize) + Array("\nDisallow: /late\n".utf8)
        let truncated = RobotsPolicy(body: huge)
        #expect(!truncated.isAllowed(path: "/early", userAgent: Self.agent))
        #expect(truncated.isAllowed(path: "/late", userAgent: Self.agent))
    }

    @Test("a CanonicalURL is checked by its path and query")
    func canonicalURL() throws {
        let policy = RobotsPolicy(parsing: "User-agent: *\nDisallow: /*?print=1$\n")
        #expect(!policy.isAllowed(try CanonicalURL("http://example.com/a?print=1"), userAgent: Self.agent))
        #expect(policy.isAllowed(try CanonicalURL("http://example.com/a?print=12"), userAgent: Self.agent))
    }

    @Test("pathological wildcards finish quickly and correctly")
    func manyStars() {
        let policy = RobotsPolicy(parsing: "User-agent: *\nDisallow: /" + String(repeating: "*a", count: 200) + "b$\n")
        let path = "/" + String(repeating: "a", count: 5_000)
        #expect(policy.isAllowed(path: path, userAgent: Self.agent))
        #expect(!policy.isAllowed(path: path + "b", userAgent: Self.agent))
    }
}
