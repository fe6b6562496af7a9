import Hummingbird
import NIOConcurrencyHelpers
import Prometheus

/// The web service's metrics, in a Prometheus registry the application owns (never the global
/// `MetricsSystem`, so any number of applications can live in one process, as in tests).
///
/// - `spindle_http_requests_total{route, status}`,
///   `spindle_http_request_duration_seconds{route}` (a histogram) and
///   `spindle_http_requests_in_flight`, recorded by ``ServiceMetricsMiddleware``;
/// - `spindle_pool_queued_tasks`, `spindle_pool_busy_workers`, `spindle_pool_live_workers`,
///   `spindle_pool_worker_restarts_total`, `spindle_pool_tasks_completed_total` and
///   `spindle_pool_tasks_cancelled_total`, read from the CPU pool when scraped;
/// - `spindle_pool_abandoned_busy_workers` (threads still running a job whose request timed
///   out) and `spindle_pool_shed_total` (CPU requests refused because they would wait too long);
/// - `spindle_http_rejected_total{reason}`: connections and requests turned away before routing
///   (`malformed`, `header_too_large`, `header_timeout`, `at_capacity`).
final class ServiceMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let pools: ServicePools
    private let requestCounters = NIOLockedValueBox([RequestKey: Counter]())
    private let durationHistograms = NIOLockedValueBox([String: DurationHistogram]())
    /// The pool totals last copied into the counters; protected by its lock, which also
    /// serialises scrapes so a counter never moves backwards.
    private let copiedTotals = NIOLockedValueBox((restarts: 0, completed: 0, cancelled: 0, shed: 0))

    /// Requests received and not yet answered.
    let requestsInFlight: Gauge
    private let queued: Gauge
    private let busyWorkers: Gauge
    private let liveWorkers: Gauge
    private let workerRestarts: Counter
    private let tasksCompleted: Counter
    private let tasksCancelled: Counter
    private let abandonedBusyWorkers: Gauge
    private let shed: Counter
    private let rejections: [HTTPRejection: Counter]

    private struct RequestKey: Hashable {
        var route: String
        var status: Int
    }

    /// Request-duration buckets: 1 ms to 10 s.
    private static let durationBuckets: [Duration] = [
        .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25),
        .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .milliseconds(2500), .seconds(5), .seconds(10),
    ]

    init(pools: ServicePools) {
        self.pools = pools
        func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
            MetricNameDescriptor(namespace: "spindle", metricName: metric, unitName: unit, helpText: help)
        }
        requestsInFlight = registry.makeGauge(
            descriptor: MetricNameDescriptor(
                namespace: "spindle", subsystem: "http", metricName: "requests_in", unitName: "flight",
                helpText: "HTTP requests received and not yet answered."))
        queued = registry.makeGauge(descriptor: name("pool_queued", "tasks", "CPU pool tasks waiting for a worker."))
        busyWorkers = registry.makeGauge(descriptor: name("pool_busy", "workers", "CPU pool workers running a task."))
        liveWorkers = registry.makeGauge(descriptor: name("pool_live", "workers", "CPU pool workers alive."))
        workerRestarts = registry.makeCounter(
            descriptor: name("pool_worker_restarts", "total", "CPU pool workers replaced after they died or timed out."))
        tasksCompleted = registry.makeCounter(
            descriptor: name("pool_tasks_completed", "total", "CPU pool tasks answered by a worker."))
        tasksCancelled = registry.makeCounter(
            descriptor: name("pool_tasks_cancelled", "total", "Pool tasks (CPU checks, and the reads of /?pool=threads) cancelled before they started: their request ran out of time."))
        abandonedBusyWorkers = registry.makeGauge(
            descriptor: name(
                "pool_abandoned_busy", "workers",
                "CPU pool threads still running a job whose request was answered 504 (--cpu-pool threads: a thread cannot be killed)."))
        shed = registry.makeCounter(
            descriptor: name("pool_shed", "total", "CPU requests answered 503 because their work would have waited longer than --max-queue-wait."))
        var rejections: [HTTPRejection: Counter] = [:]
        for reason in HTTPRejection.allCases {
            rejections[reason] = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "spindle", subsystem: "http", metricName: "rejected", unitName: "total",
                    helpText: "Connections and requests turned away before routing, by reason."),
                labels: [("reason", reason.rawValue)])
        }
        self.rejections = rejections
    }

    /// Counts one answered request and records how long it took.
    func record(route: String, status: Int, duration: Duration) {
        let key = RequestKey(route: route, status: status)
        let counter = requestCounters.withLockedValue { counters in
            if let counter = counters[key] { return counter }
            let counter = registry.makeCounter(
                descriptor: MetricNameDescriptor(
                    namespace: "spindle", subsystem: "http", metricName: "requests", unitName: "total",
                    helpText: "HTTP requests answered, by route and status."),
                labels: [("route", route), ("status", String(status))])
            counters[key] = counter
            return counter
        }
        counter.increment()
        let histogram = durationHistograms.withLockedValue { histograms in
            if let histogram = histograms[route] { return histogram }
            let histogram = registry.makeDurationHistogram(
                descriptor: MetricNameDescriptor(
                    namespace: "spindle", subsystem: "http", metricName: "request_duration", unitName: "seconds",
                    helpText: "Time from request to response, by route."),
                labels: [("route", route)],
                buckets: Self.durationBuckets)
            histograms[route] = histogram
            return histogram
        }
        histogram.record(duration)
    }

    /// Counts a connection or request turned away before routing.
    func recordRejection(_ rejection: HTTPRejection) {
        rejections[rejection]?.increment()
    }

    /// Every metric in the Prometheus text format, with the pool's counters read now.
    func scrape() -> String {
        let stats = pools.statistics
        queued.set(Double(stats.queued))
        busyWorkers.set(Double(stats.busyWorkers))
        liveWorkers.set(Double(stats.liveWorkers))
        abandonedBusyWorkers.set(Double(stats.abandonedBusyWorkers))
        return copiedTotals.withLockedValue { copied in
            // The pool keeps totals; counters only move forward by the difference.
            workerRestarts.increment(by: Int64(max(0, stats.workerRestarts - copied.restarts)))
            tasksCompleted.increment(by: Int64(max(0, stats.tasksCompleted - copied.completed)))
            tasksCancelled.increment(by: Int64(max(0, stats.tasksCancelled - copied.cancelled)))
            shed.increment(by: Int64(max(0, stats.shed - copied.shed)))
            copied = (
                max(copied.restarts, stats.workerRestarts), max(copied.completed, stats.tasksCompleted),
                max(copied.cancelled, stats.tasksCancelled), max(copied.shed, stats.shed)
            )
            return registry.emitToString()
        }
    }
}

/// Counts every request by route and status and times it, into ``ServiceMetrics``.
struct ServiceMetricsMiddleware<Context: RequestContext>: RouterMiddleware {
    let metrics: ServiceMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        metrics.requestsInFlight.increment()
        defer { metrics.requestsInFlight.decrement() }
        do {
            let response = try await next(request, context)
            metrics.record(route: context.endpointPath ?? "unmatched", status: response.status.code, duration: ContinuousClock.now - start)
            return response
        } catch {
            let status = (error as? any HTTPResponseError)?.status.code ?? 500
            metrics.record(route: context.endpointPath ?? "unmatched", status: status, duration: ContinuousClock.now - start)
            throw error
        }
    }
}
