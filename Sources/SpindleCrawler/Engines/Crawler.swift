/// Crawls a list of pages with one of the engines and sends every page's outcome to a sink.
///
/// ```swift
/// try await withFetcher(FetchConfiguration(maxConnectionsPerHost: 50)) { fetcher in
///     let processor = PageProcessor(fetcher: fetcher, extraction: .selection(try CSSSelector("a.post-item-title")))
///     let crawler = Crawler(engine: .async, processor: processor, options: CrawlEngineOptions(concurrency: 50))
///     let sink = CollectingOutcomeSink()
///     let summary = try await crawler.run(urls.map { PageTask(url: $0) }, sink: sink)
///     print(summary.text, sink.records.count)
/// }
/// ```
///
/// Every engine calls the same per-page work (``PageProcessor``), so they yield the same
/// records for the same pages; they differ in how that work is scheduled (see
/// ``CrawlEngineKind``). Every engine ends when its last page is done, a sink error stops it,
/// or the calling task is cancelled; no thread or task it started outlives ``run(_:sink:progress:)``.
///
/// The fetcher's ``FetchConfiguration/maxConnectionsPerHost`` should be at least the
/// concurrency, or pages to one host queue for connections inside the fetcher.
public struct Crawler: Sendable {
    /// How pages are scheduled.
    public var engine: CrawlEngineKind
    /// The per-page work.
    public var processor: PageProcessor
    /// Concurrency and queue sizes.
    public var options: CrawlEngineOptions

    /// A crawler running `engine` over `processor`'s work.
    public init(engine: CrawlEngineKind, processor: PageProcessor, options: CrawlEngineOptions = .init()) {
        self.engine = engine
        self.processor = processor
        self.options = options
    }

    /// Crawls `tasks`, sending each outcome to `sink` as the page finishes.
    ///
    /// - Parameters:
    ///   - tasks: The pages, in the order they are started (engines finish them in any order).
    ///   - sink: Told every outcome, one at a time.
    ///   - progress: Counters to update as pages finish, for a progress line; a fresh one when nil.
    /// - Returns: The counts and the time taken. Failed pages are not errors: they are
    ///   outcomes, counted in ``CrawlSummary/failed``.
    /// - Throws: ``CrawlInputError`` for options out of range; the sink's error when it throws
    ///   (the crawl stops starting pages and returns once those running are done);
    ///   `CancellationError` when the calling task is cancelled.
    public func run(_ tasks: [PageTask], sink: some PageOutcomeSink, progress: CrawlProgress? = nil) async throws -> CrawlSummary {
        try options.validate()
        let progress = progress ?? CrawlProgress(total: tasks.count)
        let delivery = OutcomeDelivery(sink: sink, progress: progress)
        progress.markStarted()
        defer { progress.markFinished() }
        do {
            try await withTaskCancellationHandler {
                try await runEngine(tasks, delivery: delivery)
            } onCancel: {
                delivery.stop(CancellationError())
            }
        } catch {
            // An engine stopped by the sink or a cancellation may fail on its way out (a
            // cancelled pool future, say): the reason it stopped is the error to report.
            try delivery.throwIfStopped()
            throw error
        }
        progress.markFinished()
        let counts = progress.snapshot()
        return CrawlSummary(
            engine: engine, concurrency: engine == .sequential ? 1 : options.concurrency,
            pages: counts.done, failed: counts.failed, records: counts.records, bytes: counts.bytes, elapsed: counts.elapsed)
    }

    private func runEngine(_ tasks: [PageTask], delivery: OutcomeDelivery) async throws {
        switch engine {
        case .sequential:
            try await AsyncCrawlEngine.runSequentially(tasks, processor: processor, delivery: delivery)
        case .threads:
            try await ThreadsCrawlEngine.run(tasks, concurrency: options.concurrency, processor: processor, delivery: delivery)
        case .pool:
            try await PoolCrawlEngine.run(tasks, concurrency: options.concurrency, processor: processor, delivery: delivery)
        case .poolCallbacks:
            try await PoolCrawlEngine.runWithCallbacks(tasks, concurrency: options.concurrency, processor: processor, delivery: delivery)
        case .pipeline:
            try await PipelineCrawlEngine.run(tasks, options: options, processor: processor, delivery: delivery)
        case .async:
            try await AsyncCrawlEngine.run(tasks, concurrency: options.concurrency, processor: processor, delivery: delivery)
        }
    }
}
