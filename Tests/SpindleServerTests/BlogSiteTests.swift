import Foundation
import HummingbirdTesting
import SpindleServer
import Testing

private typealias Support = BlogSiteTestSupport

@Suite("BlogSite pages")
struct BlogSiteTests {
    @Test("a list page is about 60 KB of HTML with exactly postsPerPage title links")
    func listPageShape() async throws {
        try await withBlogSite { site async throws in
            for page in [1, 27, 50] {
                let response = try await Support.get(site, "/sitehome/p/\(page)")
                #expect(response.status == .ok)
                #expect(response.headers[.contentType] == "text/html; charset=utf-8")
                let html = Support.text(response)
                #expect((45_000...80_000).contains(html.utf8.count), "page \(page) is \(html.utf8.count) bytes")
                #expect(Support.occurrences(of: "class=\"post-item-title\"", in: html) == 20)
                #expect(Support.occurrences(of: "<article class=\"post-item\"", in: html) == 20)
                #expect(html.contains("<div class=\"pager\">"))
            }
        }
        try await withBlogSite(BlogSiteConfiguration(pages: 3, postsPerPage: 7)) { site async throws in
            let html = Support.text(try await Support.get(site, "/sitehome/p/2"))
            #expect(Support.titleAnchors(in: html).count == 7)
        }
    }

