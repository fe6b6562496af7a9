import Foundation
import SpindleCrawler
import SpindleServer
import Testing

/// `spindle crawl` as a user runs it: the built executable, against a site in this process.
@Suite("spindle crawl (the executable)")
struct CrawlCommandTests {
    @Test("records of the selected links go to standard output as JSON Lines; exit 0; no progress line off a terminal")
    func crawlsToStandardOutput() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 3)) { site in
            let urls = (1...3).map { site.listPageURL($0).absoluteString }
            let run = try await SpindleExecutable.run(["crawl", "--select", "a.post-item-title", "--concurrency", "2"] + urls)
            #expect(run.status == 0)
            let records = try run.standardOutput.split(separator: "\n").map { line in
                try JSONDecoder().decode(CrawlRecord.self, from: Data(line.utf8))
            }
            #expect(Set(records.compactMap(LinkRecord.init)) == Set(site.expectedRecords(forPages: 1...3).map(LinkRecord.init)))
            #expect(records.count == 60)
            #expect(!run.standardError.contains("\r"), "no progress line when standard error is a pipe")
            #expect(run.standardError.contains("crawled 3 pages (3 done, 0 failed, 0 retries), 60 records"))
        }
    }

    @Test("--output file.csv with --json-summary: CSV in the file, the summary alone on standard output")
    func csvFileAndSummary() async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 2)) { site in
            let path = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-\(UUID().uuidString).csv").path
            defer { try? FileManager.default.removeItem(atPath: path) }
            let run = try await SpindleExecutable.run([
                "crawl", "--engine", "pipeline", "--select", "a.post-item-title", "--output", path, "--json-summary", "--quiet",
                site.listPageURL(1).absoluteString, site.listPageURL(2).absoluteString,
            ])
            #expect(run.status == 0)
            #expect(run.standardError.isEmpty, "--quiet: \(run.standardError)")
            let summary = try #require(try JSONSerialization.jsonObject(with: Data(run.standardOutput.utf8)) as? [String: Any])
            #expect(summary["engine"] as? String == "pipeline")
            #expect(summary["pages"] as? Int == 2)
            #expect(summary["records"] as? Int == 40)
            #expect((summary["peak_rss_mb"] as? Double ?? 0) > 0)
            let csv = try String(contentsOfFile: path, encoding: .utf8)
            let rows = csv.components(separatedBy: "\r\n").filter { !$0.isEmpty }
            #expect(rows.first == "page,href,text")
            #expect(rows.count == 41)
        }
    }

    @Test("failed URLs are reported one line each with their reason; exit 0 while anything was crawled, 1 when nothing was")
    func exitStatusRule() async throws {
        let closedPort = try EngineTestSupport.closedPort()
        defer { withExtendedLifetime(closedPort) {} }
        let closed = EngineTestSupport.closedURL(closedPort)
        try await withBlogSite(BlogSiteConfiguration(pages: 1)) { site in
            let missing = site.url(path: "/sitehome/p/7").absoluteString
            let partly = try await SpindleExecutable.run(["crawl", site.listPageURL(1).absoluteString, missing, closed.absoluteString])
            #expect(partly.status == 0)
            #expect(partly.standardError.contains("failed \(missing): HTTP 404 Not Found"))
            #expect(partly.standardError.contains("failed \(closed.absoluteString): connectionFailed: "))
            #expect(partly.standardOutput.split(separator: "\n").count == 1, "one page record")

            let nothing = try await SpindleExecutable.run(["crawl", "--engine", "threads", missing, closed.absoluteString])
            #expect(nothing.status == 1)
            #expect(nothing.standardOutput.isEmpty)
            #expect(nothing.standardError.contains("0 done, 2 failed"))
        }
    }

    @Test("bad arguments exit 64 with a message naming the problem", arguments: [
        (["crawl", "--concurrency", "0", "http://127.0.0.1:1/"], "concurrency must be between 1 and 1000, got 0"),
        (["crawl", "--engine", "warp", "http://127.0.0.1:1/"], "The value 'warp' is invalid for '--engine <engine>'"),
        (["crawl", "ftp://127.0.0.1/"], "'ftp://127.0.0.1/' is not an http(s) URL"),
        (["crawl", "--select", "a[href", "http://127.0.0.1:1/"], #"invalid selector "a[href": expected "]" at position 7"#),
        (["crawl", "--output", "/nonexistent-dir/out.csv", "http://127.0.0.1:1/"], "cannot write '/nonexistent-dir/out.csv': No such file or directory"),
        (["crawl", "--output", "out.txt", "http://127.0.0.1:1/"], "cannot tell the format of 'out.txt'"),
        (["crawl"], "give at least one URL to crawl"),
        (["crawl", "--urls-from", "/nonexistent-dir/urls.txt"], "cannot read '/nonexistent-dir/urls.txt': No such file or directory"),
        (["crawl", "--parsers", "100", "http://127.0.0.1:1/"], "parsers must be between 1 and 64, got 100"),
    ])
    func badArguments(arguments: [String], message: String) async throws {
        let run = try await SpindleExecutable.run(arguments)
        #expect(run.status == 64)
        #expect(run.standardError.contains(message), "stderr: \(run.standardError)")
        #expect(run.standardOutput.isEmpty)
    }
}

/// The `spindle` executable next to the test bundle, run with a time limit.
enum SpindleExecutable {
    struct Run {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    static var url: URL {
        URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("spindle")
    }

    /// Runs `spindle arguments`, killing it (by its PID) if it outlives `timeout`.
    static func run(_ arguments: [String], timeout: Duration = .seconds(60)) async throws -> Run {
        guard FileManager.default.isExecutableFile(atPath: url.path) else {
            throw Missing(description: "no spindle executable at \(url.path): build it with `swift build --product spindle`")
        }
        let process = Process()
        process.executableURL = url
        process.arguments = arguments
        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = FileHandle.nullDevice
        let exited = AsyncStream.makeStream(of: Void.self)
        process.terminationHandler = { _ in exited.continuation.finish() }
        try process.run()
        let pid = process.processIdentifier
        // Pipes are drained on threads of their own: blocking reads on the cooperative pool
        // would starve the site this process serves to the child.
        let outputData = PipeDrain(output.fileHandleForReading)
        let errorData = PipeDrain(errors.fileHandleForReading)
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        for await _ in exited.stream {}
        watchdog.cancel()
        process.waitUntilExit()
        let run = Run(
            status: process.terminationStatus,
            standardOutput: String(decoding: await outputData.data(), as: UTF8.self),
            standardError: String(decoding: await errorData.data(), as: UTF8.self))
        if process.terminationReason == .uncaughtSignal {
            Issue.record("spindle \(arguments.joined(separator: " ")) was killed by signal \(run.status) (time limit \(timeout))")
        }
        return run
    }
}

/// Reads a pipe to its end on a thread of its own.
private final class PipeDrain: @unchecked Sendable {
    private let lock = NSLock()
    private var result: Data?
    private var waiter: CheckedContinuation<Data, Never>?

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            let data = handle.readDataToEndOfFile()
            let waiting: CheckedContinuation<Data, Never>? = lock.withLock {
                result = data
                defer { waiter = nil }
                return waiter
            }
            waiting?.resume(returning: data)
        }
    }

    /// Everything read, once the writer closed the pipe.
    func data() async -> Data {
        await withCheckedContinuation { continuation in
            let ready: Data? = lock.withLock {
                if let result { return result }
                waiter = continuation
                return nil
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }
}
