import Foundation
import Synchronization

/// A crawl driven by a ``Frontier``: pages are leased, fetched politely, retried, and their
/// records and links stored, until nothing is left or a stop is asked for. This is what
/// `spindle crawl --state` runs; with an ``SQLiteFrontier`` it resumes after a stop of any
/// kind.
///
/// ```swift
/// let frontier = try SQLiteFrontier(path: "crawl.sqlite")
/// let options = FrontierCrawlOptions(follow: try CSSSelector("a"), scope: try CrawlScope(allowedHosts: ["127.0.0.1:8080"]))
/// try await withFetcher(FrontierCrawl.fetchConfiguration()) { fetcher in
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
    /// The fetcher; it should not follow redirects (see ``fetchConfiguration(_:)``), so each hop
    /// is checked.
    public let fetcher: Fetcher
    /// Scheduling, politeness, retries, extraction and link following.
    public let options: FrontierCrawlOptions

    /// A crawl of `frontier` with `fetcher`.
    public init(frontier: any Frontier, fetcher: Fetcher, options: FrontierCrawlOptions) {
        self.frontier = frontier
        self.fetcher = fetcher
        self.options = options
    }

    /// `base` with redirects left to the crawl (which checks each hop against the scope,
    /// robots.txt and the seen-set) and enough connections per host for `perHost`.
    public static func fetchConfiguration(_ base: FetchConfiguration = .init(), perHost: Int = 4) -> FetchConfiguration {
        var configuration = base
        configuration.followRedirects = false
        configuration.maxConnectionsPerHost = max(configuration.maxConnectionsPerHost, perHost)
        return configuration
    }

    /// Adds `seeds` (known ones are skipped, so a resumed crawl may pass them again) and crawls
    /// until the frontier is finished or `stop` is raised.
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
        let start = ContinuousClock.now
        _ = try await frontier.add(seeds)
        let wakeup = CrawlWakeup()
        stop.onRaise { wakeup.poke() }
        let counter = SummaryCounter()
        let work = FrontierPageWork(
            frontier: frontier, fetcher: fetcher, robots: options.obeyRobots ? RobotsCache(fetcher: fetcher) : nil,
            options: options
        ) { event in
            counter.count(event)
            observer(event)
        }
        let ending = try await withThrowingTaskGroup(of: Void.self) { group in
            var driver = Driver(frontier: frontier, options: options, wakeup: wakeup, stop: stop)
            do {
                let ending = try await driver.drive { leased in
                    group.addTask {
                        do {
                            wakeup.post(.success(try await work.run(leased)))
                        } catch {
                            wakeup.post(.failure(error))
                        }
                    }
                } cancelAll: {
                    group.cancelAll()
                }
                try await group.waitForAll()
                return ending
            } catch {
                group.cancelAll()
                throw error
            }
        }
        if ending == .stopped {
            // Whatever was leased but not started (or cancelled after the grace period) is
            // handed back now, so the state reads pending, not leased.
            _ = try await frontier.recoverAbandonedLeases()
        }
        var summary = counter.summary(ending: ending)
        summary.elapsed = ContinuousClock.now - start
        return summary
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
    var saturatedAtEmptyLease: Set<String> = []
    var graceDeadline: ContinuousClock.Instant?

    init(frontier: any Frontier, options: FrontierCrawlOptions, wakeup: CrawlWakeup, stop: CrawlStopSignal) {
        self.frontier = frontier
        self.options = options
        self.wakeup = wakeup
        self.stop = stop
        queues = CrawlHostQueues(perHost: options.perHost, delay: options.delay, obeyRobots: options.obeyRobots)
    }

    mutating func drive(
        start: (LeasedURL) -> Void,
        cancelAll: () -> Void
    ) async throws -> FrontierCrawlSummary.Ending {
        while true {
            try absorbReports()
            switch stop.level {
            case .immediate:
                cancelAll()
                return .interrupted
            case .graceful:
                if inFlight == 0 { return .stopped }
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

            try await leaseIfUseful()
            let now = Date()
            while inFlight < options.concurrency, let leased = queues.nextStartable(at: now) {
                inFlight += 1
                start(leased)
            }

            var deadline: ContinuousClock.Instant?
            if let nextStart = queues.nextStart(after: now) {
                deadline = .now + .milliseconds(Int64(max(1, nextStart.timeIntervalSince(now) * 1000)))
            }
            if inFlight == 0 && queues.waitingCount == 0 {
                // Nothing running and nothing leased: done, or only retries waiting for their time.
                guard let due = try await frontier.nextDueDate() else {
                    if try await frontier.isFinished() { return .finished }
                    leaseMayFindWork = true
                    continue
                }
                leaseMayFindWork = true
                let wait = max(0.005, due.timeIntervalSinceNow)
                deadline = .now + .milliseconds(Int64(wait * 1000))
            } else if !leaseMayFindWork, queues.waitingCount == 0, let due = try await frontier.nextDueDate(), due > now {
                // Pages are running; a retry falls due later: wake up for it too.
                let retryAt = ContinuousClock.now + .milliseconds(Int64(due.timeIntervalSince(now) * 1000) + 1)
                deadline = deadline.map { min($0, retryAt) } ?? retryAt
            }
            if inFlight >= options.concurrency || queues.waitingCount > 0 || inFlight > 0 || deadline != nil {
                await wakeup.wait(until: deadline)
                if let deadline, ContinuousClock.now >= deadline { leaseMayFindWork = true }
            }
        }
    }

    /// Leases when there is room among the waiting URLs and a lease may find something.
    private mutating func leaseIfUseful() async throws {
        let room = options.concurrency - queues.waitingCount
        guard room > 0 else { return }
        let saturated = queues.saturatedHosts
        if !leaseMayFindWork && saturated.isSuperset(of: saturatedAtEmptyLease) { return }
        let leases = try await frontier.lease(limit: room, now: Date(), excludingHosts: saturated, maxPerHost: options.perHost)
        if leases.isEmpty {
            leaseMayFindWork = false
            saturatedAtEmptyLease = saturated
        } else {
            leaseMayFindWork = true
            queues.enqueue(leases)
        }
    }

    private mutating func absorbReports() throws {
        let now = Date()
        for result in wakeup.takeReports() {
            inFlight -= 1
            switch result {
            case .success(let report):
                queues.finished(report.host, crawlDelay: report.crawlDelay, at: now)
                if report.added > 0 || report.retried { leaseMayFindWork = true }
            case .failure(let error):
                if error is CancellationError { continue }
                throw error
            }
        }
    }
}

/// Counts a run's outcomes from the events, from any task.
private final class SummaryCounter: Sendable {
    private let state = Mutex(FrontierCrawlSummary(ending: .finished))

    func count(_ event: FrontierCrawlEvent) {
        state.withLock { summary in
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
        state.withLock { summary in
            var copy = summary
            copy.ending = ending
            return copy
        }
    }
}
