import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOPosix
import NIOEmbedded
@testable import SpindleServer
import SpindleTestSupport
import Testing

/// The echo server's idle timeout against its own backpressure, and its log at the cap.
@Suite("EchoServer limits", .serialized)
struct EchoServerLimitsTests {
    // The idle timeout is tested on an `EmbeddedChannel`: its event loop's clock moves only
    // when the test advances it, and the test sets the channel's writability, so no timing of
    // the machine (how fast TCP buffers fill, how late a loaded event loop runs) enters.

    @Test func aConnectionPausedForBackpressureIsNotClosedAsIdle() throws {
        let connection = try EmbeddedEchoConnection(idleTimeout: .seconds(2))
        defer { connection.finish() }
        try connection.channel.writeInbound(ByteBuffer(string: "hello"))
        #expect(try connection.channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "HELLO"))

        // The replies stop draining: the server holds its next read.
        connection.setWritable(false)
        connection.channel.read()
        #expect(connection.registry.pausedCount == 1)
        // Ten idle timeouts pass while the server, not the client, is the one not reading.
        connection.loop.advanceTime(by: .seconds(20))
        #expect(connection.channel.isActive, "a paused connection was closed as idle")

        // The replies drain and the client stays silent: its idle time starts at the resume.
        connection.setWritable(true)
        #expect(connection.registry.pausedCount == 0)
        connection.loop.advanceTime(by: .milliseconds(1999))
        #expect(connection.channel.isActive)
        connection.loop.advanceTime(by: .milliseconds(1))
        #expect(!connection.channel.isActive, "a silent connection outlived the idle timeout")
    }

    @Test func aTalkingConnectionOutlivesTheIdleTimeoutAndASilentOneDoesNot() throws {
        let connection = try EmbeddedEchoConnection(idleTimeout: .seconds(1))
        defer { connection.finish() }
        // Five times the idle timeout in all, never silent for more than 0.9 of it.
        for round in 0..<6 {
            connection.loop.advanceTime(by: .milliseconds(900))
            #expect(connection.channel.isActive, "closed while talking, round \(round)")
            try connection.channel.writeInbound(ByteBuffer(string: "ping \(round)"))
            #expect(try connection.channel.readOutbound(as: ByteBuffer.self) == ByteBuffer(string: "PING \(round)"))
        }
        connection.loop.advanceTime(by: .milliseconds(999))
        #expect(connection.channel.isActive)
        connection.loop.advanceTime(by: .milliseconds(1))
        #expect(!connection.channel.isActive, "a silent connection outlived the idle timeout")
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

/// One echo connection's handler on an `EmbeddedChannel`, connected, with its registry.
private struct EmbeddedEchoConnection {
    let loop = EmbeddedEventLoop()
    let channel: EmbeddedChannel
    let registry = EchoConnectionRegistry(limit: 1)

    init(idleTimeout: TimeAmount) throws {
        channel = EmbeddedChannel(loop: loop)
        try channel.pipeline.syncOperations.addHandler(
            EchoConnectionHandler(idleTimeout: idleTimeout, registry: registry, logger: Logger(label: "test"), allocator: channel.allocator))
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 9)).wait()
    }

    /// What the kernel would tell the server as its socket's send buffer fills or drains.
    func setWritable(_ writable: Bool) {
        channel.isWritable = writable
        channel.pipeline.fireChannelWritabilityChanged()
    }

    func finish() {
        _ = try? channel.finish()
    }
}
