import Foundation
import NIOConcurrencyHelpers

/// Where an engine sends each page's outcome as soon as the page is done: a record writer, a
/// frontier, a test's collection.
///
/// Engines never call ``accept(_:)`` for two outcomes at once (they serialise the calls), but
/// may call it from any thread, so an implementation must be `Sendable`. A throwing sink (a
/// full disk, say) stops the crawl: the engine starts no more pages and rethrows the error.
public protocol PageOutcomeSink: Sendable {
    /// Takes the outcome of one page.
    func accept(_ outcome: PageOutcome) throws
}

/// Keeps every outcome in memory, for tests and the tour (a CLI crawl writes records out
/// instead, with ``RecordOutcomeSink``).
public final class CollectingOutcomeSink: PageOutcomeSink, @unchecked Sendable {
    private let lock = NIOLock()
    /// Protected by `lock`.
    private var collected: [PageOutcome] = []

    /// An empty collection.
    public init() {}

    /// Keeps `outcome`.
    public func accept(_ outcome: PageOutcome) {
        lock.withLock { collected.append(outcome) }
    }

    /// The outcomes so far, in the order they arrived.
    public var outcomes: [PageOutcome] { lock.withLock { collected } }

    /// The records of every crawled page, in the order the pages finished.
    public var records: [CrawlRecord] { outcomes.flatMap(\.records) }

    /// The failures, in the order they happened.
    public var failures: [PageFailure] { outcomes.compactMap(\.failure) }
}

/// Hands outcomes to the sink one at a time and counts them, remembers the first error the
/// sink throws, and tells the engine to stop starting pages after an error or a cancellation.
final class OutcomeDelivery: @unchecked Sendable {
    private let sink: any PageOutcomeSink
    let progress: CrawlProgress
    private let lock = NIOLock()
    // Protected by `lock`:
    private var firstError: (any Error)?
    private var stopHandlers: [@Sendable () -> Void] = []

    init(sink: any PageOutcomeSink, progress: CrawlProgress) {
        self.sink = sink
        self.progress = progress
    }

    /// True once the crawl must start no more pages.
    var isStopped: Bool { lock.withLock { firstError != nil } }

    /// Counts `outcome` and passes it to the sink. Outcomes arriving after a stop are dropped.
    func deliver(_ outcome: PageOutcome) {
        let error: (any Error)? = lock.withLock {
            guard firstError == nil else { return nil }
            progress.record(outcome)
            do {
                try sink.accept(outcome)
                return nil
            } catch {
                return error
            }
        }
        if let error { stop(error) }
    }

    /// Passes `outcome` to the sink from a task; throws the sink's error.
    func deliverAsync(_ outcome: PageOutcome) throws {
        deliver(outcome)
        try throwIfStopped()
    }

    /// Stops the crawl with `error` (the first error wins) and runs the stop handlers once.
    func stop(_ error: any Error) {
        let handlers: [@Sendable () -> Void] = lock.withLock {
            guard firstError == nil else { return [] }
            firstError = error
            defer { stopHandlers = [] }
            return stopHandlers
        }
        for handler in handlers { handler() }
    }

    /// Runs `handler` when the crawl is stopped (at once if it already is): engines shut their
    /// queues down with it so blocked threads wake.
    func onStop(_ handler: @escaping @Sendable () -> Void) {
        let stoppedAlready = lock.withLock {
            if firstError != nil { return true }
            stopHandlers.append(handler)
            return false
        }
        if stoppedAlready { handler() }
    }

    /// Throws the error that stopped the crawl, if any.
    func throwIfStopped() throws {
        if let error = lock.withLock({ firstError }) { throw error }
    }
}

/// Runs `body` on a new OS thread and suspends (without blocking) until it returns: how the
/// thread-based engines get off Swift's cooperative pool, whose few threads must never block.
func onNewThread<T: Sendable>(name: String, _ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
        let thread = Thread {
            continuation.resume(with: Result { try body() })
        }
        thread.name = name
        thread.start()
    }
}
