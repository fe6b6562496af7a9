import ArgumentParser
import Foundation
import Logging
import SpindleServer

/// `spindle echo`: the course's gevent echo server and its hundred clients, on SwiftNIO.
struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "A TCP server that upper-cases what it receives, and a load client to measure it.",
        discussion: """
            The course's gevent server answered every recv(1024) with data.upper(), one greenlet \
            per connection, and 100 client processes hammered it. `spindle echo serve` does the \
            same on SwiftNIO with backpressure, an idle timeout and a connection cap; \
            `spindle echo load` is the clients, as N connections in one process.
            """,
        subcommands: [EchoServeCommand.self, EchoLoadCommand.self]
    )
}

/// `spindle echo serve`: runs the echo server until SIGINT or SIGTERM.
struct EchoServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve the upper-casing echo until SIGINT or SIGTERM.",
        discussion: """
            Prints `listening on HOST:PORT` once the socket listens (with --port 0, the port the \
            system picked). A connection beyond --max-connections is closed at once (logged at \
            most every 10 s); a connection silent for --idle-timeout is closed (not one the server \
            itself stopped reading); a client that sends without \
            reading stops being read until its replies drain. On SIGTERM or SIGINT it stops \
            accepting, sends every connection the replies to what it has read, then end of \
            stream, and closes what is left after --grace-period.
            """
    )

    @Option(help: "The address to listen on (127.0.0.1: this machine only).")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on; 0 picks a free one.")
    var port = 9000

    @Option(help: "Connections served at once; more are closed on arrival.")
    var maxConnections = 10_000

    @Option(help: "Close a connection silent for this long (500ms, 60s, 2m).", transform: DurationArgument.parse)
    var idleTimeout = DurationArgument.seconds(60)

    @Option(help: "On SIGTERM / SIGINT, how long connections may take to receive their last replies.", transform: DurationArgument.parse)
    var gracePeriod = DurationArgument.seconds(5)

    @Option(help: "Event loop threads serving connections (default: one per core).")
    var eventLoops: Int?

    func validate() throws {
        guard (0...65535).contains(port) else { throw ValidationError("--port must be between 0 and 65535, got \(port)") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1, got \(maxConnections)") }
        guard idleTimeout.duration > .zero else { throw ValidationError("--idle-timeout must be positive, got \(idleTimeout)") }
        if let eventLoops, !(1...256).contains(eventLoops) {
            throw ValidationError("--event-loops must be between 1 and 256, got \(eventLoops)")
        }
    }

    func run() async throws {
        let configuration = EchoServerConfiguration(
            host: host, port: port, maxConnections: maxConnections, idleTimeout: idleTimeout.duration,
            gracePeriod: gracePeriod.duration, eventLoops: eventLoops)
        let announcement = "(at most \(maxConnections) connections, idle timeout \(idleTimeout))"
        try await EchoServer.serve(configuration, logger: Logger(label: "spindle.echo")) { server in
            // Written straight to the file descriptor, not buffered: a parent process waits for it.
            FileHandle.standardOutput.write(Data("listening on \(server.address) \(announcement)\n".utf8))
        }
        print("stopped")
    }
}

/// `spindle echo load`: N connections send the message and check the reply, for a while.
struct EchoLoadCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "load",
        abstract: "Drive an echo server with N connections and report round trips/s and latency.",
        discussion: """
            Each connection sends --message, reads the whole upper-cased reply back (however \
            it is split or joined), checks it, and sends again, until --duration has passed. \
            Reports round trips per second, latency percentiles (HdrHistogram) and errors: wrong \
            replies, connections the server closed, connections that could not open. Exits \
            with status 1 when there were errors.
            """
    )

    @Option(help: "The server's address.")
    var host = "127.0.0.1"

    @Option(help: "The server's port.")
    var port = 9000

    @Option(help: "Connections at once, one message in flight on each.")
    var connections = 100

    @Option(help: "How long to run once connected (500ms, 10s, 2m).", transform: DurationArgument.parse)
    var duration = DurationArgument.seconds(10)

    @Option(help: "What each round trip sends.")
    var message = "hello"

    @Flag(help: "Print the figures as one JSON object.")
    var json = false

    func validate() throws {
        guard (1...65535).contains(port) else { throw ValidationError("--port must be between 1 and 65535, got \(port)") }
        guard (1...50_000).contains(connections) else { throw ValidationError("--connections must be between 1 and 50000, got \(connections)") }
        guard duration.duration > .zero else { throw ValidationError("--duration must be positive, got \(duration)") }
        guard !message.isEmpty else { throw ValidationError("--message must not be empty: an empty echo cannot be checked") }
    }

    func run() async throws {
        let report = try await EchoLoadClient.run(
            EchoLoadConfiguration(host: host, port: port, connections: connections, duration: duration.duration, message: message))
        print(json ? try report.jsonText() : report.summaryText(host: host, port: port))
        if report.errors > 0 { throw ExitCode(1) }
    }
}

extension EchoLoadReport {
    /// Latency at a percentile in milliseconds.
    func latencyMilliseconds(_ percentile: Double) -> Double {
        latencyMicroseconds(atPercentile: percentile) / 1000
    }

    /// Lines for people.
    func summaryText(host: String, port: Int) -> String {
        """
        \(connected) of \(connections) connections to \(host):\(port) for \(String(format: "%.2f", elapsed.seconds)) s
        round trips: \(roundTrips) (\(String(format: "%.0f", roundTripsPerSecond))/s)
        latency: p50 \(String(format: "%.3f", latencyMilliseconds(50))) ms, p99 \(String(format: "%.3f", latencyMilliseconds(99))) ms, \
        p99.9 \(String(format: "%.3f", latencyMilliseconds(99.9))) ms
        errors: \(errors) (wrong replies \(wrongReplies), disconnects \(disconnects), failed connections \(connectFailures))
        """
    }

    /// One JSON object for machines: `{"connections": …, "connected": …, "duration_s": …, …, "errors": …}`.
    func jsonText() throws -> String {
        try PythonJSONEncoder().encode(JSONSummary(
            connections: connections, connected: connected, durationSeconds: ReportNumber(elapsed.seconds), roundTrips: roundTrips,
            roundTripsPerSecond: ReportNumber(roundTripsPerSecond),
            p50Microseconds: ReportNumber(latencyMicroseconds(atPercentile: 50)),
            p99Microseconds: ReportNumber(latencyMicroseconds(atPercentile: 99)),
            p999Microseconds: ReportNumber(latencyMicroseconds(atPercentile: 99.9)),
            wrongReplies: wrongReplies, disconnects: disconnects, connectFailures: connectFailures, errors: errors))
    }
}

/// The fields of `spindle echo load --json`, in their order.
private struct JSONSummary: Encodable {
    var connections: Int
    var connected: Int
    var durationSeconds: ReportNumber
    var roundTrips: Int
    var roundTripsPerSecond: ReportNumber
    var p50Microseconds: ReportNumber
    var p99Microseconds: ReportNumber
    var p999Microseconds: ReportNumber
    var wrongReplies: Int
    var disconnects: Int
    var connectFailures: Int
    var errors: Int

    enum CodingKeys: String, CodingKey {
        case connections, connected, durationSeconds = "duration_s", roundTrips = "round_trips"
        case roundTripsPerSecond = "round_trips_per_s", p50Microseconds = "p50_us", p99Microseconds = "p99_us"
        case p999Microseconds = "p999_us", wrongReplies = "wrong_replies", disconnects, connectFailures = "connect_failures", errors
    }
}
