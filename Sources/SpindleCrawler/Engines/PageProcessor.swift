import Foundation

/// A fetch that has been tried, waiting to be parsed: the first half of a page's work, which
/// the pool and pipeline engines hand from fetching threads to parsing threads.
public struct PageFetch: Sendable {
    /// The task fetched.
    public var task: PageTask
    /// The response, or why there is none.
    public var result: Result<FetchedPage, PageFailure>
    /// How long the fetch took.
    public var elapsed: Duration
}

/// The work every engine does for a page, in one place: fetch, check the status, decode the
/// body, parse it, extract the records.
///
/// Engines differ only in how they schedule this work (one at a time, one thread per page, a
/// pool, a pipeline, tasks under a semaphore); they all call ``fetch(_:)`` (or
/// ``fetchBlocking(_:)`` on their own threads) and then ``extract(_:)``, or ``process(_:)``
/// which does both, so every engine yields the same records for the same pages.
///
/// Nothing here throws: every problem becomes a failed ``PageOutcome`` naming its reason.
public struct PageProcessor: Sendable {
    /// The fetcher all engines share (connections are pooled across pages).
    public let fetcher: Fetcher
    /// What is extracted from each page.
    public var extraction: RecordExtraction { extractor.extraction }
    private let extractor: PageExtractor

    /// A processor that fetches with `fetcher` and extracts `extraction`.
    public init(fetcher: Fetcher, extraction: RecordExtraction) {
        self.fetcher = fetcher
        extractor = PageExtractor(extraction: extraction)
    }

    /// Fetches and extracts `task`'s page.
    public func process(_ task: PageTask) async -> PageOutcome {
        extract(await fetch(task))
    }

    /// Fetches and extracts `task`'s page, blocking the calling thread: for engines that run
    /// their own threads. Never call it from a task (see ``Fetcher/fetchBlocking(_:)``).
    @available(*, noasync, message: "blocks the thread; from async code use process(_:)")
    public func processBlocking(_ task: PageTask) -> PageOutcome {
        extract(fetchBlocking(task))
    }

    /// Fetches `task`'s page.
    public func fetch(_ task: PageTask) async -> PageFetch {
        let start = ContinuousClock.now
        let result: Result<FetchedPage, PageFailure>
        do {
            result = .success(try await fetcher.fetch(task.url))
        } catch {
            result = .failure(Self.failure(task, error))
        }
        return PageFetch(task: task, result: result, elapsed: ContinuousClock.now - start)
    }

    /// Fetches `task`'s page, blocking the calling thread (see ``Fetcher/fetchBlocking(_:)``).
    @available(*, noasync, message: "blocks the thread; from async code use fetch(_:)")
    public func fetchBlocking(_ task: PageTask) -> PageFetch {
        let start = ContinuousClock.now
        let result: Result<FetchedPage, PageFailure>
        do {
            result = .success(try fetcher.fetchBlocking(task.url))
        } catch {
            result = .failure(Self.failure(task, error))
        }
        return PageFetch(task: task, result: result, elapsed: ContinuousClock.now - start)
    }

    /// Turns a fetch into an outcome: a status outside 2xx is a failure; otherwise the body is
    /// decoded (by its declared charset), parsed, and the records are extracted.
    public func extract(_ fetch: PageFetch) -> PageOutcome {
        let start = ContinuousClock.now
        let result = fetch.result.flatMap { page in
            Result { () throws(PageFailure) -> CrawledPage in try crawledPage(fetch.task, page) }
        }
        return PageOutcome(task: fetch.task, result: result, elapsed: fetch.elapsed + (ContinuousClock.now - start))
    }

    private func crawledPage(_ task: PageTask, _ page: FetchedPage) throws(PageFailure) -> CrawledPage {
        let pageURL = task.url.absoluteString
        guard page.isSuccess else {
            throw PageFailure(url: pageURL, status: page.status, retryAfter: page.retryAfter)
        }
        let records = extractor.extract(page, pageURL: pageURL).records
        return CrawledPage(finalURL: page.url, status: page.status, bytes: page.bytes, records: records)
    }

    /// The records `extraction` yields for `page`, naming `pageURL` as their page (see
    /// ``PageExtractor``).
    public static func records(from page: FetchedPage, pageURL: String, extraction: RecordExtraction) -> [CrawlRecord] {
        PageExtractor(extraction: extraction).extract(page, pageURL: pageURL).records
    }

    private static func failure(_ task: PageTask, _ error: any Error) -> PageFailure {
        let url = task.url.absoluteString
        switch error {
        case let error as FetchError:
            return PageFailure(url: url, fetchError: error)
        case is CancellationError:
            return PageFailure(url: url, reason: "cancelled: the crawl was stopped")
        default:
            return PageFailure(url: url, reason: "\(error)")
        }
    }
}
