import Foundation
import Logging
import NIOConcurrencyHelpers
import ServiceLifecycle
import Spindle

/// The pools behind the web service: the CPU pool that checks primes (processes or threads),
/// and the thread pool of the course's literal `GET /?pool=threads` design.
///
/// It is a `Service` in the application's service group, listed before the HTTP server, so on
/// graceful shutdown it stops after the server has finished its in-flight requests: pending
/// work is cancelled, running work finishes, and the worker processes exit.
final class ServicePools: Service, Sendable {
    /// Where CPU work runs.
    enum Backend: Sendable {
        case processes(ProcessPool)
        case threads(ThreadPoolExecutor)
    }

    /// Monitoring counters, read at scrape time.
    struct Statistics: Sendable {
        var queued: Int
        var busyWorkers: Int
        var liveWorkers: Int
        var workerRestarts: Int
        var tasksCompleted: Int
        var tasksCancelled: Int
        /// Threads still running a job whose request gave up at its deadline (thread backend
        /// only: a thread cannot be killed, while a worker process past its job timeout is).
        var abandonedBusyWorkers: Int
        /// CPU requests refused because their work would have waited past the budget.
        var shed: Int
    }

    let backend: Backend
    /// Runs the blocking reads of `GET /?pool=threads`.
    let io: ThreadPoolExecutor
    private let counters = NIOLockedValueBox(Counters())
    private let logger: Logger
    /// The CPU pool's expected queue wait, for shedding; see ``admitCPUWork()``.
    private let waitEstimator: NIOLockedValueBox<QueueWaitEstimator>
    private let maxQueueWait: Duration

    private struct Counters {
        /// Thread-backend tasks submitted and not yet done (the process pool counts its own).
        var threadTasksInFlight = 0
        var threadTasksCompleted = 0
        var cancelled = 0
        var abandonedRunning = 0
        var shed = 0
    }

    /// Starts the pools: for processes, `cpuWorkers` worker processes at once.
    ///
    /// - Throws: ``Spindle/SpindleError`` (`.workerStartFailed`) when a worker cannot start.
    init(configuration: ServiceConfiguration, logger: Logger) throws {
        switch configuration.cpuPool {
        case .processes:
            backend = .processes(
                try ProcessPool(
                    configuration: ProcessPoolConfiguration(
                        maxWorkers: configuration.cpuWorkers,
                        // A job its request stopped waiting for must not hold a worker for long.
                        taskTimeout: configuration.jobTimeout,
                        queueCapacity: configuration.queueCapacity,
                        workerExecutable: configuration.workerExecutable,
                        workerArguments: configuration.workerArguments
                    )))
        case .threads:
            backend = .threads(
                ThreadPoolExecutor(
                    maxWorkers: configuration.cpuWorkers, threadNamePrefix: "spindle-cpu",
                    queueCapacity: configuration.queueCapacity))
        }
        io = ThreadPoolExecutor(
            maxWorkers: configuration.ioThreads, threadNamePrefix: "spindle-io",
            queueCapacity: configuration.queueCapacity)
        self.logger = logger
        waitEstimator = NIOLockedValueBox(QueueWaitEstimator(workers: configuration.cpuWorkers))
        // Work that would start after its request's deadline is useless whatever the budget.
        maxQueueWait = configuration.maxQueueWait > .zero ? min(configuration.maxQueueWait, configuration.deadline) : .zero
    }

    /// True when CPU work runs in worker processes (so a job may crash its worker alone).
    var usesProcesses: Bool {
        if case .processes = backend { return true }
        return false
    }

    // MARK: - Submitting (never waits: a full queue throws `.queueFull`)

    /// Refuses new CPU work (503 with `Retry-After`) when it would wait for a worker longer
    /// than ``ServiceConfiguration/maxQueueWait``: answered late, it would be of no use and
    /// would make every request behind it later still.
    func admitCPUWork() throws {
        let (shed, wait) = waitEstimator.withLockedValue { ($0.shouldShed(budget: maxQueueWait), $0.expectedWait) }
        guard shed else { return }
        counters.withLockedValue { $0.shed += 1 }
        let seconds = wait.seconds
        let retryAfter = Int(min(60, max(1, seconds.rounded(.up))))
        var error = ServiceRequestError.overloaded(
            "the server is at capacity: this work would wait about \(String(format: "%.1f", seconds)) s for a worker, more than the \(maxQueueWait) allowed; retry in \(retryAfter) s")
        error.retryAfterSeconds = retryAfter
        throw error
    }

    /// Checks `numbers` with the course's trial division on the CPU pool.
    func submitIsPrime(_ numbers: [UInt64]) throws -> Future<[Bool]> {
        switch backend {
        case .processes(let pool): try measureWait(pool.trySubmit(IsPrimeJob.self, numbers))
        case .threads(let pool): try measureWait(trackThreadTask(pool.trySubmit { try IsPrimeJob.run(numbers) }))
        }
    }

