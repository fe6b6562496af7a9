import Foundation
import HummingbirdTesting
import SpindleServer
import Testing

private typealias Support = BlogSiteTestSupport

@Suite("BlogSite lifecycle and request log")
struct BlogSiteLifecycleTests {
    @Test(
        "an invalid configuration is refused with an error naming the field",
        arguments: [
            (BlogSiteConfiguration(pages: 0), "pages"),
            (BlogSiteConfiguration(pages: 10_001), "pages"),
            (BlogSiteConfiguration(postsPerPage: 0), "postsPerPage"),
            (BlogSiteConfiguration(port: 65_536), "port"),
            (BlogSiteConfiguration(port: -1), "port"),
            (BlogSiteConfiguration(latency: .milliseconds(-5)), "latency"),
            (BlogSiteConfiguration(host: ""), "host"),
            (BlogSiteConfiguration(crawlDelay: -1), "crawlDelay"),
        ]
    )
    func invalidConfiguration(configuration: BlogSiteConfiguration, field: String) async throws {
        let error = await #expect(throws: BlogSiteConfigurationError.self) {
            try await withBlogSite(configuration) { _ in }
        }
        #expect(error?.description.hasPrefix(field) == true, "\(error?.description ?? "no error")")
    }

    @Test("a taken port is a clear error, not a crash")
    func portInUse() async throws {
        try await withBlogSite { site async throws in
            let port = try #require(site.baseURL.port)
            let error = await #expect(throws: BlogSiteError.self) {
                try await withBlogSite(BlogSiteConfiguration(port: port)) { _ in }
            }
            #expect(error?.description.contains("\(port)") == true, "\(error?.description ?? "")")
        }
    }

    @Test("baseURL names the bound loopback port; after stop nothing listens there")
    func stopCloses() async throws {
        let site = try await BlogSite.start(BlogSiteConfiguration(pages: 2))
        #expect(site.baseURL.host == "127.0.0.1")
        let port = try #require(site.baseURL.port)
        #expect(port > 0)
        #expect(try await Support.get(site, "/sitehome/p/1").status == .ok)
        await site.stop()
        await #expect(throws: (any Error).self) {
            _ = try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                try await client.get("/sitehome/p/1")
            }
        }
        await site.stop()  // a second stop is harmless
    }

    @Test("stop ends a stalled response instead of waiting out the stall")
    func stopDuringStall() async throws {
        let site = try await BlogSite.start(BlogSiteConfiguration(pages: 1, faults: true))
        let port = try #require(site.baseURL.port)
        let client = Task {
            try await TestClient.withClient(host: "127.0.0.1", port: port, configuration: .init(timeout: .seconds(120))) { client in
                try await client.get(BlogSiteFault.stall.path)
            }
        }
        try await Support.waitUntil("the stall request arrived") { site.requestLog.requests(to: BlogSiteFault.stall.path) == 1 }
        _ = try await Support.finishes(within: .seconds(10), "stop()") { await site.stop() }
        let outcome = try await Support.finishes(within: .seconds(10), "the stalled client") { await client.result }
        #expect(throws: (any Error).self) { try outcome?.get() }
    }

    @Test("the request log counts requests per path, in total, by user agent, and their connections")
    func requestCounts() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 3)) { site async throws in
            for _ in 0..<3 { _ = try await Support.get(site, "/sitehome/p/2", userAgent: "tester/1") }
            _ = try await Support.get(site, "/sitehome/p/3?x=1", userAgent: "tester/2")
            _ = try await Support.get(site, "/missing")
            let log = site.requestLog
            #expect(log.requests(to: "/sitehome/p/2") == 3)
            #expect(log.requests(to: "/sitehome/p/3") == 1, "the query string is not part of the path")
            #expect(log.requests(to: "/missing") == 1, "404s are counted too")
            #expect(log.requests(to: "/sitehome/p/1") == 0)
            #expect(log.totalRequests == 5)
            let snapshot = log.snapshot()
            #expect(snapshot.requestsByUserAgent["tester/1"] == 3)
            #expect(snapshot.requestsByUserAgent["tester/2"] == 1)
            #expect(snapshot.inFlight == 0)
            #expect(snapshot.maxInFlight == 1, "one request at a time was sent")
            #expect(snapshot.acceptedConnections == 5, "each request came on a connection of its own")
            try await Support.waitUntil("the clients' connections are closed") { log.snapshot().openConnections == 0 }
        }
    }

    @Test("the request log records the most requests in flight at once")
    func maxInFlight() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 2, latency: .seconds(2))) { site async throws in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<6 {
                    group.addTask { _ = try await Support.get(site, "/sitehome/p/1") }
                }
                try await group.waitForAll()
            }
            #expect(site.requestLog.maxInFlight == 6)
            #expect(site.requestLog.inFlight == 0)
            site.requestLog.resetMaxInFlight()
            #expect(site.requestLog.maxInFlight == 0)
            _ = try await Support.get(site, "/sitehome/p/2")
            #expect(site.requestLog.maxInFlight == 1)
        }
    }
}
