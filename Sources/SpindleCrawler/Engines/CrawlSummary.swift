import Foundation

/// What a finished crawl came to: pages, failures, records and speed.
public struct CrawlSummary: Sendable, Equatable {
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
    /// reported on standard error but do not fail the command.
    public var exitStatus: Int32 { succeeded > 0 ? 0 : 1 }

    /// One line for people: `50 pages (49 crawled, 1 failed), 980 records in 0.53 s: 94.3 pages/s
    /// [async, concurrency 16]`.
    public var text: String {
        "\(pages) \(pages == 1 ? "page" : "pages") (\(succeeded) crawled, \(failed) failed), \(records) records in "
            + String(format: "%.2f s: %.1f pages/s", seconds, pagesPerSecond)
            + " [\(engine.rawValue), concurrency \(concurrency)]"
    }

    /// One JSON object, keys in a fixed order; `peak_rss_mb` is included when given.
    public func jsonText(peakResidentMegabytes: Double? = nil) -> String {
        var fields = [
            "\"engine\":\(CrawlRecord.quoted(engine.rawValue))",
            "\"concurrency\":\(concurrency)",
            "\"pages\":\(pages)",
            "\"succeeded\":\(succeeded)",
            "\"failed\":\(failed)",
            "\"records\":\(records)",
            "\"bytes\":\(bytes)",
            "\"seconds\":\(Self.decimal(seconds, digits: 4))",
            "\"pages_per_second\":\(Self.decimal(pagesPerSecond, digits: 2))",
        ]
        if let peakResidentMegabytes {
            fields.append("\"peak_rss_mb\":\(Self.decimal(peakResidentMegabytes, digits: 1))")
        }
        return "{" + fields.joined(separator: ",") + "}"
    }

    private static func decimal(_ value: Double, digits: Int) -> String {
        value.isFinite ? String(format: "%.\(digits)f", value) : "null"
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