    @Test("the pager links previous, first, three pages either side, last and next", arguments: [
        (page: 1, links: [1, 2, 3, 4, 40]),
        (page: 2, links: [1, 2, 3, 4, 5, 40]),
        (page: 5, links: [1, 2, 3, 4, 5, 6, 7, 8, 40]),
        (page: 20, links: [1, 17, 18, 19, 20, 21, 22, 23, 40]),
        (page: 38, links: [1, 35, 36, 37, 38, 39, 40]),
        (page: 40, links: [1, 37, 38, 39, 40]),
    ])
    func pagerIsAWindow(page: Int, links: [Int]) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 40, postsPerPage: 3)) { site async throws in
            let pager = try Support.pager(in: Support.text(try await Support.get(site, "/sitehome/p/\(page)")))
            #expect(pager.numbered == links)
            #expect(pager.current == page)
            #expect(pager.previous == (page > 1 ? page - 1 : nil))
            #expect(pager.next == (page < 40 ? page + 1 : nil))
            // One ellipsis for each gap between consecutive numbered links.
            let gaps = zip(links, links.dropFirst()).filter { $1 > $0 + 1 }.count
            #expect(pager.gaps == gaps)
        }
        try await withBlogSite(BlogSiteConfiguration(pages: 1, postsPerPage: 3)) { site async throws in
            let pager = try Support.pager(in: Support.text(try await Support.get(site, "/sitehome/p/1")))
            #expect(pager.numbered == [1])
            #expect(pager.previous == nil && pager.next == nil && pager.gaps == 0)
        }
    }

    @Test("every list page is reachable by following pager links from the first page")
    func pagerReachesEveryPage() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 45, postsPerPage: 2)) { site async throws in
            var seen: Set<Int> = [1]
            var queue = [1]
            while let page = queue.popLast() {
                let pager = try Support.pager(in: Support.text(try await Support.get(site, "/sitehome/p/\(page)")))
                for target in pager.allTargets where !seen.contains(target) {
                    #expect((1...45).contains(target), "page \(page) links page \(target), which the site does not have")
                    seen.insert(target)
                    queue.append(target)
                }
            }
            #expect(seen == Set(1...45))
        }
    }

    @Test("a list page stays about 60 KB however many pages the site has")
    func listPageSizeIndependentOfSiteSize() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 10_000)) { site async throws in
            for page in [1, 5_000, 9_999, 10_000] {
                let html = Support.text(try await Support.get(site, "/sitehome/p/\(page)"))
                #expect((45_000...80_000).contains(html.utf8.count), "page \(page) of 10,000 is \(html.utf8.count) bytes")
                #expect(try Support.pager(in: html).numbered.count <= 9)
                #expect(Support.titleAnchors(in: html).count == 20)
            }
        }
    }

    @Test("the same seed serves the same pages; another seed other titles")
    func deterministicForSeed() async throws {
        func pages(seed: UInt64) async throws -> [String] {
            try await withBlogSite(BlogSiteConfiguration(pages: 5, seed: seed)) { site async throws in
                var bodies: [String] = []
                for path in ["/sitehome/p/1", "/sitehome/p/4", "/post/\(17_000_003).html"] {
                    let body = Support.text(try await Support.get(site, path))
                    // Absolute links name the site's own port, which differs between runs.
                    bodies.append(body.replacingOccurrences(of: site.origin, with: "ORIGIN"))
                }
                return bodies
            }
        }
        let first = try await pages(seed: 1)
        let again = try await pages(seed: 1)
        let other = try await pages(seed: 2)
        #expect(first == again)
        #expect(first[0] != other[0])
        #expect(first[1] != other[1])
    }

    @Test("expectedRecords lists exactly the title links a crawl of the served pages finds")
    func expectedRecordsMatchServedPages() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 6, postsPerPage: 20)) { site async throws in
            var served: [BlogPostLink] = []
            var rawTitles: [String] = []
            var hrefs: [String] = []
            for page in 1...6 {
                let html = Support.text(try await Support.get(site, "/sitehome/p/\(page)"))
                for anchor in Support.titleAnchors(in: html) {
                    let href = anchor.href.hasPrefix("/") ? site.origin + anchor.href : anchor.href
                    let title = Support.decodeEntities(anchor.text).trimmingCharacters(in: .whitespacesAndNewlines)
                    served.append(BlogPostLink(pageURL: site.listPageURL(page).absoluteString, href: href, title: title))
                    rawTitles.append(anchor.text)
                    hrefs.append(anchor.href)
                }
            }
            #expect(served == site.expectedRecords(forPages: 1...6))
            #expect(served == site.expectedRecords())
            #expect(served.count == 120)
            #expect(Set(served.map(\.href)).count == 120, "post links are distinct")
            // The fixture is only useful if a crawler has to resolve, decode and trim.
            #expect(hrefs.contains { $0.hasPrefix("/post/") })
            #expect(hrefs.contains { $0.hasPrefix("http://127.0.0.1:") })
            #expect(rawTitles.contains { $0.contains("&amp;") })
            #expect(rawTitles.contains { $0.contains("&quot;") || $0.contains("&#39;") })
            #expect(rawTitles.contains { $0.first?.isWhitespace == true })
            #expect(served.contains { $0.title.unicodeScalars.contains { $0.value > 0x2E7F } }, "some titles are Chinese")
        }
    }

    @Test("pages out of range are 404, and expectedRecords gives nothing for them")
    func outOfRange() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 3, postsPerPage: 2)) { site async throws in
            for path in ["/sitehome/p/0", "/sitehome/p/4", "/sitehome/p/abc", "/post/1.html", "/post/17000007.html", "/faults/", "/nope"] {
                #expect(try await Support.get(site, path).status == .notFound, "\(path)")
            }
            #expect(site.expectedRecords(forPages: [0, 4, 99]).isEmpty)
        }
    }

    @Test("a post page shows its title and links back to its list page")
    func postPages() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 4, postsPerPage: 5)) { site async throws in
            for record in site.expectedRecords(forPages: [1, 4]).prefix(7) {
                let path = String(record.href.dropFirst(site.origin.count))
                let response = try await Support.get(site, path)
                #expect(response.status == .ok)
                let html = Support.text(response)
                let page = record.pageURL.split(separator: "/").last!
                #expect(html.contains("href=\"/sitehome/p/\(page)\" class=\"back-to-list\""))
                #expect(Support.decodeEntities(html).contains(record.title))
            }
        }
    }

    @Test("/ links the first list page; /robots.txt disallows /admin/ and sets no Crawl-delay")
    func homeAndRobots() async throws {
        try await withBlogSite { site async throws in
            let home = Support.text(try await Support.get(site, "/"))
            #expect(home.contains("href=\"/sitehome/p/1\""))
            #expect(!home.contains("/faults/"))
            let robots = try await Support.get(site, "/robots.txt")
            #expect(robots.headers[.contentType] == "text/plain; charset=utf-8")
            let text = Support.text(robots)
            #expect(text.contains("User-agent: *\nDisallow: /admin/\n"))
            #expect(text.contains("User-agent: BadBot\nDisallow: /\n"))
            #expect(!text.contains("Crawl-delay"))
            #expect(!text.contains("/faults/private/"))
        }
        try await withBlogSite(BlogSiteConfiguration(faults: true, crawlDelay: 0.5)) { site async throws in
            let text = Support.text(try await Support.get(site, "/robots.txt"))
            #expect(text.contains("Disallow: /faults/private/\n"))
            #expect(text.contains("Crawl-delay: 0.5\n"))
            #expect(Support.text(try await Support.get(site, "/")).contains("href=\"/faults/\""))
        }
    }

    @Test("the configured latency delays every response by at least that much")
    func latencyIsApplied() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 2, latency: .milliseconds(300))) { site async throws in
            for path in ["/sitehome/p/1", "/robots.txt", "/nope"] {
                let start = ContinuousClock.now
                _ = try await Support.get(site, path)
                let elapsed = ContinuousClock.now - start
                #expect(elapsed >= .milliseconds(300), "\(path) answered after \(elapsed)")
            }
        }
    }
}
