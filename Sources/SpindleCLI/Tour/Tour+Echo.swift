import Logging
import SpindleServer

extension TourSections {
    /// The course's gevent echo server (`data.upper()`) and its hundred client processes.
    static let echoServer = TourSection(title: "echoServer") { tour in
        tour.say("""
            The course's gevent server spawned a greenlet per connection that answered every \
            recv(1024) with data.upper(), and 100 client processes sent 'hello' in a loop. \
            Spindle's EchoServer does the same on SwiftNIO event loops, with backpressure (a \
            client that does not read stops being read), an idle timeout and a connection cap; \
            the clients are one process: EchoLoadClient checks every reply and times it.
            """)
        let connections = tour.quick ? 20 : 100
        let duration: Duration = tour.quick ? .milliseconds(500) : .seconds(2)
        var quiet = Logger(label: "spindle.echo")
        quiet.logLevel = .warning
        let report = try await withEchoServer(EchoServerConfiguration(port: 0), logger: quiet) { server in
            tour.line("server listening on \(server.address); \(connections) connections for \(tour.format(duration))")
            return try await EchoLoadClient.run(
                EchoLoadConfiguration(port: server.port, connections: connections, duration: duration, message: "hello"))
        }
        tour.line(String(
            format: "%d round trips: %.0f/s, latency p50 %.3f ms, p99 %.3f ms, p99.9 %.3f ms; %d errors",
            report.roundTrips, report.roundTripsPerSecond, report.latencyMilliseconds(50),
            report.latencyMilliseconds(99), report.latencyMilliseconds(99.9), report.errors))
        guard report.errors == 0, report.roundTrips > 0 else {
            throw TourCheckFailed("""
                \(report.errors) errors (wrong replies \(report.wrongReplies), disconnects \(report.disconnects), \
                failed connections \(report.connectFailures)) and \(report.roundTrips) round trips
                """)
        }
        tour.record("echo.rps", report.roundTripsPerSecond)
        tour.record("echo.p99_ms", report.latencyMilliseconds(99))
        tour.say("""
            Server and clients share this machine's cores here; `spindle bench echo` runs the \
            server as its own process and compares it with the course's gevent server.
            """)
    }
}
