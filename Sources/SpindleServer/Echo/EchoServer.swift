import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle

/// How an ``EchoServer`` listens and what it tolerates.
public struct EchoServerConfiguration: Sendable, Hashable {
    /// The address to listen on; loopback unless you mean to serve other machines.
    public var host: String
    /// The port to listen on; 0 picks a free one (read it back from ``EchoServer/port``).
    public var port: Int
    /// Connections served at once; a connection beyond this is closed as soon as it is accepted.
    public var maxConnections: Int
    /// A connection that sends nothing for this long is closed.
    public var idleTimeout: Duration

    /// Creates a configuration; the defaults are those of `spindle echo serve`.
    public init(host: String = "127.0.0.1", port: Int = 9000, maxConnections: Int = 10_000, idleTimeout: Duration = .seconds(60)) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
    }
}

/// A bad ``EchoServerConfiguration`` or a failure to listen, in words that name the problem.
public struct EchoServerError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// Creates an error with its message.
    public init(_ description: String) { self.description = description }
}

/// The course's gevent echo server on SwiftNIO: every chunk a client sends comes back with its
/// ASCII letters upper-cased (Python's `data.upper()` on bytes).
///
/// Unlike the course's version it survives misbehaving clients: a client that sends without
/// reading stops being read once its replies no longer drain (backpressure, so memory stays
/// bounded), a silent connection is closed after ``EchoServerConfiguration/idleTimeout``, and
/// connections beyond ``EchoServerConfiguration/maxConnections`` are closed at once with a log
/// line instead of exhausting file descriptors.
///
/// ```swift
/// try await EchoServer.withRunning(EchoServerConfiguration(port: 0)) { server in
///     print("listening on port \(server.port)")
/// }
/// ```
///
/// It is a ServiceLifecycle `Service`: ``run()`` returns when the server is closed and closes it
/// on graceful shutdown.
public final class EchoServer: Service, Sendable {
    /// The configuration it was started with (the port as asked, possibly 0).
    public let configuration: EchoServerConfiguration
    /// The address it listens on, with the actual port.
    public let localAddress: SocketAddress
    private let serverChannel: any Channel
    private let connections: EchoConnectionRegistry
    private let logger: Logger

    private init(configuration: EchoServerConfiguration, serverChannel: any Channel, connections: EchoConnectionRegistry, logger: Logger) throws {
        guard let address = serverChannel.localAddress else {
            throw EchoServerError("the listening socket has no local address")
        }
        self.configuration = configuration
        self.serverChannel = serverChannel
        self.localAddress = address
        self.connections = connections
        self.logger = logger
    }

    /// The port it listens on (the one picked by the system when the configuration said 0).
    public var port: Int { localAddress.port ?? configuration.port }

    /// `host:port` as clients should dial it.
    public var address: String {
        "\(localAddress.ipAddress ?? configuration.host):\(port)"
    }

    /// Connections open now.
    public var openConnections: Int { connections.openCount }

    /// Connections closed on arrival because the limit was reached, since the start.
    public var rejectedConnections: Int { connections.rejectedCount }

    /// Binds and starts serving; returns once the socket listens.
    /// - Parameters:
    ///   - configuration: Where to listen and the limits.
    ///   - group: The event loops serving connections; by default SwiftNIO's shared one.
    ///   - logger: Where rejected connections and errors are reported.
    /// - Throws: ``EchoServerError`` for a bad configuration (port out of range, a limit below
    ///   1, a non-positive idle timeout), or SwiftNIO's error when the address cannot be bound
    ///   (for example, the port is in use).
    public static func start(
        _ configuration: EchoServerConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "spindle.echo")
    ) async throws -> EchoServer {
        try validate(configuration)
        let connections = EchoConnectionRegistry(limit: configuration.maxConnections)
        let idleTimeout = TimeAmount(configuration.idleTimeout)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else {
                    logger.warning(
                        "connection limit reached: closing new connection",
                        metadata: ["limit": "\(configuration.maxConnections)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                    // A failed initializer makes SwiftNIO close the accepted socket at once.
                    return channel.eventLoop.makeFailedFuture(EchoServerError("connection limit reached"))
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandlers([
                        IdleStateHandler(readTimeout: idleTimeout),
                        BackPressureHandler(),
                        UppercaseEchoHandler(logger: logger),
                    ])
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        let server = try EchoServer(configuration: configuration, serverChannel: channel, connections: connections, logger: logger)
        logger.info("echo server listening", metadata: ["address": "\(server.address)"])
        return server
    }

    /// Starts a server, runs `body` with it, and closes it whatever `body` does.
    @discardableResult
    public static func withRunning<T: Sendable>(
        _ configuration: EchoServerConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        logger: Logger = Logger(label: "spindle.echo"),
        _ body: (EchoServer) async throws -> T
    ) async throws -> T {
        let server = try await start(configuration, group: group, logger: logger)
        do {
            let value = try await body(server)
            try await server.close()
            return value
        } catch {
            try? await server.close()
            throw error
        }
    }

    /// Waits until the server is closed; closes it on graceful shutdown or cancellation.
    public func run() async throws {
        try await withTaskCancellationHandler {
            try await withGracefulShutdownHandler {
                try await serverChannel.closeFuture.get()
            } onGracefulShutdown: {
                self.closeAll()
            }
        } onCancel: {
            self.closeAll()
        }
    }

    /// Serves until SIGINT or SIGTERM, then stops listening and closes every connection.
    public func runUntilShutdownSignal() async throws {
        let group = ServiceGroup(services: [self], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        try await group.run()
    }

    /// Stops listening and closes every open connection.
    public func close() async throws {
        closeAll()
        try await serverChannel.closeFuture.get()
    }

    private func closeAll() {
        serverChannel.close(promise: nil)
        connections.closeAll()
    }

    private static func validate(_ configuration: EchoServerConfiguration) throws {
        guard (0...65535).contains(configuration.port) else {
            throw EchoServerError("port \(configuration.port) is out of range: use 0 (any free port) to 65535")
        }
        guard configuration.maxConnections >= 1 else {
            throw EchoServerError("the connection limit must be at least 1, not \(configuration.maxConnections)")
        }
        guard configuration.idleTimeout > .zero else {
            throw EchoServerError("the idle timeout must be positive, not \(configuration.idleTimeout)")
        }
        guard !configuration.host.isEmpty else {
            throw EchoServerError("the host to listen on is empty: use 127.0.0.1 for this machine only")
        }
    }
}
