import Foundation
import Logging
import Spindle

/// A whole crawl as `spindle crawl` runs it, around the engine: the record output opened and
/// finished, the progress line, failures and notes logged, SIGINT and SIGTERM turned into a
/// stop, the summary. The crawl command, the tour and the bench all run crawls through it.
///
/// ```swift
/// let session = CrawlSession(output: "records.jsonl", logger: Logger(label: "crawl"))
/// let result = try await session.run(frontier: try SQLiteFrontier(path: "crawl.sqlite"), seeds: seeds, options: options)
/// print(result.summary.text)
/// ```
///
/// Every crawl is a frontier crawl (``run(frontier:seeds:options:fetch:)``: it follows links,
/// is polite, retries, and resumes from its frontier, with any engine); a list crawl
/// (``run(_:options:fetch:)``) is one of an in-memory frontier that follows nothing.
public struct CrawlSession: Sendable {
    /// Where records go: a `.jsonl` or `.csv` path, or `-` for standard output.
    public var output: String
    /// No progress line and no closing summary line (failures are still logged).
    public var quiet: Bool
    /// Whether the progress line is drawn (by default: when standard error is a terminal).
    public var showsProgress: Bool
    /// Whether SIGINT and SIGTERM stop a frontier crawl in order (first: finish the pages in
    /// flight; second: stop now) instead of killing the process.
    public var trapsSignals: Bool
    /// Where failures, retries and notes are logged.
    public var logger: Logger
    /// Where records go instead of ``output``, such as a ``MemoryRecordSink`` (the tour and the
    /// bench keep them to check them).
    public var records: (any RecordSink)?

    /// A session writing records to `output`.
    public init(
        output: String = "-", quiet: Bool = false, showsProgress: Bool = ProgressLine.standardErrorIsTerminal,
        trapsSignals: Bool = false, logger: Logger = Logger(label: "spindle.crawl"), records: (any RecordSink)? = nil
    ) {
        self.records = records
        self.output = output
        self.quiet = quiet
        self.showsProgress = showsProgress && !quiet
        self.trapsSignals = trapsSignals
        self.logger = logger
    }

    /// How a session's crawl ended.
    public struct Result: Sendable {
        /// What the crawl did.
        public var summary: CrawlSummary
        /// The first of SIGINT and SIGTERM that stopped a frontier crawl, if one did.
        public var signal: Int32?

        /// The exit status a command ends with: 128 + the signal after a stop by signal, else
        /// the summary's (see ``CrawlSummary/exitStatus``).
        public var exitStatus: Int32 {
            if let signal { return 128 + signal }
            return summary.exitStatus
        }
    }

    /// Opens the record output for records of `shape`.
    ///
    /// - Throws: ``CrawlInputError`` when the output cannot be opened or has no known format.
    func openRecords(_ shape: RecordShape) throws(CrawlInputError) -> any RecordSink {
        if let records { return records }
        do {
            return try RecordSinks.open(path: output, shape: shape)
        } catch let error as CrawlInputError {
            throw error
        } catch {
            throw CrawlInputError("\(error)")
        }
    }

    /// A list crawl: crawls `tasks` once each, writing their records to ``output``. It is a
    /// frontier crawl (``run(frontier:seeds:options:fetch:)``) of a ``MemoryFrontier`` seeded
    /// with the list, following no links (`options.follow` is ignored): politeness, robots.txt
    /// and retries apply as `options` say. A URL listed twice (the same after
    /// canonicalisation) is crawled once; a page's records name the URL listed, also after a
    /// redirect.
    ///
    /// - Throws: ``CrawlInputError`` for options out of range, a URL that cannot be crawled or
    ///   an output that cannot be opened; what the output throws while writing.
    public func run(_ tasks: [PageTask], options: FrontierCrawlOptions, fetch: FetchConfiguration = .init()) async throws -> Result {
        var options = options
        options.follow = nil
        let seeds = try tasks.map { task throws(CrawlInputError) in
            do {
                return FrontierEntry(try CanonicalURL(task.url, sortQuery: options.scope.sortQuery))
            } catch {
                throw CrawlInputError("\(task.url.absoluteString): \(error)")
            }
        }
        let frontier = MemoryFrontier()
        return try await run(frontier: frontier, seeds: seeds, options: options, fetch: fetch)
    }

    /// Writes every record `frontier` holds to `path` as JSON Lines, in the order stored;
    /// returns how many.
    public static func export(_ frontier: any Frontier, to path: String) async throws -> Int {
        let sink = try RecordSinks.open(path: path, shape: .page)
        let count: Int
        do {
            count = try await writeStoredRecords(of: frontier, to: sink)
        } catch {
            try? sink.finish()
            throw error
        }
        try sink.finish()
        return count
    }

    /// Writes every record `frontier` holds to `sink`, in the order stored; returns how many.
    static func writeStoredRecords(of frontier: any Frontier, to sink: any RecordSink) async throws -> Int {
        var count = 0
        var batch: [CrawlRecord] = []
        try await frontier.forEachRecord { record in
            batch.append(record)
            count += 1
            if batch.count == 500 {
                try sink.write(batch)
                batch.removeAll(keepingCapacity: true)
            }
        }
        try sink.write(batch)
        return count
    }
}
