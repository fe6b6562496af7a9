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

/// How an engine may use the machine: the same bound for every engine, so they compare fairly.
public struct CrawlEngineOptions: Sendable, Equatable {
    /// The most pages fetched at once: threads at once for ``CrawlEngineKind/threads``, pool size
    /// for ``CrawlEngineKind/pool``, fetcher threads for ``CrawlEngineKind/pipeline``, permits
    /// for ``CrawlEngineKind/async``. ``CrawlEngineKind/sequential`` ignores it.
    public var concurrency: Int
    /// Parser threads of the ``CrawlEngineKind/pipeline`` engine.
    public var parsers: Int
    /// Capacity of each of the pipeline's queues; nil for twice `concurrency`.
    public var queueCapacity: Int?

    /// The largest `concurrency` accepted: every page in flight may hold a thread and a body.
    public static let maximumConcurrency = 1_000
    /// The most parser threads accepted.
    public static let maximumParsers = 64

    /// Options; 16 pages at once and 2 parsers by default.
    public init(concurrency: Int = 16, parsers: Int = 2, queueCapacity: Int? = nil) {
        self.concurrency = concurrency
        self.parsers = parsers
        self.queueCapacity = queueCapacity
    }

    /// The pipeline's queue capacity in effect.
    public var effectiveQueueCapacity: Int { queueCapacity ?? max(2, 2 * concurrency) }

    /// `base` with enough connections per host that no page waits inside the fetcher for one
    /// (at least ``concurrency``).
    public func fetchConfiguration(_ base: FetchConfiguration = .init()) -> FetchConfiguration {
        var configuration = base
        configuration.maxConnectionsPerHost = max(configuration.maxConnectionsPerHost, concurrency)
        return configuration
    }

    /// How many pages the pool engine fetches per `map` window: enough to keep every thread
    /// busy, few enough that the window's bodies bound its memory.
    var poolWindow: Int { max(64, 4 * concurrency) }

    /// Checks every field and names the first one out of range.
    ///
    /// - Throws: ``CrawlInputError`` naming the option and the valid range.
    public func validate() throws(CrawlInputError) {
        guard (1...Self.maximumConcurrency).contains(concurrency) else {
            throw CrawlInputError("concurrency must be between 1 and \(Self.maximumConcurrency), got \(concurrency)")
        }
        guard (1...Self.maximumParsers).contains(parsers) else {
            throw CrawlInputError("parsers must be between 1 and \(Self.maximumParsers), got \(parsers)")
        }
        if let queueCapacity, queueCapacity < 1 {
            throw CrawlInputError("queueCapacity must be at least 1, got \(queueCapacity)")
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
