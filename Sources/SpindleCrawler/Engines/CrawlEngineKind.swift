/// The crawl engines: the course's crawler programs, from slowest to fastest, over the same
/// per-page work (``PageProcessor``).
public enum CrawlEngineKind: String, CaseIterable, Sendable {
    /// One page at a time (the course's `single_thread`).
    case sequential
    /// One OS thread per page, fetching with blocking calls, at most `concurrency` threads at
    /// once (the course's `multi_thread`, which starts one thread per URL unbounded).
    case threads
    /// A ``Spindle/ThreadPoolExecutor`` of `concurrency` threads: `map` fetches a window of
    /// pages, then `submit` + `asCompleted` parse them (the course's thread-pool crawler).
    case pool
    /// The same pool, parsing in each fetch future's done callback (`onComplete`, the course's
    /// `add_done_callback(parse_page)`).
    case poolCallbacks = "pool-callbacks"
    /// `concurrency` fetcher threads and `parsers` parser threads joined by bounded
    /// ``Spindle/BlockingQueue``s (the course's producer-consumer crawler).
    case pipeline
    /// Structured concurrency: a task per page, at most `concurrency` at once under an
    /// ``Spindle/AsyncSemaphore`` (the course's asyncio + aiohttp + `Semaphore(10)`).
    case async

    /// What the engine does, in a few words.
    public var summary: String {
        switch self {
        case .sequential: "one page at a time"
        case .threads: "one OS thread per page, bounded"
        case .pool: "thread pool: map to fetch, submit + asCompleted to parse"
        case .poolCallbacks: "thread pool: parse in each future's done callback"
        case .pipeline: "fetcher threads → bounded queue → parser threads"
        case .async: "a task per page under an AsyncSemaphore"
        }
    }
}

/// Input a crawl cannot start with (a bad URL, an option out of range, an unusable output);
/// the description says what and why.
public struct CrawlInputError: Error, Sendable, Equatable, CustomStringConvertible {
    /// What is wrong, naming the input.
    public var description: String

    /// An error saying `description`.
    public init(_ description: String) {
        self.description = description
    }
}
