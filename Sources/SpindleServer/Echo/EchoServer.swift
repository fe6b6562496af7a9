import Logging
import NIOConcurrencyHelpers
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
    /// At graceful shutdown, how long connections may take to receive their last replies
    /// before they are closed regardless.
    public var gracePeriod: Duration
    /// Event loop threads of the server's own, stopped with it; nil: SwiftNIO's shared group
    /// (one loop per core), unless ``EchoServer/start(_:group:logger:)`` is given a group.
    public var eventLoops: Int?

    /// Creates a configuration; the defaults are those of `spindle echo serve`.
    public init(
        host: String = "127.0.0.1", port: Int = 9000, maxConnections: Int = 10_000, idleTimeout: Duration = .seconds(60),
        gracePeriod: Duration = .seconds(5), eventLoops: Int? = nil
    ) {
        self.host = host
        self.port = port
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.gracePeriod = gracePeriod
        self.eventLoops = eventLoops
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
/// connections beyond ``EchoServerConfiguration/maxConnections`` are closed at once (with a
/// log line at most every 10 s) instead of exhausting file descriptors. Graceful shutdown
/// (``stop()``, or SIGTERM with ``serve(_:group:logger:onListening:)``) stops accepting, lets
/// every connection receive the replies to everything the server has read, ends each stream
/// after its last reply, and closes what is still open after
/// ``EchoServerConfiguration/gracePeriod``.
///
/// Its lifecycle is the other servers': ``start(_:group:logger:)`` and ``stop()``,
/// ``serve(_:group:logger:onListening:)`` until a signal, or scoped:
///
/// ```swift
/// try await withEchoServer(EchoServerConfiguration(port: 0)) { server in
///     print("listening on port \(server.port)")
/// }
/// ```
public final class EchoServer: RunningServer {
    /// The configuration it was started with (the port as asked, possibly 0).
    public let configuration: EchoServerConfiguration
    /// The address it listens on, with the actual port.
    public let localAddress: SocketAddress
    private let connections: EchoConnectionRegistry
    private let stopAction: @Sendable () async -> Void

    private init(listener: EchoListener, stop: @escaping @Sendable () async -> Void) {
        self.configuration = listener.configuration
        self.localAddress = listener.localAddress
        self.connections = listener.connections
        self.stopAction = stop
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

    /// Connections not being read now because their replies do not drain (backpressure).
    public var pausedConnections: Int { connections.pausedCount }

    /// Bytes answered (queued as replies) by the connections closed so far.
    public var bytesAnsweredByClosedConnections: Int { connections.closedBytesAnswered }

    /// Binds and starts serving in a task of its own; returns once the socket listens. Call
    /// ``stop()`` when done.
    /// - Parameters:
    ///   - configuration: Where to listen and the limits.
    ///   - group: The event loops serving connections; by default a group of
    ///     ``EchoServerConfiguration/eventLoops`` threads, or SwiftNIO's shared one.
    ///   - logger: Where rejected connections and errors are reported.
    /// - Throws: ``EchoServerError`` for a bad configuration (port out of range, a limit below
    ///   1, a non-positive idle timeout or grace period), or SwiftNIO's error when the address cannot be bound
    ///   (for example, the port is in use).
    public static func start(
        _ configuration: EchoServerConfiguration,
        group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "spindle.echo")
    ) async throws -> EchoServer {
        let listener = try await EchoListener.bind(configuration, group: group, logger: logger)
        do {
            let (_, stop) = try await ServerLifecycle.start(logger: logger, gracePeriod: nil) { listening in
                [EchoService(listener: listener) { listening(()) }]
            }
            return EchoServer(listener: listener, stop: stop)
        } catch {
            await listener.closeNow()
            throw error
        }
    }

    /// Binds, serves until SIGINT or SIGTERM, then shuts down gracefully (see ``stop()``).
    /// - Parameters:
    ///   - onListening: Called once the server listens; ``stop()`` on the handle it is given
    ///     begins the same graceful shutdown as a signal and returns at once.
    /// - Throws: As ``start(_:group:logger:)``.
    public static func serve(
        _ configuration: EchoServerConfiguration,
        group: (any EventLoopGroup)? = nil,
        logger: Logger = Logger(label: "spindle.echo"),
        onListening: @escaping @Sendable (EchoServer) async -> Void = { _ in }
    ) async throws {
        let listener = try await EchoListener.bind(configuration, group: group, logger: logger)
        try await ServerLifecycle.serve(logger: logger, gracePeriod: nil) { stop in
            [EchoService(listener: listener) { await onListening(EchoServer(listener: listener, stop: stop)) }]
        }
    }

    /// Shuts down gracefully: stops listening, lets every connection receive the replies to
    /// what the server has read and then end of stream, and closes the connections still open
    /// after ``EchoServerConfiguration/gracePeriod``. Returns when every connection is closed
    /// (on a handle given by ``serve(_:group:logger:onListening:)``: at once). Calling it again
    /// does nothing more.
    public func stop() async {
        await stopAction()
    }
}

/// Runs `body` with an echo server listening, and stops the server (gracefully) when `body`
/// returns or throws.
///
/// - Throws: What ``EchoServer/start(_:group:logger:)`` throws, or what `body` throws.
@discardableResult
public func withEchoServer<Result>(
    _ configuration: EchoServerConfiguration,
    group: (any EventLoopGroup)? = nil,
    logger: Logger = Logger(label: "spindle.echo"),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (EchoServer) async throws -> Result
) async throws -> Result {
    try await withRunningServer(start: { try await EchoServer.start(configuration, group: group, logger: logger) }, body)
}

/// The bound listening socket of an echo server and what its connections share.
private struct EchoListener: Sendable {
    let configuration: EchoServerConfiguration
    let channel: any Channel
    let localAddress: SocketAddress
    let connections: EchoConnectionRegistry
    /// The group made for ``EchoServerConfiguration/eventLoops``, shut down with the server.
    let ownedGroup: MultiThreadedEventLoopGroup?

    /// Validates `configuration` and binds its address.
    static func bind(_ configuration: EchoServerConfiguration, group: (any EventLoopGroup)?, logger: Logger) async throws -> EchoListener {
        try validate(configuration)
        let ownedGroup = group == nil ? configuration.eventLoops.map { MultiThreadedEventLoopGroup(numberOfThreads: $0) } : nil
        do {
            return try await bind(configuration, group: group ?? ownedGroup ?? MultiThreadedEventLoopGroup.singleton, ownedGroup: ownedGroup, logger: logger)
        } catch {
            try? await ownedGroup?.shutdownGracefully()
            throw error
        }
    }

    private static func bind(
        _ configuration: EchoServerConfiguration, group: any EventLoopGroup, ownedGroup: MultiThreadedEventLoopGroup?, logger: Logger
    ) async throws -> EchoListener {
        let connections = EchoConnectionRegistry(limit: configuration.maxConnections)
        // One line per refused connection would let a flood of connections flood the log.
        let refusals = RateLimitedLog(logger: logger)
        let idleTimeout = TimeAmount(configuration.idleTimeout)
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 1024)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelInitializer { channel in
                guard connections.admit(channel) else {
                    refusals.record(
                        "connection limit reached: closing new connections",
                        metadata: ["limit": "\(configuration.maxConnections)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
                    // A failed initializer makes SwiftNIO close the accepted socket at once.
                    return channel.eventLoop.makeFailedFuture(EchoServerError("connection limit reached"))
                }
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        EchoConnectionHandler(idleTimeout: idleTimeout, registry: connections, logger: logger, allocator: channel.allocator))
                }
            }
        let channel = try await bootstrap.bind(host: configuration.host, port: configuration.port).get()
        guard let address = channel.localAddress else {
            try? await channel.close()
            throw EchoServerError("the listening socket has no local address")
        }
        let listener = EchoListener(
            configuration: configuration, channel: channel, localAddress: address, connections: connections, ownedGroup: ownedGroup)
        logger.info("echo server listening", metadata: ["address": "\(listener.localAddress.ipAddress ?? configuration.host):\(address.port ?? 0)"])
        return listener
    }

    /// Stops listening and closes every connection at once.
    func closeNow() async {
        channel.close(promise: nil)
        connections.closeAll()
        try? await ownedGroup?.shutdownGracefully()
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
        if let loops = configuration.eventLoops, !(1...256).contains(loops) {
            throw EchoServerError("the number of event loops must be between 1 and 256, not \(loops)")
        }
        guard configuration.gracePeriod >= .zero else {
            throw EchoServerError("the grace period must not be negative, not \(configuration.gracePeriod)")
        }
        guard !configuration.host.isEmpty else {
            throw EchoServerError("the host to listen on is empty: use 127.0.0.1 for this machine only")
        }
    }
}

