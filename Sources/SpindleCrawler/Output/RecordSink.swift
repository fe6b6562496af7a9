import Foundation
import NIOConcurrencyHelpers

/// The two shapes of ``CrawlRecord``, which fix the columns of a CSV file.
public enum RecordShape: Hashable, Sendable {
    /// `page, href, text`: elements picked by a selector.
    case selection
    /// `page, status, bytes, title`: one record per page.
    case page

    /// The column names, in order, as the CSV header writes them.
    public var columns: [String] {
        switch self {
        case .selection: ["page", "href", "text"]
        case .page: ["page", "status", "bytes", "title"]
        }
    }
}

/// Where records are written: a file or standard output in some format, or memory.
///
/// Calls may come from any thread; implementations serialise them. Writes are buffered:
/// nothing is guaranteed to be out until ``finish()`` returns.
public protocol RecordSink: AnyObject, Sendable {
    /// Writes `records`, in order, after everything written before.
    ///
    /// - Throws: ``RecordOutputError`` when the output cannot be written (a full disk, a closed
    ///   pipe).
    func write(_ records: [CrawlRecord]) throws

    /// Writes out what is buffered and closes the output (standard output stays open).
    /// Nothing may be written afterwards; finishing twice does nothing.
    func finish() throws
}

/// The record formats, chosen by the output's file name.
public enum RecordFormat: String, Hashable, Sendable, CaseIterable {
    /// One JSON object per line (`.jsonl`, `.ndjson`, and standard output).
    case jsonLines = "jsonl"
    /// Comma-separated values with a header row, RFC 4180 quoting and CRLF line ends (`.csv`).
    case csv

    /// The format for an output path: `-` (standard output) is JSON Lines; otherwise the
    /// extension decides.
    ///
    /// - Throws: ``CrawlInputError`` for any other extension, naming the ones accepted.
    public init(path: String) throws(CrawlInputError) {
        if path == "-" {
            self = .jsonLines
            return
        }
        switch URL(fileURLWithPath: path).pathExtension.lowercased() {
        case "jsonl", "ndjson": self = .jsonLines
        case "csv": self = .csv
        default:
            throw CrawlInputError(
                "cannot tell the format of '\(path)' from its name: end it in .jsonl (JSON Lines) or .csv, or give - for standard output")
        }
    }
}

/// Opens record outputs.
public enum RecordSinks {
    /// A sink writing records of `shape` to `path` (`-` for standard output), in the format its
    /// name says (see ``RecordFormat/init(path:)``). A file is created or truncated at once, so
    /// an unwritable path fails here, before any page is fetched.
    ///
    /// - Throws: ``CrawlInputError`` for an unknown extension; ``RecordOutputError`` when the
    ///   file cannot be opened for writing (the message names the path and the reason).
    public static func open(path: String, shape: RecordShape) throws -> any RecordSink {
        let format = try RecordFormat(path: path)
        let output = path == "-" ? BufferedOutput.standardOutput() : try BufferedOutput(path: path)
        switch format {
        case .jsonLines: return JSONLinesSink(output: output)
        case .csv: return try CSVSink(output: output, shape: shape)
        }
    }
}

/// Keeps records in memory, for tests (the CLI never keeps a crawl's records).
public final class MemoryRecordSink: RecordSink, @unchecked Sendable {
    private let lock = NIOLock()
    /// Protected by `lock`.
    private var stored: [CrawlRecord] = []
    private var finished = false

    /// An empty sink.
    public init() {}

    /// Appends `records`.
    public func write(_ records: [CrawlRecord]) {
        lock.withLock { stored.append(contentsOf: records) }
    }

    /// Marks the sink finished.
    public func finish() {
        lock.withLock { finished = true }
    }

    /// Every record written, in order.
    public var records: [CrawlRecord] { lock.withLock { stored } }

    /// Whether ``finish()`` was called.
    public var isFinished: Bool { lock.withLock { finished } }
}

