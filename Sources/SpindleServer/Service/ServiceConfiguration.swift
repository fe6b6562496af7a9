import Foundation
import Logging

/// Everything `spindle serve` can be told: where it listens, how the three simulated reads of
/// `GET /` take, which pool checks primes and how much work it may hold, and how long a request
/// may take.
public struct ServiceConfiguration: Sendable {
    /// Where CPU-bound work (`GET /is_prime/...`) runs.
    public enum CPUPoolKind: String, Sendable, CaseIterable {
        /// A ``Spindle/ProcessPool``: the course's `ProcessPoolExecutor`, one worker process per core.
        case processes
        /// A ``Spindle/ThreadPoolExecutor``: Swift threads run in parallel (there is no GIL).
        case threads
    }

    /// The address to bind; loopback by default.
    public var host: String
    /// The port to bind; 0 picks a free one (reported to `onServerRunning`).
    public var port: Int
    /// Workers of the CPU pool; default: the number of cores.
    public var cpuWorkers: Int
    /// Which pool checks primes.
    public var cpuPool: CPUPoolKind
    /// The most client connections open at once; a connection beyond it is answered 503 with
    /// `Retry-After: 1` and closed at once (and a line is logged, at most every 10 s).
    public var maxConnections: Int
    /// A connection with no request in progress (before its first request, or idle between
    /// keep-alive requests) is closed after this long.
    public var idleTimeout: Duration
    /// A request's line and headers must arrive within this long (from the connection's
    /// opening for its first request, from the first byte for later ones), else 408 and the
    /// connection closes: a client cannot hold a socket by sending half a header.
    public var headerTimeout: Duration
    /// The most numbers one `/is_prime` request may list.
    public var maxNumbers: Int
    /// Tasks that may wait for a CPU worker (and work items for the `?pool=threads` design);
    /// beyond it requests get 503 with `Retry-After: 1`.
    public var queueCapacity: Int
    /// A list whose trial division costs at most this many divisions in all (counted for the
    /// worst case, a prime: ⌊√n⌋ ÷ 2 each) is checked on the request's own task: sending it to
    /// a worker would cost more than the check. 0 sends every list to the CPU pool, as the
    /// course's app does.
    public var inlineDivisions: UInt64
    /// How long a request may take before it is answered 504; its queued pool work is cancelled.
    public var deadline: Duration
    /// CPU work that would wait longer than this for a worker (estimated from the measured
    /// rate at which the pool finishes tasks and the tasks ahead of it) is refused at once with
    /// 503 and `Retry-After`, instead of queueing to be answered late. Zero: refuse only when
    /// the queue is full. (Work that would wait past the deadline is refused in any case.)
    public var maxQueueWait: Duration
    /// A CPU job running longer has its worker process killed and replaced (its request has
    /// long been answered 504 by then); default: the deadline.
    public var jobTimeout: Duration
    /// The simulated `read_file` of `GET /` (the course: 0.1 s).
    public var fileWait: Duration
    /// The simulated `read_db` (the course: 0.2 s).
    public var dbWait: Duration
    /// The simulated `read_api` (the course: 0.3 s).
    public var apiWait: Duration
    /// Threads of the `GET /?pool=threads` design; default as Python's `ThreadPoolExecutor()`:
    /// min(32, cores + 4).
    public var ioThreads: Int
    /// The executable of the process workers; nil: this executable (which must register
    /// ``WebServiceJobs/all`` with `ProcessPool.runWorkerIfRequested`).
    public var workerExecutable: String?
    /// Arguments for the worker executable.
    public var workerArguments: [String]
    /// Serves `GET /debug/crash` (a worker kills itself) and `GET /debug/sleep/{ms}` (a worker
    /// sleeps): for tests and demonstrations only, never in production.
    public var enableDebugRoutes: Bool
    /// The level at which every request is logged (one line each); below the logger's level
    /// they are not printed.
    public var requestLogLevel: Logger.Level

    /// The largest `maxNumbers` accepted.
    public static let maximumNumbers = 100_000
    /// The largest `queueCapacity` accepted.
    public static let maximumQueueCapacity = 1_000_000

