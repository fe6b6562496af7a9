import Histogram
import Logging
import NIOCore
import NIOPosix

/// What ``EchoLoadClient`` does: how many connections, for how long, with which message.
public struct EchoLoadConfiguration: Sendable, Hashable {
    /// The server's address.
    public var host: String
    /// The server's port.
    public var port: Int
    /// Connections open at once, each with one message in flight.
    public var connections: Int
    /// How long the load runs once every connection is open.
    public var duration: Duration
    /// The bytes each round trip sends; the expected reply is these, upper-cased.
    public var message: [UInt8]
    /// How long a connection may take to open.
    public var connectTimeout: Duration

    /// Creates a configuration; the defaults are those of `spindle echo load`.
    public init(
        host: String = "127.0.0.1", port: Int = 9000, connections: Int = 100,
        duration: Duration = .seconds(10), message: String = "hello", connectTimeout: Duration = .seconds(5)
    ) {
        self.host = host
        self.port = port
        self.connections = connections
        self.duration = duration
        self.message = Array(message.utf8)
        self.connectTimeout = connectTimeout
    }

    /// The reply a correct server sends: the message with ASCII `a`–`z` upper-cased.
    public var expectedReply: [UInt8] {
        message.map { $0 &- UInt8(ascii: "a") < 26 ? $0 &- 32 : $0 }
    }
}

/// What a load run measured.
public struct EchoLoadReport: Sendable {
    /// Connections asked for.
    public var connections: Int
    /// Connections that opened.
    public var connected: Int
    /// Replies received whole and correct.
    public var roundTrips: Int
    /// From the start of the load (every connection open) to its end.
    public var elapsed: Duration
    /// Replies that came back whole but different from the upper-cased message.
    public var wrongReplies: Int
    /// Connections the server closed before the end.
    public var disconnects: Int
    /// Connections that could not be opened.
    public var connectFailures: Int
    /// Round-trip latencies in microseconds.
    public var latency: Histogram<UInt64>

    /// Correct round trips per second.
    public var roundTripsPerSecond: Double {
        let seconds = elapsed.seconds
        return seconds > 0 ? Double(roundTrips) / seconds : 0
    }

    /// Wrong replies, disconnects and failed connections together.
    public var errors: Int { wrongReplies + disconnects + connectFailures }

    /// The latency at `percentile` (0–100), in microseconds.
    public func latencyMicroseconds(atPercentile percentile: Double) -> Double {
        latency.totalCount == 0 ? 0 : Double(latency.valueAtPercentile(percentile))
    }
}

/// A failure of the load run as a whole (bad configuration, or no connection could be opened).
public struct EchoLoadError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What went wrong.
    public var description: String
    /// Creates an error with its message.
    public init(_ description: String) { self.description = description }
}

/// The course's 100 echo clients (one process each, `send` then `recv(1024)` in a loop), as one
/// SwiftNIO client: N connections on a few event loops, each sending the message, reading the
/// whole reply back (replies split across reads or coalesced are reassembled by byte count),
/// checking it, and sending again, until the duration is up.
///
/// It is light on purpose: on a small machine it shares the CPU with the server it measures.
public enum EchoLoadClient {
    /// Opens the connections, runs the load for the configured duration, and reports.
    /// - Throws: ``EchoLoadError`` for a bad configuration or when not one connection opens
    ///   (the server is not there). Wrong replies and dropped connections are not thrown:
    ///   they are counted in the report.
    public static func run(
        _ configuration: EchoLoadConfiguration,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> EchoLoadReport {
        try validate(configuration)
        let expected = configuration.expectedReply
        let message = ByteBuffer(bytes: configuration.message)
        // Open every connection first (all at once), so the measured time is load, not setup.
        var connections: [EchoLoadConnection] = []
        var firstFailure: (any Error)?
        await withTaskGroup(of: Result<EchoLoadConnection, any Error>.self) { tasks in
            for _ in 0..<configuration.connections {
                tasks.addTask {
                    do {
                        return .success(try await connect(configuration, message: message, expectedReply: expected, group: group))
                    } catch {
                        return .failure(error)
                    }
                }
            }
            for await result in tasks {
                switch result {
                case .success(let connection): connections.append(connection)
                case .failure(let error): firstFailure = firstFailure ?? error
                }
            }
        }
        guard !connections.isEmpty else {
            throw EchoLoadError("cannot connect to \(configuration.host):\(configuration.port): \(firstFailure.map { "\($0)" } ?? "no connection")")
        }

        let start = NIODeadline.now()
        let deadline = start + TimeAmount(configuration.duration)
        for connection in connections {
            connection.channel.pipeline.fireUserInboundEventTriggered(EchoLoadConnectionHandler.Start(deadline: deadline))
        }

        var report = EchoLoadReport(
            connections: configuration.connections, connected: connections.count, roundTrips: 0, elapsed: .zero,
            wrongReplies: 0, disconnects: 0, connectFailures: configuration.connections - connections.count,
            latency: EchoConnectionStats.emptyHistogram())
        for connection in connections {
            // Every handler reports exactly once: at the deadline, or when its connection ends.
            let stats = try await connection.finished.get()
            report.roundTrips += stats.roundTrips
            report.wrongReplies += stats.wrongReplies
            report.disconnects += stats.disconnected ? 1 : 0
            report.latency.add(stats.latency)
        }
        let end = min(NIODeadline.now(), deadline)
        report.elapsed = .nanoseconds((end - start).nanoseconds)
        return report
    }

    /// One open connection and the figures it will report.
    private struct EchoLoadConnection: Sendable {
        var channel: any Channel
        var finished: EventLoopFuture<EchoConnectionStats>
    }

    private static func connect(
        _ configuration: EchoLoadConfiguration, message: ByteBuffer, expectedReply: [UInt8], group: any EventLoopGroup
    ) async throws -> EchoLoadConnection {
        try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(TimeAmount(configuration.connectTimeout))
            .connect(host: configuration.host, port: configuration.port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    let finished = channel.eventLoop.makePromise(of: EchoConnectionStats.self)
                    try channel.pipeline.syncOperations.addHandler(
                        EchoLoadConnectionHandler(message: message, expectedReply: expectedReply, finished: finished))
                    return EchoLoadConnection(channel: channel, finished: finished.futureResult)
                }
            }
    }

    private static func validate(_ configuration: EchoLoadConfiguration) throws {
        guard (1...65535).contains(configuration.port) else {
            throw EchoLoadError("port \(configuration.port) is out of range 1–65535")
        }
        guard (1...50_000).contains(configuration.connections) else {
            throw EchoLoadError("connections must be between 1 and 50000, not \(configuration.connections)")
        }
        guard configuration.duration > .zero else {
            throw EchoLoadError("the duration must be positive, not \(configuration.duration)")
        }
        guard !configuration.message.isEmpty else {
            throw EchoLoadError("the message is empty: an echo of nothing cannot be checked")
        }
        guard configuration.message.count <= 1 << 20 else {
            throw EchoLoadError("the message is \(configuration.message.count) bytes: at most 1 MiB")
        }
    }
}
