import NIOCore
import NIOPosix
import SpindleServer
import SpindleTestSupport
import Testing

// One test at a time: the idle-timeout tests must not be starved of CPU by the megabyte test.
@Suite("EchoServer", .serialized)
struct EchoServerTests {
    @Test func repliesAreUpperCasedForAHundredClientsWritingInPieces() async throws {
        try await withEchoServer(EchoServerConfiguration(port: 0)) { server in
            let port = server.port
            try await withDeadline(seconds: 60) {
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for client in 0..<100 {
                        group.addTask {
                            let message = Array("hello from client \(client): mixed Case, digits 123, ünïcode ✓\n".utf8)
                            let connection = try await EchoTestClient.connect(port: port)
                            try await connection.executeThenClose { inbound, outbound in
                                var replies = inbound.makeAsyncIterator()
                                for _ in 0..<3 {
                                    // Three pieces, each flushed on its own: the reply may come
                                    // back in any split.
                                    let cuts = [0, message.count / 3, 2 * message.count / 3, message.count]
                                    for piece in 0..<3 {
                                        try await outbound.write(ByteBuffer(bytes: message[cuts[piece]..<cuts[piece + 1]]))
                                        await Task.yield()
                                    }
                                    let reply = try await EchoTestClient.read(message.count, from: &replies)
                                    #expect(reply == pythonUpper(message))
                                }
                            }
                        }
                    }
                    try await group.waitForAll()
                }
            }
        }
    }

    @Test func aMegabyteComesBackWhole() async throws {
        try await withEchoServer(EchoServerConfiguration(port: 0)) { server in
            let port = server.port
            try await withDeadline(seconds: 60) {
                var generator = SystemRandomNumberGenerator()
                let message = (0..<(1 << 20)).map { _ in UInt8.random(in: 32...126, using: &generator) }
                let connection = try await EchoTestClient.connect(port: port)
                let reply = try await connection.executeThenClose { inbound, outbound in
                    // Writing 1 MiB while reading: the server's replies back up whenever this
                    // side falls behind, which is the backpressure path.
                    try await withThrowingTaskGroup(of: [UInt8]?.self) { group in
                        group.addTask {
                            var replies = inbound.makeAsyncIterator()
                            return try await EchoTestClient.read(message.count, from: &replies)
                        }
                        var offset = 0
                        while offset < message.count {
                            let end = min(offset + 64 * 1024, message.count)
                            try await outbound.write(ByteBuffer(bytes: message[offset..<end]))
                            offset = end
                        }
                        return try await group.next() ?? nil
                    }
                }
                #expect(reply == pythonUpper(message))
            }
        }
    }

    @Test func connectionsBeyondTheCapAreClosedAndTheOthersKeepWorking() async throws {
        try await withEchoServer(EchoServerConfiguration(port: 0, maxConnections: 2)) { server in
            let port = server.port
            try await withDeadline(seconds: 30) {
                let first = try await EchoTestClient.connect(port: port)
                let second = try await EchoTestClient.connect(port: port)
                try await first.executeThenClose { firstIn, firstOut in
                    try await second.executeThenClose { secondIn, secondOut in
                        var firstReplies = firstIn.makeAsyncIterator()
                        var secondReplies = secondIn.makeAsyncIterator()
                        try await firstOut.write(ByteBuffer(string: "one"))
                        #expect(try await EchoTestClient.read(3, from: &firstReplies) == Array("ONE".utf8))
                        try await secondOut.write(ByteBuffer(string: "two"))
                        #expect(try await EchoTestClient.read(3, from: &secondReplies) == Array("TWO".utf8))

                        let third = try await EchoTestClient.connect(port: port)
                        try await third.executeThenClose { thirdIn, thirdOut in
                            var thirdReplies = thirdIn.makeAsyncIterator()
                            try? await thirdOut.write(ByteBuffer(string: "three"))
                            // The server closed it on arrival: end of stream (or a reset), no reply.
                            let reply = try? await EchoTestClient.read(5, from: &thirdReplies)
                            #expect(reply == nil)
                        }
                        #expect(server.rejectedConnections == 1)

                        try await firstOut.write(ByteBuffer(string: "still here"))
                        #expect(try await EchoTestClient.read(10, from: &firstReplies) == Array("STILL HERE".utf8))
                        try await secondOut.write(ByteBuffer(string: "me too"))
                        #expect(try await EchoTestClient.read(6, from: &secondReplies) == Array("ME TOO".utf8))
                    }
                }
            }
        }
    }

    @Test func aSilentConnectionIsClosedAfterTheIdleTimeout() async throws {
        let configuration = EchoServerConfiguration(port: 0, idleTimeout: .milliseconds(200))
        try await withEchoServer(configuration) { server in
            let port = server.port
            try await withDeadline(seconds: 10) {
                let connection = try await EchoTestClient.connect(port: port)
                try await connection.executeThenClose { inbound, _ in
                    var replies = inbound.makeAsyncIterator()
                    // Nothing is sent: the next thing to arrive is the server's close.
                    let next = try? await replies.next()
                    #expect(next == nil)
                }
            }
            #expect(await waitUntil(seconds: 5) { server.openConnections == 0 })
        }
    }

    @Test func gracefulShutdownSendsEveryReplyThenEndOfStream() async throws {
        // Its own event loop (which `stop()` stops), so the megabytes below do not hold up
        // the shared loops other tests run on.
        // The grace period is long because the client below reads megabytes through a 16 KB
        // window on a cooperative pool that other tests keep busy: on a slow day 20 s ran out.
        let server = try await EchoServer.start(EchoServerConfiguration(port: 0, gracePeriod: .seconds(120), eventLoops: 1))
        let port = server.port
        // A periodic stream of lower-case letters: byte i of the reply must be letter i % 26, upper-cased.
        let letters = Array("abcdefghijklmnopqrstuvwxyz".utf8)
        let chunk = ByteBuffer(bytes: (0..<(26 * 2520)).map { letters[$0 % 26] })
        let connection = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            // A small receive window, so the server's replies back up soon.
            .channelOption(.socketOption(.so_rcvbuf), value: 16 * 1024)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture { try EchoTestClient.Connection(wrappingChannelSynchronously: channel) }
            }
        let result = try await withDeadline(seconds: 180) {
            try await connection.executeThenClose { inbound, outbound in
                try await withThrowingTaskGroup(of: Void.self) { group in
                    // Sends without reading until the server stops reading (its replies do not drain).
                    group.addTask {
                        while true { try await outbound.write(chunk) }
                    }
                    #expect(await waitUntil(seconds: 30) { server.pausedConnections == 1 }, "the server never paused the connection")
                    // Shut down with replies still queued, then read them all: the stream must end
                    // cleanly (end of stream, not a reset) after the last reply.
                    let closing = Task { await server.stop() }
                    var count = 0
                    var wrong = 0
                    for try await reply in inbound {
                        reply.withUnsafeReadableBytes { bytes in
                            for byte in bytes {
                                if byte != letters[count % 26] - 32 { wrong += 1 }
                                count += 1
                            }
                        }
                    }
                    #expect(wrong == 0)
                    group.cancelAll()
                    return (count, closing)
                }
            }
        }
        let (received, closing) = result
        await closing.value
        // `stop()` has returned: the connection is closed and its count recorded.
        #expect(received > 0)
        #expect(received == server.bytesAnsweredByClosedConnections, "replies the server queued but never sent")
        #expect(server.openConnections == 0)
    }

    @Test func serveAnswersUntilTheHandleItGaveStopsIt() async throws {
        let (listening, continuation) = AsyncStream.makeStream(of: EchoServer.self)
        let serving = Task {
            try await EchoServer.serve(EchoServerConfiguration(port: 0)) { continuation.yield($0) }
        }
        var servers = listening.makeAsyncIterator()
        let server = try #require(await servers.next())
        try await withDeadline(seconds: 60) {
            let connection = try await EchoTestClient.connect(port: server.port)
            try await connection.executeThenClose { inbound, outbound in
                var replies = inbound.makeAsyncIterator()
                try await outbound.write(ByteBuffer(string: "served"))
                #expect(try await EchoTestClient.read(6, from: &replies) == Array("SERVED".utf8))
            }
            // The handle's stop begins the graceful shutdown and returns; serve returns once down.
            await server.stop()
            try await serving.value
        }
        await #expect(throws: (any Error).self, "the listener is closed") {
            _ = try await EchoTestClient.connect(port: server.port)
        }
    }

    @Test func stopTwiceStopsOnce() async throws {
        let server = try await EchoServer.start(EchoServerConfiguration(port: 0))
        try await withDeadline(seconds: 60) {
            await server.stop()
            await server.stop()
        }
        #expect(server.openConnections == 0)
        await #expect(throws: (any Error).self, "the listener is closed") {
            _ = try await EchoTestClient.connect(port: server.port)
        }
    }

    @Test func badConfigurationsNameTheProblem() async throws {
        await #expect(throws: EchoServerError.self) {
            _ = try await EchoServer.start(EchoServerConfiguration(port: 0, maxConnections: 0))
        }
        await #expect(throws: EchoServerError.self) {
            _ = try await EchoServer.start(EchoServerConfiguration(port: 70000))
        }
        await #expect(throws: EchoServerError.self) {
            _ = try await EchoServer.start(EchoServerConfiguration(port: 0, idleTimeout: .zero))
        }
        await #expect(throws: EchoServerError.self) {
            _ = try await EchoServer.start(EchoServerConfiguration(port: 0, gracePeriod: .seconds(-1)))
        }
        await #expect(throws: EchoServerError.self) {
            _ = try await EchoServer.start(EchoServerConfiguration(port: 0, eventLoops: 0))
        }
    }

    @Test func aPortInUseIsAnError() async throws {
        try await withEchoServer(EchoServerConfiguration(port: 0)) { server in
            await #expect(throws: (any Error).self) {
                _ = try await EchoServer.start(EchoServerConfiguration(port: server.port))
            }
        }
    }
}
