import Foundation
import NIOConcurrencyHelpers

/// A crawl driven by a ``Frontier``: pages are leased, fetched politely, retried, and their
/// records and links stored, until nothing is left or a stop is asked for. This is what
/// `spindle crawl --state` runs; with an ``SQLiteFrontier`` it resumes after a stop of any
/// kind.
///
/// ```swift
/// let frontier = try SQLiteFrontier(path: "crawl.sqlite")
/// let options = FrontierCrawlOptions(follow: try CSSSelector("a"), scope: try CrawlScope(allowedHosts: ["127.0.0.1:8080"]))
/// try await withFetcher(options.fetchConfiguration()) { fetcher in
///     let crawl = FrontierCrawl(frontier: frontier, fetcher: fetcher, options: options)
///     let summary = try await crawl.run(seeds: [FrontierEntry(try CanonicalURL("http://127.0.0.1:8080/"))])
/// }
/// try await frontier.close()
/// ```
///
/// One driver task leases URLs and starts pages; each page runs in a child task that reports
/// its outcome to the frontier itself (see ``Frontier``'s guarantees: a page is recorded done
/// with its records and links in one transaction). Per-host limits, delays and robots.txt are
/// applied per host with no head-of-line blocking (see `CrawlHostQueues`).
public struct FrontierCrawl: Sendable {
    /// Where URLs, states and records live.
    public let frontier: any Frontier
    /// The fetcher; it should not follow redirects, so each hop is checked (see
    /// ``FrontierCrawlOptions/fetchConfiguration(_:)``).
    public let fetcher: Fetcher
    /// Scheduling, politeness, retries, extraction and link following.
    public let options: FrontierCrawlOptions

    /// A crawl of `frontier` with `fetcher`.
    public init(frontier: any Frontier, fetcher: Fetcher, options: FrontierCrawlOptions) {
        self.frontier = frontier
        self.fetcher = fetcher
        self.options = options
    }

    /// Adds `seeds` (known ones are skipped, so a resumed crawl may pass them again) and crawls
    /// until the frontier is finished, `stop` is raised or the task is cancelled (an immediate stop).
    ///
    /// - Parameters:
    ///   - seeds: Where to start; may be empty to resume what the frontier holds.
    ///   - stop: Raise it once to finish in-flight pages and return, twice to return at once.
    ///   - observer: Told every attempt and outcome, from the pages' tasks.
    /// - Returns: What this run did and why it returned.
    /// - Throws: ``CrawlInputError`` for options out of range; what the frontier throws when
    ///   it cannot store an outcome (the pages in flight are cancelled first).
    public func run(
        seeds: [FrontierEntry],
        stop: CrawlStopSignal = CrawlStopSignal(),
        observer: @escaping @Sendable (FrontierCrawlEvent) -> Void = { _ in }
    ) async throws -> FrontierCrawlSummary {
        try options.validate()
        var options = options
        if options.engine == .sequential { options.concurrency = 1 }
        let start = ContinuousClock.now
        _ = try await frontier.add(seeds)
        let wakeup = CrawlWakeup()
        stop.onRaise { wakeup.poke() }
        let counter = SummaryCounter()
        let executor = PageExecutor(engine: options.engine, concurrency: options.concurrency, parsers: options.parsers)
        let work = FrontierPageWork(
            frontier: frontier, fetcher: fetcher, robots: options.obeyRobots ? RobotsCache(fetcher: fetcher, shared: frontier as? any SharedRobotsStore) : nil,
            options: options, executor: executor
        ) { event in
            counter.count(event)
            observer(event)
        }
        let ending: FrontierCrawlSummary.Ending
        do {
            // Cancelling the task that runs the crawl is an immediate stop: the pages in flight
            // are cancelled and no other page starts.
            ending = try await withTaskCancellationHandler {
                try await drive(work: work, options: options, wakeup: wakeup, stop: stop)
            } onCancel: {
                stop.requestImmediateStop()
            }
        } catch {
            await executor.shutdown()
            throw error
        }
        await executor.shutdown()
        if ending == .stopped {
            // Whatever was leased but not started (or cancelled after the grace period) is
            // handed back now, so the state reads pending, not leased.
            _ = try await frontier.recoverAbandonedLeases()
        }
        var summary = counter.summary(ending: ending)
        summary.elapsed = ContinuousClock.now - start
        return summary
    }