    /// A configuration; every parameter has the default of `spindle serve`.
    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        cpuWorkers: Int? = nil,
        cpuPool: CPUPoolKind = .processes,
        maxConnections: Int = 10_000,
        idleTimeout: Duration = .seconds(60),
        headerTimeout: Duration = .seconds(10),
        maxNumbers: Int = 1000,
        queueCapacity: Int = 1024,
        inlineDivisions: UInt64 = 10_000,
        deadline: Duration = .seconds(10),
        maxQueueWait: Duration = .seconds(1),
        jobTimeout: Duration? = nil,
        fileWait: Duration = .milliseconds(100),
        dbWait: Duration = .milliseconds(200),
        apiWait: Duration = .milliseconds(300),
        ioThreads: Int? = nil,
        workerExecutable: String? = nil,
        workerArguments: [String] = [],
        enableDebugRoutes: Bool = false,
        requestLogLevel: Logger.Level = .debug
    ) {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        self.host = host
        self.port = port
        self.cpuWorkers = cpuWorkers ?? cores
        self.cpuPool = cpuPool
        self.maxConnections = maxConnections
        self.idleTimeout = idleTimeout
        self.headerTimeout = headerTimeout
        self.maxNumbers = maxNumbers
        self.queueCapacity = queueCapacity
        self.inlineDivisions = inlineDivisions
        self.deadline = deadline
        self.maxQueueWait = maxQueueWait
        self.jobTimeout = jobTimeout ?? deadline
        self.fileWait = fileWait
        self.dbWait = dbWait
        self.apiWait = apiWait
        self.ioThreads = ioThreads ?? min(32, cores + 4)
        self.workerExecutable = workerExecutable
        self.workerArguments = workerArguments
        self.enableDebugRoutes = enableDebugRoutes
        self.requestLogLevel = requestLogLevel
    }

    /// Checks every field and names the first one out of range.
    ///
    /// - Throws: ``ServiceConfigurationError`` naming the field, its value and the valid range.
    public func validate() throws {
        func fail(_ message: String) -> ServiceConfigurationError { ServiceConfigurationError(message) }
        if host.isEmpty || host.contains(where: { $0 == "/" || $0.isWhitespace }) {
            throw fail("host must be an IP address or a host name, got \"\(host)\"")
        }
        if !(0...65_535).contains(port) {
            throw fail("port must be in 0...65535 (0 picks a free port), got \(port)")
        }
        if !(1...1024).contains(cpuWorkers) {
            throw fail("cpu-workers must be in 1...1024, got \(cpuWorkers)")
        }
        if !(1...1024).contains(ioThreads) {
            throw fail("io-threads must be in 1...1024, got \(ioThreads)")
        }
        if !(1...1_000_000).contains(maxConnections) {
            throw fail("max-connections must be in 1...1000000, got \(maxConnections)")
        }
        if !(1...Self.maximumNumbers).contains(maxNumbers) {
            throw fail("max-numbers must be in 1...\(Self.maximumNumbers), got \(maxNumbers)")
        }
        if !(1...Self.maximumQueueCapacity).contains(queueCapacity) {
            throw fail("queue-capacity must be in 1...\(Self.maximumQueueCapacity), got \(queueCapacity)")
        }
        if inlineDivisions > 1_000_000 {
            throw fail("inline-divisions must be in 0...1000000 (larger lists belong on the pool), got \(inlineDivisions)")
        }
        if deadline <= .zero {
            throw fail("deadline must be positive, got \(deadline)")
        }
        if maxQueueWait < .zero || maxQueueWait > .seconds(86_400) {
            throw fail("max-queue-wait must be in 0s...1 day (0: only a full queue refuses work), got \(maxQueueWait)")
        }
        for (name, timeout) in [("idle-timeout", idleTimeout), ("header-timeout", headerTimeout)]
        where timeout <= .zero || timeout > .seconds(86_400) {
            throw fail("\(name) must be positive and at most a day, got \(timeout)")
        }
        if jobTimeout <= .zero {
            throw fail("job-timeout must be positive, got \(jobTimeout)")
        }
        for (name, wait) in [("file-wait", fileWait), ("db-wait", dbWait), ("api-wait", apiWait)] where wait < .zero {
            throw fail("\(name) must not be negative, got \(wait)")
        }
        if let workerExecutable, cpuPool == .processes, access(workerExecutable, X_OK) != 0 {
            throw fail("the worker executable \"\(workerExecutable)\" does not exist or is not executable")
        }
    }
}

/// A ``ServiceConfiguration`` field is out of range; the description names it.
public struct ServiceConfigurationError: Error, CustomStringConvertible, Equatable {
    /// What is wrong, naming the field and the value.
    public var description: String

    init(_ description: String) {
        self.description = description
    }
}