    /// Holds a CPU worker for `milliseconds`.
    func submitSleep(milliseconds: Int) throws -> Future<Int> {
        switch backend {
        case .processes(let pool): try measureWait(pool.trySubmit(SleepJob.self, milliseconds))
        case .threads(let pool): try measureWait(trackThreadTask(pool.trySubmit { try SleepJob.run(milliseconds) }))
        }
    }

    /// Holds a CPU worker until `gateFile` exists (see ``ServiceHold``).
    func submitHold(gateFile: String) throws -> Future<Bool> {
        switch backend {
        case .processes(let pool): try measureWait(pool.trySubmit(HoldJob.self, gateFile))
        case .threads(let pool): try measureWait(trackThreadTask(pool.trySubmit { try HoldJob.run(gateFile) }))
        }
    }

    /// Feeds the wait estimator with the future's submission and end.
    private func measureWait<T>(_ future: @autoclosure () throws -> Future<T>) rethrows -> Future<T> {
        let future = try future()
        waitEstimator.withLockedValue { $0.submitted() }
        future.onComplete { [waitEstimator] future in
            let ran = future.state != .cancelled
            waitEstimator.withLockedValue { $0.finished(at: .now, ran: ran) }
        }
        return future
    }

    /// Kills the worker process that runs it; nil with a thread pool, where it would kill the server.
    func submitCrash() throws -> Future<Bool>? {
        guard case .processes(let pool) = backend else { return nil }
        return try pool.trySubmit(CrashJob.self, 0)
    }

    /// Waits for every future, in order. If the waiting task is cancelled (the request's
    /// deadline passed), the futures that have not started are cancelled and counted.
    func values<T: Sendable>(of futures: [Future<T>]) async throws -> [T] {
        try await withTaskCancellationHandler {
            var values: [T] = []
            values.reserveCapacity(futures.count)
            for future in futures { values.append(try await future.value) }
            return values
        } onCancel: {
            cancel(futures)
            countAbandonedThreads(futures)
        }
    }

    /// With the thread backend, the running futures of a request that gave up keep their
    /// threads until they finish: counted until then (a process worker is killed instead at
    /// its job timeout).
    private func countAbandonedThreads<T>(_ futures: [Future<T>]) {
        guard case .threads = backend else { return }
        for future in futures where future.state == .running {
            counters.withLockedValue { $0.abandonedRunning += 1 }
            future.onComplete { [counters] _ in counters.withLockedValue { $0.abandonedRunning -= 1 } }
        }
    }

    /// Cancels the futures that have not started and counts them.
    func cancel<T>(_ futures: [Future<T>]) {
        let cancelled = futures.reduce(0) { count, future in
            count + (future.state == .pending && future.cancel() ? 1 : 0)
        }
        if cancelled > 0 { counters.withLockedValue { $0.cancelled += cancelled } }
    }

    private func trackThreadTask<T>(_ future: @autoclosure () throws -> Future<T>) rethrows -> Future<T> {
        let future = try future()
        counters.withLockedValue { $0.threadTasksInFlight += 1 }
        future.onComplete { [counters] _ in
            counters.withLockedValue {
                $0.threadTasksInFlight -= 1
                $0.threadTasksCompleted += 1
            }
        }
        return future
    }

    // MARK: - Monitoring and lifecycle

    /// The CPU pool's counters now.
    var statistics: Statistics {
        let counters = counters.withLockedValue { $0 }
        switch backend {
        case .processes(let pool):
            let stats = pool.statistics
            return Statistics(
                queued: stats.queued, busyWorkers: stats.busyWorkers, liveWorkers: stats.liveWorkers,
                workerRestarts: stats.workerRestarts, tasksCompleted: stats.tasksCompleted,
                tasksCancelled: counters.cancelled, abandonedBusyWorkers: 0, shed: counters.shed)
        case .threads(let pool):
            let queued = pool.pendingCount
            return Statistics(
                queued: queued, busyWorkers: max(0, counters.threadTasksInFlight - queued),
                liveWorkers: pool.threadCountNow, workerRestarts: 0,
                tasksCompleted: counters.threadTasksCompleted, tasksCancelled: counters.cancelled,
                abandonedBusyWorkers: counters.abandonedRunning, shed: counters.shed)
        }
    }

    /// Waits for graceful shutdown (or cancellation) of the service group, then shuts the pools
    /// down: work not started is cancelled, running work finishes, workers exit.
    func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    /// Shuts both pools down; returns when their threads and worker processes are gone.
    func shutdown() async {
        logger.debug("shutting the service pools down")
        switch backend {
        case .processes(let pool): await pool.shutdownGracefully(cancelPending: true)
        case .threads(let pool): await pool.shutdownGracefully(cancelPending: true)
        }
        await io.shutdownGracefully(cancelPending: true)
    }
}
