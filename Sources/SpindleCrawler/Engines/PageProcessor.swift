import Foundation

/// What a crawl extracts from each page.
public enum RecordExtraction: Hashable, Sendable {
    /// One ``CrawlRecord/selection(page:href:text:)`` per element the selector matches: the
    /// element's `href` made absolute (nil when it has none) and its trimmed text.
    case selection(CSSSelector)
    /// One ``CrawlRecord/page(page:status:bytes:title:)`` per page: status, body size and
    /// `<title>` (the course's `print(url, len(r.text))`).
    case pageSummary

    /// The shape of the records, which fixes the columns of a CSV file.
    public var shape: RecordShape {
        switch self {
        case .selection: .selection
        case .pageSummary: .page
        }
    }
}

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
    public let extraction: RecordExtraction

    /// A processor that fetches with `fetcher` and extracts `extraction`.
    public init(fetcher: Fetcher, extraction: RecordExtraction) {
        self.fetcher = fetcher
        self.extraction = extraction
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
        let records = Self.records(from: page, pageURL: pageURL, extraction: extraction)
        return CrawledPage(finalURL: page.url, status: page.status, bytes: page.bytes, records: records)
    }

    /// The records `extraction` yields for `page`, naming `pageURL` as their page. A body that
    /// is not HTML (by its `Content-Type`) yields no selection and a page record without title.
    public static func records(from page: FetchedPage, pageURL: String, extraction: RecordExtraction) -> [CrawlRecord] {
        switch extraction {
        case .pageSummary:
            let title = page.isHTML ? HTMLStreamExtractor([], title: true)?.extract(page).title : nil
            return [.page(page: pageURL, status: page.status, bytes: page.bytes, title: title)]
        case .selection(let selector):
            guard page.isHTML else { return [] }
            // One streaming pass when the selector allows it (the same records, no tree).
            if let extractor = HTMLStreamExtractor([HTMLStreamQuery(selector)]) {
                return extractor.extract(page).matches[0].map { match in
                    .selection(page: pageURL, href: match.href?.absoluteString, text: match.text)
                }
            }
            let document = HTMLDocument(html: page.decoded().text, url: page.url)
            // A translated selector is valid XPath; if libxml2 still rejects it, the page
            // yields nothing rather than failing the crawl.
            let elements = (try? document.select(selector)) ?? []
            return elements.map { element in
                .selection(page: pageURL, href: element.absoluteURL(for: "href")?.absoluteString, text: element.trimmedText)
            }
        }
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
