import Foundation
import Logging
import NIOConcurrencyHelpers
import NIOCore
import SpindleServer
import Testing

/// A TCP connection that speaks HTTP/1 by hand, for what an HTTP client library will not send:
/// nothing at all, half a header, HTTP/1.0, garbage.
struct RawHTTPConnection {
    let connection: EchoTestClient.Connection

    static func open(port: Int) async throws -> RawHTTPConnection {
        RawHTTPConnection(connection: try await EchoTestClient.connect(port: port))
    }

    /// Everything the server sends after `text`, until it closes the connection (a reset counts
    /// as a close), within `seconds`: `EchoTestTimeout` if it is still open by then.
    func send(_ text: String, thenReadUntilClosedWithin seconds: Double) async throws -> String {
        try await connection.executeThenClose { inbound, outbound in
            if !text.isEmpty {
                do {
                    try await outbound.write(ByteBuffer(string: text))
                } catch {
                    // The server closed first: on a loaded machine the client can write after
                    // the server's timeout has passed. What the server sent is still the answer.
                }
            }
            return try await withDeadline(seconds: seconds) {
                var received = ""
                do {
                    for try await chunk in inbound { received += String(buffer: chunk) }
                } catch {
                    // A reset after the reply: what was read still counts.
                }
                return received
            }
        }
    }
}

/// The parts of a raw HTTP/1 response.
struct RawHTTPResponse {
    var status: Int
    var headers: [String: String]
    var body: String

    /// Parses the first response in `text`; nil if there is none.
    init?(_ text: String) {
        guard let headEnd = text.range(of: "\r\n\r\n") else { return nil }
        let lines = text[..<headEnd.lowerBound].split(separator: "\r\n")
        guard let statusLine = lines.first, let status = Int(statusLine.split(separator: " ").dropFirst().first ?? "") else { return nil }
        self.status = status
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
        body = String(text[headEnd.upperBound...])
    }

    var bodyJSON: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(body.utf8))) as? [String: Any] ?? [:]
    }
}

/// Keeps every log message, for tests that count lines.
final class CapturedLog: Sendable {
    private let messages = NIOLockedValueBox<[String]>([])

    var logger: Logger {
        var logger = Logger(label: "test") { _ in CapturingHandler(log: self) }
        logger.logLevel = .info
        return logger
    }

    func lines(containing needle: String) -> [String] {
        messages.withLockedValue { $0.filter { $0.contains(needle) } }
    }

    fileprivate func append(_ message: String) {
        messages.withLockedValue { $0.append(message) }
    }

    private struct CapturingHandler: LogHandler {
        let log: CapturedLog
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .info

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            log.append("\(event.level) \(event.message)")
        }
    }
}

/// Sends a keep-alive `GET path` on an open connection and waits for the first bytes of the
/// answer: the server has admitted the connection then. A connection cap counts a connection
/// when its channel is set up on its own event loop, so a test that holds connections to fill
/// the cap waits for this before it opens the one the cap must refuse.
func expectAdmitted(
    _ inbound: NIOAsyncChannelInboundStream<ByteBuffer>, _ outbound: NIOAsyncChannelOutboundWriter<ByteBuffer>, path: String
) async throws {
    try await outbound.write(ByteBuffer(string: "GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"))
    var answer = inbound.makeAsyncIterator()
    let first = try await answer.next()
    #expect(first.map { String(buffer: $0).hasPrefix("HTTP/1.1 200") } == true, "the held connection was admitted")
}
