import Foundation

/// Why a frontier crawl returned.
public enum CrawlEnding: String, Sendable, Equatable, Codable {
    /// Nothing is left pending or leased.
    case finished
    /// A graceful stop: pages in flight were finished (or cancelled after the grace period).
    case stopped
    /// An immediate stop: pages in flight were abandoned; their URLs go back to pending when
    /// the state is opened again.
    case interrupted
}

/// What a finished crawl came to: pages, failures, records and speed; for a frontier crawl also
/// how it ended, its retries and what its state holds. `spindle crawl --json-summary` prints it
/// with ``json()``.
public struct CrawlSummary: Sendable, Equatable, Codable {
    /// The engine that ran.
    public var engine: CrawlEngineKind
    /// The concurrency it ran with.
    public var concurrency: Int
    /// Pages finished (crawled or failed).
    public var pages: Int
    /// Pages that failed.
    public var failed: Int
    /// Records extracted.
    public var records: Int
    /// Body bytes of the pages crawled.
    public var bytes: Int
    /// From the engine's start to its end.
    public var elapsed: Duration
    /// Why a frontier crawl returned; nil for a list crawl.
    public var ending: CrawlEnding?
    /// Attempts a frontier crawl will retry; nil for a list crawl.
    public var retries: Int?
    /// What the frontier holds after the crawl; nil for a list crawl.
    public var state: FrontierStatus?
    /// The process's memory high-water mark in MiB, when measured.
    public var peakResidentMegabytes: Double?

    /// A summary (engines make these; public for tests).
    public init(engine: CrawlEngineKind, concurrency: Int, pages: Int, failed: Int, records: Int, bytes: Int, elapsed: Duration) {
        self.engine = engine
        self.concurrency = concurrency
        self.pages = pages
        self.failed = failed
        self.records = records
        self.bytes = bytes
        self.elapsed = elapsed
    }

    /// Pages crawled without failure.
    public var succeeded: Int { pages - failed }

    /// ``elapsed`` in seconds.
    public var seconds: Double { elapsed.crawlSeconds }

    /// Pages per second; 0 for a crawl that took no measurable time.
    public var pagesPerSecond: Double { seconds > 0 ? Double(pages) / seconds : 0 }

    /// The exit status `spindle crawl` ends with: 0 when at least one page was crawled, 1 when
    /// nothing could be (every page failed, or there were none). Failures of some pages are
    /// reported on standard error but do not fail the command. A frontier crawl counts the
    /// pages its state holds done, so a resumed run with nothing left still succeeds.
    public var exitStatus: Int32 {
        if let state { return state.done > 0 ? 0 : 1 }
        return succeeded > 0 ? 0 : 1
    }

    /// One line for people: `50 pages (49 crawled, 1 failed), 980 records in 0.53 s: 94.3 pages/s
    /// [async, concurrency 16]`; a frontier crawl adds its retries, how it ended and its state.
    public var text: String {
        guard let ending, let state else {
            return "\(pages) \(pages == 1 ? "page" : "pages") (\(succeeded) crawled, \(failed) failed), \(records) records in "
                + String(format: "%.2f s: %.1f pages/s", seconds, pagesPerSecond)
                + " [\(engine.rawValue), concurrency \(concurrency)]"
        }
        return "\(pages) pages (\(succeeded) done, \(failed) failed, \(retries ?? 0) retries), \(records) records in "
            + String(format: "%.2f s", seconds) + " [\(ending.rawValue)]; state: \(state)"
    }

    /// The summary as one JSON object, keys sorted (Foundation's encoder keeps no other order).
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The JSON keys.
    public enum CodingKeys: String, CodingKey {
        case engine, ending, concurrency, pages, succeeded, failed, retries, records, bytes, seconds
        case pagesPerSecond = "pages_per_second"
        case pending, done
        case peakResidentMegabytes = "peak_rss_mb"
    }

    /// Writes `seconds` to 4 decimals, rates and memory to 2 and 1, and the frontier's keys
    /// only for a frontier crawl.
    public func encode(to encoder: any Encoder) throws {
        func rounded(_ value: Double, _ digits: Double) -> Double? {
            value.isFinite ? (value * digits).rounded() / digits : nil
        }
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(engine.rawValue, forKey: .engine)
        try container.encodeIfPresent(ending?.rawValue, forKey: .ending)
        try container.encode(concurrency, forKey: .concurrency)
        try container.encode(pages, forKey: .pages)
        try container.encode(succeeded, forKey: .succeeded)
        try container.encode(failed, forKey: .failed)
        try container.encodeIfPresent(retries, forKey: .retries)
        try container.encode(records, forKey: .records)
        try container.encode(bytes, forKey: .bytes)
        try container.encode(rounded(seconds, 10_000), forKey: .seconds)
        try container.encode(rounded(pagesPerSecond, 100), forKey: .pagesPerSecond)
        try container.encodeIfPresent(state?.pending, forKey: .pending)
        try container.encodeIfPresent(state?.done, forKey: .done)
        try container.encodeIfPresent(peakResidentMegabytes.flatMap { rounded($0, 10) }, forKey: .peakResidentMegabytes)
    }

    /// Reads what ``encode(to:)`` wrote (the state's counts other than pending and done read 0).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let engineName = try container.decode(String.self, forKey: .engine)
        guard let engine = CrawlEngineKind(rawValue: engineName) else {
            throw DecodingError.dataCorruptedError(forKey: .engine, in: container, debugDescription: "no engine named '\(engineName)'")
        }
        let seconds = try container.decodeIfPresent(Double.self, forKey: .seconds) ?? 0
        self.init(
            engine: engine, concurrency: try container.decode(Int.self, forKey: .concurrency),
            pages: try container.decode(Int.self, forKey: .pages), failed: try container.decode(Int.self, forKey: .failed),
            records: try container.decode(Int.self, forKey: .records), bytes: try container.decode(Int.self, forKey: .bytes),
            elapsed: .nanoseconds(Int64((seconds.isFinite ? min(max(seconds, 0), 1e9) : 0) * 1e9)))
        ending = try container.decodeIfPresent(String.self, forKey: .ending).flatMap(CrawlEnding.init(rawValue:))
        retries = try container.decodeIfPresent(Int.self, forKey: .retries)
        if let pending = try container.decodeIfPresent(Int.self, forKey: .pending), let done = try container.decodeIfPresent(Int.self, forKey: .done) {
            state = FrontierStatus(pending: pending, done: done)
        }
        peakResidentMegabytes = try container.decodeIfPresent(Double.self, forKey: .peakResidentMegabytes)
    }
}

/// The process's memory high-water mark.
public enum ProcessMemory {
    /// The most resident memory this process has used, in MiB: `VmHWM` from
    /// `/proc/self/status`, or `ru_maxrss` where there is no `/proc`. Nil if neither is readable.
    public static func peakResidentMegabytes() -> Double? {
        if let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) {
            for line in status.split(separator: "\n") where line.hasPrefix("VmHWM:") {
                let digits = line.dropFirst("VmHWM:".count).filter(\.isNumber)
                if let kilobytes = Double(String(digits)) { return kilobytes / 1024 }
            }
        }
        var usage = rusage()
        #if os(Linux)
        guard getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &usage) == 0 else { return nil }
        return Double(usage.ru_maxrss) / 1024  // kilobytes on Linux
        #else
        guard getrusage(RUSAGE_SELF, &usage) == 0 else { return nil }
        return Double(usage.ru_maxrss) / (1024 * 1024)  // bytes on Darwin
        #endif
    }
}
