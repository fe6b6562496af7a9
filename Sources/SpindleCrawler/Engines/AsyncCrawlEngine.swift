import Spindle

/// The task-based engines: ``CrawlEngineKind/async`` (a task per page under a semaphore) and
/// ``CrawlEngineKind/sequential`` (one page at a time).
///
/// ``run(concurrency:next:process:report:)`` is the loop a frontier-driven crawl uses as is:
/// `next` leases a page, `report` records how it ended.
public enum AsyncCrawlEngine {
    /// Crawls pages pulled from `next` with at most `concurrency` of them in flight, and
    /// reports each outcome as soon as it is known.
    ///
    /// A permit of an ``Spindle/AsyncSemaphore`` is taken *before* a page is pulled and its task
    /// created, and given back when the page is reported: so no more than `concurrency` pages
    /// are leased, fetched or parsed at once, and no more than `concurrency` child tasks exist,
    /// however many pages there are (the course creates every task up front and takes the
    /// semaphore inside each; that keeps one task per URL alive).
    ///
    /// - Parameters:
    ///   - concurrency: The most pages in flight (at least 1).
    ///   - next: The next page, or nil when there is none; called from this task only.
    ///   - process: The page's work, usually ``PageProcessor/process(_:)``.
    ///   - report: Told each outcome, from the page's task; may run concurrently for
    ///     different pages.
    /// - Throws: What `next` or `report` throws (the pages in flight are cancelled and their
    ///   outcomes dropped), or `CancellationError` when the calling task is cancelled.
    public static func run(
        concurrency: Int,
        next: () async throws -> PageTask?,
        process: @escaping @Sendable (PageTask) async -> PageOutcome,
        report: @escaping @Sendable (PageOutcome) async throws -> Void
    ) async throws {
        precondition(concurrency >= 1, "concurrency must be at least 1, got \(concurrency)")
        let permits = AsyncSemaphore(value: concurrency)
        try await withThrowingDiscardingTaskGroup { group in
            while true {
                try await permits.acquire()
                guard let task = try await next() else {
                    permits.release()
                    break
                }
                group.addTask {
                    defer { permits.release() }
                    let outcome = await process(task)
                    try Task.checkCancellation()
                    try await report(outcome)
                }
            }
        }
    }

    /// Crawls `tasks` with ``run(concurrency:next:process:report:)``, delivering outcomes
    /// through `delivery`.
    static func run(_ tasks: [PageTask], concurrency: Int, processor: PageProcessor, delivery: OutcomeDelivery) async throws {
        var remaining = tasks.makeIterator()
        try await run(
            concurrency: concurrency,
            next: {
                try delivery.throwIfStopped()
                return remaining.next()
            },
            process: { task in await processor.process(task) },
            report: { outcome in try delivery.deliverAsync(outcome) }
        )
    }

    /// Crawls `tasks` one after another on the calling task.
    static func runSequentially(_ tasks: [PageTask], processor: PageProcessor, delivery: OutcomeDelivery) async throws {
        for task in tasks {
            try delivery.throwIfStopped()
            try Task.checkCancellation()
            delivery.deliver(await processor.process(task))
        }
        try delivery.throwIfStopped()
    }
}
