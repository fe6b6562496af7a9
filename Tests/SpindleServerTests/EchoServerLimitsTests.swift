import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import SpindleServer
import SpindleTestSupport
import Testing

/// The echo server's idle timeout against its own backpressure, and its log at the cap.
@Suite("EchoServer limits", .serialized)
struct EchoServerLimitsTests {
    @Test(.disabled("flaky in the full parallel suite: twice the server never paused the connection within 30 s (received 0 of 50-390 MB); passes alone; to be made deterministic"))
    func aConnectionPausedForBackpressureIsNotClosedAsIdle() async throws {
        let configuration = EchoServerConfiguration(port: 0, idleTimeout: .seconds(2), eventLoops: 1)
        try await withEchoServer(configuration) { server in
            let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .channelOption(.socketOption(.so_rcvbuf), value: 16 * 1024)
                .connect(host: "127.0.0.1", port: server.port) { channel in
                    channel.eventLoop.makeCompletedFuture { try EchoTestClient.Connection(wrappingChannelSynchronously: channel) }
                }
            let chunk = ByteBuffer(repeating: UInt8(ascii: "a"), count: 64 * 1024)
            let (written, received) = try await withDeadline(seconds: 120) {
                try await connection.executeThenClose { inbound, outbound in
                    let writtenSoFar = NIOLockedValueBox(0)
                    let writer = Task {
                        while !Task.isCancelled {
                            try await outbound.write(chunk)
                            writtenSoFar.withLockedValue { $0 += chunk.readableBytes }
                        }
                    }
                    #expect(await waitUntil(seconds: 30) { server.pausedConnections == 1 }, "the server never paused the connection")
                    // Several idle timeouts pass while the server, not the client, is the one not reading.
                    // (2 s each: a loaded machine can leave an event loop unscheduled for a good part of a second.)
                    try await Task.sleep(for: .seconds(7))
                    writer.cancel()
                    _ = await writer.result
                    let written = writtenSoFar.withLockedValue { $0 }
                    var received = 0
                    var replies = inbound.makeAsyncIterator()
                    do {
                        while received < written, let reply = try await replies.next() { received += reply.readableBytes }
                    } catch {
                        // A reset: the server closed a connection it had stopped reading.
                    }
                    return (written, received)
                }
            }
            #expect(written > 0)
            #expect(received >= written, "the connection ended after \(received) of \(written) bytes")
        }
    }

    @Test func refusedConnectionsAreLoggedOncePerInterval() async throws {
        let log = CapturedLog()
        try await withEchoServer(EchoServerConfiguration(port: 0, maxConnections: 1), logger: log.logger) { server in
            let held = try await EchoTestClient.connect(port: server.port)
            #expect(await waitUntil(seconds: 30) { server.openConnections == 1 })
            for _ in 0..<3 {
                let refused = try await EchoTestClient.connect(port: server.port)
                try? await refused.channel.closeFuture.get()
            }
            #expect(await waitUntil(seconds: 30) { server.rejectedConnections == 3 })
            #expect(log.lines(containing: "connection limit reached").count == 1)
            try await held.channel.close()
        }
    }
}
