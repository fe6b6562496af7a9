import Foundation
import SpindleCrawler
import SpindleServer
import Testing

/// `spindle crawl` with link following: the limits and the host rule, as a user runs them.
@Suite("spindle crawl --follow (the executable)")
struct CrawlCommandFrontierTests {
    @Test("--max-depth 1 crawls the start page and what it links; records go to the output as produced")
    func maxDepth() async throws {
        let directory = try CrawlTestDirectory()
        try await withBlogSite(BlogSiteConfiguration(pages: 3, postsPerPage: 5)) { site in
            let state = directory.path("crawl.sqlite")
            let run = try await SpindleExecutable.run([
                "crawl", "--state", state, "--follow", "a.post-item-title, .pager a", "--max-depth", "1", "--select", "a.post-item-title",
                site.listPageURL(1).absoluteString,
            ])
            #expect(run.status == 0, "\(run.standardError)")
            // Page 1 (depth 0) links its 5 posts and list pages 2 and 3 (depth 1); their own
            // links would be depth 2.
            #expect(run.standardError.contains("state: pending 0, leased 0, done 8, failed 0, records 15"), "\(run.standardError)")
            #expect(run.standardOutput.split(separator: "\n").count == 15, "every record also on standard output")
            #expect(site.requestLog.requests(to: "/sitehome/p/1") == 1)
        }
    }

    @Test("--max-pages caps the URLs; links to other hosts than the start URL's are not followed")
    func maxPagesAndHosts() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 10)) { site in
            let run = try await SpindleExecutable.run([
                "crawl", "--follow", "a", "--max-pages", "12", "--json-summary", "--quiet", site.listPageURL(1).absoluteString,
            ])
            #expect(run.status == 0, "\(run.standardError)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.standardError.split(separator: "\n").last!.utf8)) as? [String: Any])
            #expect(summary["succeeded"] as? Int == 12)
            let paths = site.requestLog.snapshot().requestsByPath
            #expect(paths.keys.filter { $0 != "/robots.txt" }.count == 12, "\(paths.keys.sorted())")
            // The site's chrome links to https://www.blogs.example/…: another host, never asked.
            #expect(site.requestLog.totalRequests == 13, "12 pages and robots.txt")
        }
    }
}
