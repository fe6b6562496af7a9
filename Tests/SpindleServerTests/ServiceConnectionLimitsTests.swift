import Foundation
import Hummingbird
import NIOCore
import SpindleServer
import Testing

/// What `spindle serve` does to connections that would hold a socket for nothing: silent ones,
/// half-sent headers, idle keep-alive, connections over the cap; and how it answers requests
/// that are not what a route expects (HEAD, other methods, HTTP/1.0, garbage).
@Suite("Service connection limits")
struct ServiceConnectionLimitsTests {
    /// The service with short header/idle timeouts of the test's choosing and a long rest.
    static func configuration(
        headerTimeout: Duration = .seconds(120), idleTimeout: Duration = .seconds(120), _ adjust: (inout ServiceConfiguration) -> Void = { _ in }
    ) throws -> ServiceConfiguration {
        try ServiceTestSupport.configuration {
            $0.headerTimeout = headerTimeout
            $0.idleTimeout = idleTimeout
            adjust(&$0)
        }
    }

    @Test("a socket that sends nothing gets 408 and is closed after the header timeout")
    func silentSocket() async throws {
        try await withWebService(Self.configuration(headerTimeout: .milliseconds(300))) { service in
            let connection = try await RawHTTPConnection.open(port: service.port)
            let reply = try await connection.send("", thenReadUntilClosedWithin: 30)
            let response = try #require(RawHTTPResponse(reply))
            #expect(response.status == 408)
            #expect(response.bodyJSON["error"] != nil)
        }
    }

    @Test("a half-sent header gets 408 and is closed after the header timeout, and is counted")
    func halfSentHeader() async throws {
        try await withWebService(Self.configuration(headerTimeout: .milliseconds(300))) { service in
            let connection = try await RawHTTPConnection.open(port: service.port)
            let reply = try await connection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ", thenReadUntilClosedWithin: 30)
            #expect(RawHTTPResponse(reply)?.status == 408)
            let metrics = try await Self.get(service, "/metrics")
            // At least this connection; more if a loaded machine made `get` itself time out.
            #expect((ServiceTestSupport.sample(metrics.body, "spindle_http_rejected_total", labels: #"reason="header_timeout""#) ?? 0) >= 1)
        }
    }

    @Test("an idle keep-alive connection is closed after the idle timeout")
    func idleKeepAlive() async throws {
        try await withWebService(Self.configuration(idleTimeout: .seconds(3))) { service in
            let connection = try await RawHTTPConnection.open(port: service.port)
            // The reply comes at once; the close only after the idle timeout (a keep-alive request).
            // 3 s: a loaded machine can take a good part of a second to answer.
            let reply = try await connection.send("GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", thenReadUntilClosedWithin: 30)
            let response = try #require(RawHTTPResponse(reply))
            #expect(response.status == 200)
            #expect(response.body == #"{"status":"ok"}"#)
        }
    }

    @Test("at the connection cap a new client gets 503 at once, and one log line says so for many")
    func connectionCap() async throws {
        let log = CapturedLog()
        let configuration = try Self.configuration { $0.maxConnections = 2 }
        try await withWebService(configuration, logger: log.logger) { service in
            // Two connections hold the cap (closed by `executeThenClose` however the test ends).
            let first = try await EchoTestClient.connect(port: service.port)
            let second = try await EchoTestClient.connect(port: service.port)
            try await first.executeThenClose { firstInbound, firstOutbound in
                try await expectAdmitted(firstInbound, firstOutbound, path: "/health")
                try await second.executeThenClose { secondInbound, secondOutbound in
                    try await expectAdmitted(secondInbound, secondOutbound, path: "/health")
                    for _ in 0..<3 {
                        let refused = try await RawHTTPConnection.open(port: service.port)
                        let reply = try await refused.send("", thenReadUntilClosedWithin: 20)
                        let response = try #require(RawHTTPResponse(reply))
                        #expect(response.status == 503)
                        #expect(response.headers["retry-after"] == "1")
                    }
                }
            }
            #expect(log.lines(containing: "connection limit reached").count == 1)
        }
    }

