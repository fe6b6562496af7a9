import ArgumentParser
import Foundation
import Logging
import SpindleServer

/// `spindle serve`: the course's Flask service (`/` fans out three reads, `/is_prime/{numbers}`
/// checks primes on a process pool), with bounded queues, deadlines, metrics and a graceful
/// shutdown on SIGTERM / SIGINT.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The web service: the course's Flask app, with bounded pools, deadlines and metrics.",
        discussion: """
            Routes: GET / (the three reads at once; ?pool=threads runs them as the course did, \
            blocking a thread pool), GET /sequential (one after another), \
            GET /is_prime/{n,n,...} (trial division on the CPU pool; ?method=miller-rabin answers \
            inline), GET /health, GET /metrics (Prometheus). HEAD works on every route; other \
            methods get 405. CPU work that would wait longer than --max-queue-wait for a worker, \
            or beyond --queue-capacity, is answered 503 with Retry-After; a request past \
            --deadline gets 504. A connection beyond --max-connections is answered 503 and \
            closed; one that sends no complete request head within --header-timeout gets 408; \
            an idle one closes after --idle-timeout. On SIGTERM or \
            SIGINT the listener closes, in-flight requests finish (up to --grace-period), then \
            the worker processes exit. Prints "listening on URL" once it accepts connections.
            """
    )

    @Option(help: "The address to bind (loopback by default).")
    var host = "127.0.0.1"

    @Option(help: "The port to bind; 0 picks a free one.")
    var port = 8080

    @Option(help: "Workers of the CPU pool (default: the number of cores).")
    var cpuWorkers: Int?

    @Option(help: """
        Where /is_prime runs: processes (the course's ProcessPoolExecutor) or threads. With threads, \
        a job past its deadline keeps its thread until it ends (a thread cannot be killed; a worker \
        process is, at the deadline), so the requests behind it time out too: see \
        spindle_pool_abandoned_busy_workers in /metrics.
        """)
    var cpuPool: ServiceConfiguration.CPUPoolKind = .processes

    @Option(help: "The most client connections open at once; beyond it a new one is answered 503 and closed (logged at most every 10 s).")
    var maxConnections = 10_000

    @OptionGroup var timeouts: ConnectionTimeoutArguments

    @Option(help: "The most numbers one /is_prime request may list.")
    var maxNumbers = 1000

    @Option(help: "Tasks that may wait for a worker; beyond it requests get 503.")
    var queueCapacity = 1024

    @Option(help: "Lists cheaper than this many trial divisions are checked inline, not on the pool; 0: always the pool.")
    var inlineDivisions: UInt64 = 10_000

    @Option(help: "How long a request may take before it is answered 504 (e.g. 10s, 500ms).", transform: DurationArgument.parse)
    var deadline = DurationArgument.seconds(10)

    @Option(
        help: "Refuse CPU work (503, Retry-After) that would wait longer than this for a worker, estimated from the measured pace (default: 1s; 0 disables).",
        transform: DurationArgument.parse)
    var maxQueueWait = DurationArgument.seconds(1)

    @Option(help: "The simulated read_file of GET / (the course: 0.1s).", transform: DurationArgument.parse)
    var fileWait = DurationArgument.milliseconds(100)

    @Option(help: "The simulated read_db of GET / (the course: 0.2s).", transform: DurationArgument.parse)
    var dbWait = DurationArgument.milliseconds(200)

    @Option(help: "The simulated read_api of GET / (the course: 0.3s).", transform: DurationArgument.parse)
    var apiWait = DurationArgument.milliseconds(300)

    @Option(help: "Threads of the GET /?pool=threads design (default: min(32, cores + 4), as Python's).")
    var ioThreads: Int?

    @Option(help: "How long in-flight requests may take to finish after SIGTERM / SIGINT.", transform: DurationArgument.parse)
    var gracePeriod = DurationArgument.seconds(10)

    @Option(help: "trace, debug (one line per request), info, notice, warning, error or critical.")
    var logLevel = "info"

    func run() async throws {
        let configuration = ServiceConfiguration(
            host: host, port: port, cpuWorkers: cpuWorkers, cpuPool: cpuPool, maxConnections: maxConnections,
            idleTimeout: timeouts.idleTimeout.duration, headerTimeout: timeouts.headerTimeout.duration, maxNumbers: maxNumbers,
            queueCapacity: queueCapacity, inlineDivisions: inlineDivisions, deadline: deadline.duration,
            maxQueueWait: maxQueueWait.duration, fileWait: fileWait.duration,
            dbWait: dbWait.duration, apiWait: apiWait.duration, ioThreads: ioThreads)
        do {
            try configuration.validate()
        } catch let error as ServiceConfigurationError {
            throw ValidationError(error.description)
        }
        guard let level = Logger.Level(rawValue: logLevel) else {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(logLevel)'")
        }
        var logger = Logger(label: "spindle.serve")
        logger.logLevel = level
        let summary = "CPU pool: \(configuration.cpuWorkers) \(cpuPool.rawValue), queue \(queueCapacity), deadline \(deadline)"
        try await WebService.serve(configuration, gracePeriod: gracePeriod.duration, logger: logger) { service in
            // Written unbuffered: `spindle bench serve` waits for this line on a pipe.
            FileHandle.standardOutput.write(Data("listening on \(service.origin) (\(summary))\n".utf8))
        }
    }
}

extension ServiceConfiguration.CPUPoolKind: ExpressibleByArgument {}
