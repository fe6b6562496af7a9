import Foundation
import NIOConcurrencyHelpers

/// Live counters of a crawl, updated by its engine as pages finish and read by progress lines,
/// tours and summaries from any thread.
public final class CrawlProgress: @unchecked Sendable {
    /// How full one of an engine's queues is right now.
    public struct QueueDepth: Sendable, Equatable {
        /// The queue's name, such as `urls` or `pages`.
        public var name: String
        /// Elements in the queue.
        public var count: Int
        /// The most it holds.
        public var capacity: Int

        /// A reading of a queue.
        public init(name: String, count: Int, capacity: Int) {
            self.name = name
            self.count = count
            self.capacity = capacity
        }
    }

    /// A consistent copy of the counters at one moment.
    public struct Snapshot: Sendable, Equatable {
        /// Pages the crawl was given.
        public var total: Int
        /// Pages finished, crawled or failed.
        public var done: Int
        /// Pages that failed.
        public var failed: Int
        /// Records extracted so far.
        public var records: Int
        /// Body bytes of the pages crawled.
        public var bytes: Int
        /// Since the engine started (frozen once it finished).
        public var elapsed: Duration
        /// The engine's queues, for engines that have some (the pipeline).
        public var queues: [QueueDepth]

        /// A snapshot with the given counts (the engines make these; public for tests).
        public init(
            total: Int, done: Int = 0, failed: Int = 0, records: Int = 0, bytes: Int = 0,
            elapsed: Duration = .zero, queues: [QueueDepth] = []
        ) {
            self.total = total
            self.done = done
            self.failed = failed
            self.records = records
            self.bytes = bytes
            self.elapsed = elapsed
            self.queues = queues
        }

        /// Pages crawled without failure.
        public var succeeded: Int { done - failed }

        /// Finished pages per second of ``elapsed``; 0 before any time has passed.
        public var pagesPerSecond: Double {
            let seconds = elapsed.crawlSeconds
            return seconds > 0 ? Double(done) / seconds : 0
        }
    }

    private let lock = NIOLock()
    // Protected by `lock`:
    private var counters: Snapshot
    private var startedAt: ContinuousClock.Instant?
    private var finishedAt: ContinuousClock.Instant?
    private var queueProbe: (@Sendable () -> [QueueDepth])?

    /// Counters for a crawl of `total` pages.
    public init(total: Int) {
        counters = Snapshot(total: total)
    }

    /// The counters now; queue depths are read at the same moment.
    public func snapshot() -> Snapshot {
        let (copy, probe) = lock.withLock { () -> (Snapshot, (@Sendable () -> [QueueDepth])?) in
            var copy = counters
            if let startedAt {
                copy.elapsed = (finishedAt ?? .now) - startedAt
            }
            return (copy, queueProbe)
        }
        var result = copy
        // Queues have locks of their own: read them outside this one.
        result.queues = probe?() ?? []
        return result
    }

    /// Counts one page: done (with its records and body size) or failed.
    public func recordPage(failed: Bool, records: Int = 0, bytes: Int = 0) {
        lock.withLock {
            counters.done += 1
            counters.records += records
            counters.bytes += bytes
            if failed { counters.failed += 1 }
        }
    }

    /// Adds `count` pages to the total, for a crawl that finds pages as it goes.
    public func addToTotal(_ count: Int) {
        lock.withLock { counters.total += count }
    }

    /// Starts the clock (once; later calls keep the first start).
    public func markStarted() {
        lock.withLock {
            if startedAt == nil { startedAt = .now }
        }
    }

    /// Stops the clock and forgets the queues, which are gone once the engine returns.
    public func markFinished() {
        lock.withLock {
            if startedAt == nil { startedAt = .now }
            finishedAt = .now
            queueProbe = nil
        }
    }

    /// Makes snapshots report the depths `probe` reads, while the engine runs.
    func setQueueProbe(_ probe: (@Sendable () -> [QueueDepth])?) {
        lock.withLock { queueProbe = probe }
    }
}

extension Duration {
    /// The duration in seconds, as a `Double`.
    var crawlSeconds: Double {
        let (seconds, attoseconds) = components
        return Double(seconds) + Double(attoseconds) / 1e18
    }
}
