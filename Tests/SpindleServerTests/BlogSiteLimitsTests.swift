import Foundation
import NIOCore
import SpindleServer
import Testing

/// `spindle site` against clients that hold sockets, and its shutdown during a long latency.
@Suite("Blog site limits")
struct BlogSiteLimitsTests {
    @Test("a half-sent header gets 408 and is closed after the header timeout")
    func headerTimeout() async throws {
        try await withBlogSite(BlogSiteConfiguration(headerTimeout: .milliseconds(300))) { site in
            let connection = try await RawHTTPConnection.open(port: site.baseURL.port!)
            let reply = try await connection.send("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n", thenReadUntilClosedWithin: 30)
            #expect(RawHTTPResponse(reply)?.status == 408)
        }
    }

    @Test("an idle keep-alive connection is closed after the idle timeout")
    func idleTimeout() async throws {
        try await withBlogSite(BlogSiteConfiguration(idleTimeout: .seconds(3))) { site in
            let connection = try await RawHTTPConnection.open(port: site.baseURL.port!)
            let reply = try await connection.send("GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", thenReadUntilClosedWithin: 30)
            #expect(RawHTTPResponse(reply)?.status == 200)
        }
    }

    @Test("at the connection cap a new client gets 503 at once")
    func connectionCap() async throws {
        try await withBlogSite(BlogSiteConfiguration(maxConnections: 1)) { site in
            let held = try await EchoTestClient.connect(port: site.baseURL.port!)
            try await held.executeThenClose { inbound, outbound in
                try await expectAdmitted(inbound, outbound, path: "/robots.txt")
                let refused = try await RawHTTPConnection.open(port: site.baseURL.port!)
                let reply = try await refused.send("", thenReadUntilClosedWithin: 20)
                let response = try #require(RawHTTPResponse(reply))
                #expect(response.status == 503)
                #expect(response.headers["retry-after"] == "1")
            }
        }
        #expect(throws: BlogSiteConfigurationError.self) { try BlogSiteConfiguration(maxConnections: 0).validate() }
    }

    @Test("HEAD answers 200 without a body")
    func head() async throws {
        try await withBlogSite { site in
            let reply = try await RawHTTPConnection.open(port: site.baseURL.port!)
                .send("HEAD /sitehome/p/1 HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", thenReadUntilClosedWithin: 30)
            let response = try #require(RawHTTPResponse(reply))
            #expect(response.status == 200)
            #expect(response.body.isEmpty)
        }
    }

    @Test("a graceful shutdown (as on SIGTERM) cuts a request's latency short with 503")
    func shutdownDuringLatency() async throws {
        let (listening, continuation) = AsyncStream.makeStream(of: BlogSite.self)
        let serving = Task {
            try await BlogSite.serve(BlogSiteConfiguration(latency: .seconds(600))) { site in continuation.yield(site) }
        }
        var sites = listening.makeAsyncIterator()
        let site = try #require(await sites.next())
        let request = Task {
            try await RawHTTPConnection.open(port: site.baseURL.port!)
                .send("GET /robots.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", thenReadUntilClosedWithin: 120)
        }
        try await BlogSiteTestSupport.waitUntil(timeout: .seconds(30), "the request is waiting out its latency") { site.requestLog.inFlight == 1 }
        await site.stop()
        let stopped: Void? = try await BlogSiteTestSupport.finishes(within: .seconds(60), "the site's shutdown") { try await serving.value }
        #expect(stopped != nil)
        let reply = try await request.value
        #expect(RawHTTPResponse(reply)?.status == 503)
    }
}