/// Serves an echo server's listener as a ServiceLifecycle service: ``run()`` returns once the
/// listener is closed and its connections are gone, draining them on graceful shutdown and
/// closing them at once on cancellation.
private final class EchoService: Service {
    private let listener: EchoListener
    private let onRunning: @Sendable () async -> Void
    /// Set by the first ``beginDraining()``: the later calls return it.
    private let forceClose = NIOLockedValueBox<Scheduled<Void>?>(nil)

    init(listener: EchoListener, onRunning: @escaping @Sendable () async -> Void) {
        self.listener = listener
        self.onRunning = onRunning
    }

    func run() async throws {
        await onRunning()
        await withTaskCancellationHandler {
            await withGracefulShutdownHandler {
                try? await listener.channel.closeFuture.get()
                // However the listener closed, the connections drain before `run` returns.
                let forceClose = beginDraining()
                await listener.connections.allClosed()
                forceClose.cancel()
                try? await listener.ownedGroup?.shutdownGracefully()
            } onGracefulShutdown: {
                self.beginDraining()
            }
        } onCancel: {
            self.listener.channel.close(promise: nil)
            self.listener.connections.closeAll()
        }
    }

    /// Stops listening, drains the connections, and schedules closing them at the grace deadline.
    @discardableResult
    private func beginDraining() -> Scheduled<Void> {
        forceClose.withLockedValue { scheduled in
            if let scheduled { return scheduled }
            listener.channel.close(promise: nil)
            listener.connections.drainAll()
            let connections = listener.connections
            let deadline = listener.channel.eventLoop.scheduleTask(in: TimeAmount(listener.configuration.gracePeriod)) {
                connections.closeAll()
            }
            scheduled = deadline
            return deadline
        }
    }
}