    /// Runs the driver until the crawl ends; every page's task has returned when this does.
    private func drive(
        work: FrontierPageWork, options: FrontierCrawlOptions, wakeup: CrawlWakeup, stop: CrawlStopSignal
    ) async throws -> FrontierCrawlSummary.Ending {
        let frontier = frontier
        // A discarding group: a finished page's task is freed at once, so memory does not
        // grow with the number of pages crawled.
        return try await withThrowingDiscardingTaskGroup { group in
            var driver = Driver(frontier: frontier, options: options, wakeup: wakeup, stop: stop)
            do {
                return try await driver.drive { leased in
                    group.addTask {
                        do {
                            wakeup.post(.page(.success(try await work.run(leased))))
                        } catch {
                            wakeup.post(.page(.failure(error)))
                        }
                    }
                } lease: { limit, saturated, maxPerHost in
                    // Off the driver, so pages keep starting while the frontier (an SQLite
                    // write queued behind the pages' own writes) answers.
                    group.addTask {
                        do {
                            let leases = try await frontier.lease(limit: limit, now: Date(), excludingHosts: saturated, maxPerHost: maxPerHost)
                            wakeup.post(.leased(.success(leases), saturated: saturated))
                        } catch {
                            wakeup.post(.leased(.failure(error), saturated: saturated))
                        }
                    }
                } cancelAll: {
                    group.cancelAll()
                }
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }
}

/// The driver task's loop: lease, start what politeness allows, sleep until something changes.
private struct Driver {
    let frontier: any Frontier
    let options: FrontierCrawlOptions
    let wakeup: CrawlWakeup
    let stop: CrawlStopSignal
    var queues: CrawlHostQueues
    var inFlight = 0
    /// False after a lease found nothing, until something could have changed that: a page
    /// added links or was put back for a retry, a saturated host drained, or a retry fell due.
    var leaseMayFindWork = true
    /// Whether the frontier holds hosts back itself (`SharedFrontier`): then any page that
    /// ends may have freed a slot, so a lease may find work.
    let frontierLimitsHosts: Bool
    var saturatedAtEmptyLease: Set<String> = []
    var graceDeadline: ContinuousClock.Instant?
    /// Whether a lease is on its way (at most one is).
    var leaseInFlight = false
    /// ``retryDueDate()``'s answer since the last lease.
    var cachedDueDate: Date??

    init(frontier: any Frontier, options: FrontierCrawlOptions, wakeup: CrawlWakeup, stop: CrawlStopSignal) {
        self.frontier = frontier
        self.options = options
        self.wakeup = wakeup
        self.stop = stop
        frontierLimitsHosts = frontier is any SharedFrontier
        queues = CrawlHostQueues(perHost: options.perHost, delay: options.delay, obeyRobots: options.obeyRobots)
    }

    mutating func drive(
        start: (LeasedURL) -> Void,
        lease: (_ limit: Int, _ saturated: Set<String>, _ maxPerHost: Int) -> Void,
        cancelAll: () -> Void
    ) async throws -> FrontierCrawlSummary.Ending {
        while true {
            try absorbMessages()
            switch stop.level {
            case .immediate:
                cancelAll()
                return .interrupted
            case .graceful:
                if inFlight == 0 && !leaseInFlight { return .stopped }
                let deadline = graceDeadline ?? (.now + options.stopGracePeriod)
                graceDeadline = deadline
                if ContinuousClock.now >= deadline {
                    cancelAll()
                    return .stopped
                }
                await wakeup.wait(until: deadline)
                continue
            case .none:
                break
            }

            let now = Date()
            startPages(at: now, start)
            requestLeaseIfUseful(urgent: inFlight < options.concurrency, lease)

            var deadline: ContinuousClock.Instant?
            if let nextStart = queues.nextStart(after: now) {
                deadline = .now + .milliseconds(Int64(max(1, nextStart.timeIntervalSince(now) * 1000)))
            }
            if inFlight == 0 && queues.waitingCount == 0 && !leaseInFlight {
                // Nothing running and nothing leased: done, or only retries waiting for their time.
                guard let due = try await frontier.nextDueDate() else {
                    if try await frontier.isFinished() { return .finished }
                    leaseMayFindWork = true
                    continue
                }
                leaseMayFindWork = true
                let wait = max(0.005, due.timeIntervalSinceNow)
                deadline = .now + .milliseconds(Int64(wait * 1000))
            } else if !leaseMayFindWork, queues.waitingCount == 0, let due = try await retryDueDate(), due > now {
                // Pages are running; a retry falls due later: wake up for it too.
                let retryAt = ContinuousClock.now + .milliseconds(Int64(due.timeIntervalSince(now) * 1000) + 1)
                deadline = deadline.map { min($0, retryAt) } ?? retryAt
            }
            if inFlight > 0 || leaseInFlight || queues.waitingCount > 0 || deadline != nil {
                await wakeup.wait(until: deadline)
                if let deadline, ContinuousClock.now >= deadline { leaseMayFindWork = true }
            }
        }
    }

    /// The frontier's next due date, read once after each lease that found nothing (nothing
    /// else makes it earlier: a retry or new links set `leaseMayFindWork` instead).
    private mutating func retryDueDate() async throws -> Date? {
        if let cached = cachedDueDate { return cached }
        let due = try await frontier.nextDueDate()
        cachedDueDate = .some(due)
        return due
    }

    private mutating func startPages(at now: Date, _ start: (LeasedURL) -> Void) {
        while inFlight < options.concurrency, let leased = queues.nextStartable(at: now) {
            inFlight += 1
            start(leased)
        }
    }

    /// Asks for a lease when there is room among the waiting URLs, none is on its way, and a
    /// lease may find something. Unless `urgent` (a slot is free and no waiting URL can take
    /// it), it waits until half the room is free, so leases come in batches (one write
    /// transaction for several pages).
    private mutating func requestLeaseIfUseful(urgent: Bool, _ lease: (Int, Set<String>, Int) -> Void) {
        guard !leaseInFlight else { return }
        let room = options.concurrency - queues.waitingCount
        guard room > 0, urgent || queues.waitingCount == 0 || room >= max(1, options.concurrency / 2) else { return }
        let saturated = queues.saturatedHosts
        if !leaseMayFindWork && saturated.isSuperset(of: saturatedAtEmptyLease) { return }
        leaseInFlight = true
        lease(room, saturated, options.perHost)
    }

    private mutating func absorbMessages() throws {
        let now = Date()
        for message in wakeup.takeMessages() {
            switch message {
            case .page(.success(let report)):
                inFlight -= 1
                queues.finished(report.host, crawlDelay: report.crawlDelay, at: now)
                if report.added > 0 || report.retried || frontierLimitsHosts { leaseMayFindWork = true }
            case .page(.failure(let error)):
                inFlight -= 1
                if error is CancellationError { continue }
                throw error
            case .leased(.success(let leases), let saturated):
                leaseInFlight = false
                cachedDueDate = nil
                if leases.isEmpty {
                    leaseMayFindWork = false
                    saturatedAtEmptyLease = saturated
                } else {
                    queues.enqueue(leases)
                }
            case .leased(.failure(let error), _):
                leaseInFlight = false
                if error is CancellationError { continue }
                throw error
            }
        }
    }
}

/// Counts a run's outcomes from the events, from any task.
private final class SummaryCounter: Sendable {
    private let state = NIOLockedValueBox(FrontierCrawlSummary(ending: .finished))

    func count(_ event: FrontierCrawlEvent) {
        state.withLockedValue { summary in
            switch event {
            case .done(_, let records, let bytes, _):
                summary.done += 1
                summary.records += records.count
                summary.bytes += bytes
            case .failed:
                summary.failed += 1
            case .retrying:
                summary.retries += 1
            case .attempt, .note:
                break
            }
        }
    }

    func summary(ending: FrontierCrawlSummary.Ending) -> FrontierCrawlSummary {
        state.withLockedValue { summary in
            var copy = summary
            copy.ending = ending
            return copy
        }
    }
}