    @Test("HEAD answers 200 with the GET's headers and no body")
    func head() async throws {
        try await withWebService(Self.configuration()) { service in
            let reply = try await RawHTTPConnection.open(port: service.port)
                .send("HEAD /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", thenReadUntilClosedWithin: 30)
            let response = try #require(RawHTTPResponse(reply))
            #expect(response.status == 200)
            #expect(response.headers["content-length"] == String(#"{"status":"ok"}"#.utf8.count))
            #expect(response.body.isEmpty)
        }
    }

    @Test("another method on a route answers 405 with Allow, an unknown path still 404")
    func methodNotAllowed() async throws {
        try await withWebService(Self.configuration()) { service in
            let reply = try await RawHTTPConnection.open(port: service.port)
                .send("POST /is_prime/7 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", thenReadUntilClosedWithin: 30)
            let response = try #require(RawHTTPResponse(reply))
            #expect(response.status == 405)
            #expect(response.headers["allow"] == "GET, HEAD")
            #expect((response.bodyJSON["error"] as? String)?.contains("POST") == true)
            let missing = try await RawHTTPConnection.open(port: service.port)
                .send("POST /nowhere HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n", thenReadUntilClosedWithin: 30)
            #expect(RawHTTPResponse(missing)?.status == 404)
        }
    }

    @Test("an HTTP/1.0 request without keep-alive is answered and the connection closed")
    func http10Closes() async throws {
        try await withWebService(Self.configuration()) { service in
            let reply = try await RawHTTPConnection.open(port: service.port).send("GET /health HTTP/1.0\r\n\r\n", thenReadUntilClosedWithin: 30)
            let response = try #require(RawHTTPResponse(reply))
            #expect(response.status == 200)
            #expect(response.body == #"{"status":"ok"}"#)
        }
    }

    @Test("a malformed request gets a JSON 400, oversized headers a JSON 431, both counted")
    func malformedAndOversized() async throws {
        try await withWebService(Self.configuration()) { service in
            let garbage = try await RawHTTPConnection.open(port: service.port).send("NOT HTTP AT ALL\r\n\r\n", thenReadUntilClosedWithin: 30)
            let bad = try #require(RawHTTPResponse(garbage))
            #expect(bad.status == 400)
            #expect(bad.headers["content-type"] == "application/json")
            #expect(bad.bodyJSON["error"] != nil)

            let huge = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: \(String(repeating: "a", count: 64 * 1024))\r\n\r\n"
            let oversized = try await RawHTTPConnection.open(port: service.port).send(huge, thenReadUntilClosedWithin: 30)
            let tooLarge = try #require(RawHTTPResponse(oversized))
            #expect(tooLarge.status == 431)
            #expect(tooLarge.bodyJSON["error"] != nil)

            let metrics = try await Self.get(service, "/metrics").body
            #expect(ServiceTestSupport.sample(metrics, "spindle_http_rejected_total", labels: #"reason="malformed""#) == 1)
            #expect(ServiceTestSupport.sample(metrics, "spindle_http_rejected_total", labels: #"reason="header_too_large""#) == 1)
        }
    }

    @Test("servers bind loopback unless told otherwise")
    func loopbackByDefault() async throws {
        #expect(ServiceConfiguration().host == "127.0.0.1")
        #expect(BlogSiteConfiguration().host == "127.0.0.1")
        #expect(EchoServerConfiguration().host == "127.0.0.1")
        var configuration = try ServiceTestSupport.configuration()
        configuration.host = ServiceConfiguration().host
        try await withWebService(configuration) { service in
            #expect(service.origin.hasPrefix("http://127.0.0.1:"))
        }
    }

    /// A GET with `Connection: close`, raw.
    /// A whole request, sent at once. These services have header timeouts of a few hundred ms,
    /// which a loaded machine can miss between accepting the connection and reading it; a 408
    /// then says nothing about the route, so the request is sent again (at most five times).
    static func get(_ service: WebService, _ path: String) async throws -> RawHTTPResponse {
        var attempts = 0
        while true {
            attempts += 1
            let reply = try await RawHTTPConnection.open(port: service.port)
                .send("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", thenReadUntilClosedWithin: 30)
            let response = try #require(RawHTTPResponse(reply))
            if response.status != 408 || attempts == 5 { return response }
        }
    }
}
