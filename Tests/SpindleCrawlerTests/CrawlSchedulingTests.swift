import Foundation
import Testing
@testable import SpindleCrawler

/// The scheduling state of a frontier crawl, without threads or network.
@Suite("CrawlHostQueues and CrawlScope")
struct CrawlSchedulingTests {
    static func leases(_ host: String, _ count: Int) throws -> [LeasedURL] {
        try (0..<count).map { LeasedURL(url: try CanonicalURL("http://\(host)/page/\($0)"), depth: 0, attempts: 0) }
    }

    @Test("a host at its limit does not block the next host's URLs; hosts take turns")
    func noHeadOfLineBlocking() throws {
        var queues = CrawlHostQueues(perHost: 2, delay: .zero, obeyRobots: false)
        queues.enqueue(try Self.leases("slow.test", 5) + Self.leases("fast.test", 3))
        let now = Date()
        var started: [String] = []
        while let next = queues.nextStartable(at: now) { started.append(next.host) }
        #expect(started == ["slow.test", "fast.test", "slow.test", "fast.test"], "two each, in turn")
        #expect(queues.saturatedHosts == ["slow.test"], "slow.test still has 3 waiting; fast.test 1")

        queues.finished("fast.test", crawlDelay: nil, at: now)
        #expect(queues.nextStartable(at: now)?.host == "fast.test", "a free slot on the fast host is used at once")
        #expect(queues.nextStartable(at: now) == nil)
    }

    @Test("a host whose robots.txt is not known yet runs one page at a time; its Crawl-delay applies once learnt")
    func robotsFirst() throws {
        var queues = CrawlHostQueues(perHost: 4, delay: .zero, obeyRobots: true)
        queues.enqueue(try Self.leases("site.test", 3))
        let now = Date()
        #expect(queues.nextStartable(at: now) != nil)
        #expect(queues.nextStartable(at: now) == nil, "one at a time until robots.txt is known")
        queues.finished("site.test", crawlDelay: .some(.seconds(1)), at: now)
        #expect(queues.nextStartable(at: now) == nil, "inside the Crawl-delay")
        #expect(queues.nextStart(after: now) == now.addingTimeInterval(1))
        #expect(queues.nextStartable(at: now.addingTimeInterval(1)) != nil)
    }

    @Test("scope: allowed hosts, include and exclude patterns, http(s) only, sorted queries")
    func scope() throws {
        let scope = try CrawlScope(allowedHosts: ["Example.com", "127.0.0.1:8080"], include: ["/blog/", "/news/"], exclude: ["\\?print=1"], sortQuery: true)
        let cases: [(String, String?)] = [
            ("http://example.com/blog/a#top", "http://example.com/blog/a"),
            ("HTTP://EXAMPLE.COM:80/news/../news/b", "http://example.com/news/b"),
            ("http://127.0.0.1:8080/blog/x?b=2&a=1", "http://127.0.0.1:8080/blog/x?a=1&b=2"),
            ("http://127.0.0.1:8081/blog/x", nil),
            ("http://other.com/blog/a", nil),
            ("http://example.com/about/", nil),
            ("http://example.com/blog/a?print=1", nil),
            ("mailto:someone@example.com", nil),
            ("ftp://example.com/blog/a", nil),
        ]
        for (link, expected) in cases {
            #expect(scope.admitting(URL(string: link)!)?.string == expected, "\(link)")
        }
        #expect(try CrawlScope().admitting(URL(string: "https://anywhere.test/x")!) != nil, "no hosts given: any host")
        #expect(throws: CrawlInputError("exclude pattern '[a' is not a valid regular expression")) { try CrawlScope(exclude: ["[a"]) }
    }
}
