import NIOCore
import NIOPosix
import SpindleServer

#if canImport(Glibc)
import Glibc
#endif

/// A plain TCP client for the echo tests: NIO's async channel, loopback only.
enum EchoTestClient {
    typealias Connection = NIOAsyncChannel<ByteBuffer, ByteBuffer>

    static func connect(port: Int) async throws -> Connection {
        try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connect(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    try Connection(wrappingChannelSynchronously: channel)
                }
            }
    }

    /// Reads until `count` bytes have arrived, however they are split; `nil` if the server
    /// closed the connection first.
    static func read(
        _ count: Int, from inbound: inout NIOAsyncChannelInboundStream<ByteBuffer>.AsyncIterator
    ) async throws -> [UInt8]? {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count)
        while bytes.count < count {
            guard let chunk = try await inbound.next() else { return nil }
            bytes.append(contentsOf: chunk.readableBytesView)
        }
        return bytes
    }
}

/// Runs `body`, failing with `EchoTestTimeout` if it takes longer than `seconds`: every test
/// that waits on the network is bounded.
func withDeadline<T: Sendable>(seconds: Double, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
    try await withThrowingTaskGroup(of: T?.self) { group in
        group.addTask { try await body() }
        group.addTask {
            try await Task.sleep(for: .seconds(seconds))
            return nil
        }
        defer { group.cancelAll() }
        guard let first = try await group.next(), let value = first else {
            throw EchoTestTimeout(seconds: seconds)
        }
        return value
    }
}

struct EchoTestTimeout: Error, CustomStringConvertible {
    var seconds: Double
    var description: String { "not done within \(seconds) s" }
}

/// Python's `bytes.upper()`: ASCII letters only.
func pythonUpper(_ bytes: [UInt8]) -> [UInt8] {
    bytes.map { (97...122).contains($0) ? $0 - 32 : $0 }
}

/// A server that answers like an echo server but gets it wrong in a chosen way, to check
/// that the load client notices.
enum MisbehavingServer {
    enum Behaviour: Sendable {
        /// Echoes the bytes unchanged (forgets to upper-case).
        case echoUnchanged
        /// Closes every connection as soon as it opens.
        case hangUp
    }

    final class Handler: ChannelInboundHandler, Sendable {
        typealias InboundIn = ByteBuffer
        typealias OutboundOut = ByteBuffer
        let behaviour: Behaviour
        init(_ behaviour: Behaviour) { self.behaviour = behaviour }

        func channelActive(context: ChannelHandlerContext) {
            if case .hangUp = behaviour { context.close(promise: nil) }
            context.fireChannelActive()
        }

        func channelRead(context: ChannelHandlerContext, data: NIOAny) {
            context.writeAndFlush(data, promise: nil)
        }
    }

    static func start(_ behaviour: Behaviour) async throws -> any Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(Handler(behaviour))
                }
            }
            .bind(host: "127.0.0.1", port: 0).get()
    }
}
