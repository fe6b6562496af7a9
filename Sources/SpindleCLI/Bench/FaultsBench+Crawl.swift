import Foundation
import SpindleCrawler
import SpindleServer

extension FaultsBench {
    /// The crawl of the fault figures: 50 list pages × (1 + 19 posts) = 1,000 pages, each
    /// answered after `latency`, so a crawl lasts long enough to be killed at many moments.
    private static func faultSite(latency: Duration) -> BlogSiteConfiguration {
        BlogSiteConfiguration(pages: 50, postsPerPage: 19, latency: latency)
    }

    private static let follow = "a.post-item-title, a.p_next"
    private static let concurrency = 8

    /// faults.crawl.sigkill_resume: a `--state` crawl with `--follow` and `-o`, SIGKILLed at
    /// `kills` random moments (after a random number of the site's pages were fetched), each
    /// time run again with the same command, then run to the end. Value: records missing or
    /// duplicated in the state's export and in the output file.
    static func crawlResumeFigure(kills: Int = 5) async throws -> BenchFigure {
        let site = try await BlogSite.start(faultSite(latency: .milliseconds(5)))
        defer { Task { await site.stop() } }
        let folder = try FaultFolder("crawl")
        let state = folder.path("crawl.sqlite")
        let output = folder.path("out.jsonl")
        let command = [
            "crawl", "--state", state, "--follow", follow, "--select", "a.post-item-title", "--concurrency", String(concurrency),
            "--per-host", String(concurrency), "--quiet", "-o", output, site.listPageURL(1).absoluteString,
        ]
        let total = site.configuration.pages * (site.configuration.postsPerPage + 1)
        // The moments, as counts of requests the site has answered, spread over the crawl.
        let moments = (0..<kills).map { _ in Int.random(in: 20..<(total - 20)) }.sorted()
        let start = ContinuousClock.now
        var killed = 0
        for moment in moments {
            let child = try SpindleChild(command)
            let reached = try await waitUntil(child: child) { site.requestLog.totalRequests >= moment }
            child.signal(SIGKILL)
            let status = await child.exitStatus()
            if reached && status == SIGKILL { killed += 1 }
        }
        let finalStatus = try await SpindleChild.run(command, outputPath: folder.path("final.log"))
        guard finalStatus == 0 else {
            throw Failure("the last run of the crawl exited with \(finalStatus): \(folder.contents("final.log"))")
        }
        let elapsed = ContinuousClock.now - start

        let export = folder.path("export.jsonl")
        guard try await SpindleChild.run(["crawl", "--state", state, "--export", export, "--quiet"]) == 0 else {
            throw Failure("spindle crawl --export failed")
        }
        let expected = site.expectedRecords().map(SiteLink.init)
        let exported = try RecordCount(file: export, expected: expected)
        let written = try RecordCount(file: output, expected: expected)
        let byPath = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
        let refetched = byPath.values.reduce(0) { $0 + max(0, $1 - 1) }
        guard byPath.count == total else {
            throw Failure("the crawl fetched \(byPath.count) of the site's \(total) pages")
        }
        return BenchFigure(
            name: "faults.crawl.sigkill_resume", unit: "records lost or repeated",
            value: Double(exported.missing + exported.duplicated + written.missing + written.duplicated), direction: .lowerIsBetter,
            extra: [
                ("pages", Double(total)), ("kills", Double(killed)),
                ("export_missing", Double(exported.missing)), ("export_duplicated", Double(exported.duplicated)),
                ("output_missing", Double(written.missing)), ("output_duplicated", Double(written.duplicated)),
                ("refetched_pages", Double(refetched)), ("in_flight_at_kills_max", Double(killed * concurrency)),
                ("elapsed_s", elapsed.seconds),
            ])
    }

    /// faults.shared_crawl.worker_and_server_loss: three workers share a crawl in PostgreSQL;
    /// one is SIGKILLed a third of the way in and the server is restarted two thirds of the way
    /// in. The same crawl without faults runs first, for `elapsed_s` against `clean_elapsed_s`.
    /// Value: records missing or duplicated in the crawl's export.
    static func sharedCrawlFigure(postgresURL: String, dataDirectory: String) async throws -> BenchFigure {
        let site = try await BlogSite.start(faultSite(latency: .milliseconds(10)))
        defer { Task { await site.stop() } }
        let folder = try FaultFolder("shared")
        let total = site.configuration.pages * (site.configuration.postsPerPage + 1)
        let expected = site.expectedRecords().map(SiteLink.init)

        func workerCommand(_ crawlID: String, _ worker: Int) -> [String] {
            [
                "crawl", "--frontier", postgresURL, "--crawl-id", crawlID, "--worker-id", "\(crawlID)-\(worker)", "--lease", "5s",
                "--follow", follow, "--select", "a.post-item-title", "--concurrency", String(concurrency),
                "--per-host", String(3 * concurrency), "--quiet", "-o", folder.path("\(crawlID)-\(worker).jsonl"),
                site.listPageURL(1).absoluteString,
            ]
        }
        func export(_ crawlID: String) async throws -> RecordCount {
            let path = folder.path("\(crawlID)-export.jsonl")
            let status = try await SpindleChild.run(
                ["crawl", "--frontier", postgresURL, "--crawl-id", crawlID, "--export", path, "--quiet"], outputPath: folder.path("export.log"))
            guard status == 0 else { throw Failure("spindle crawl --export failed: \(folder.contents("export.log"))") }
            return try RecordCount(file: path, expected: expected)
        }

        // Without faults.
        let cleanID = "faults-clean-\(UUID().uuidString.prefix(8))"
        let cleanStart = ContinuousClock.now
        let clean = try (1...3).map { try SpindleChild(workerCommand(cleanID, $0), outputPath: folder.path("\(cleanID)-\($0).log")) }
        for child in clean {
            let status = await child.exitStatus()
            guard status == 0 else { throw Failure("a worker of the crawl without faults exited with \(status)") }
        }
        let cleanElapsed = ContinuousClock.now - cleanStart
        guard try await export(cleanID).isExact else { throw Failure("the crawl without faults lost or repeated records") }

        // With a worker killed and the server restarted.
        let faultID = "faults-\(UUID().uuidString.prefix(8))"
        let before = site.requestLog.snapshot().requestsByPath
        let faultStart = ContinuousClock.now
        let workers = try (1...3).map { try SpindleChild(workerCommand(faultID, $0), outputPath: folder.path("\(faultID)-\($0).log")) }
        let base = site.requestLog.totalRequests
        guard try await waitUntil(child: workers[0], { site.requestLog.totalRequests - base >= total / 3 }) else {
            throw Failure("the shared crawl ended before a third of its pages")
        }
        workers[0].signal(SIGKILL)
        _ = await workers[0].exitStatus()
        guard try await waitUntil(child: workers[1], { site.requestLog.totalRequests - base >= 2 * total / 3 }) else {
            throw Failure("the shared crawl ended before two thirds of its pages")
        }
        try await PostgresServer.restart(dataDirectory: dataDirectory)
        for (index, worker) in workers.dropFirst().enumerated() {
            let status = await worker.exitStatus()
            guard status == 0 else {
                throw Failure("worker \(index + 2) exited with \(status) after the faults: \(folder.contents("\(faultID)-\(index + 2).log"))")
            }
        }
        let faultElapsed = ContinuousClock.now - faultStart
        let exported = try await export(faultID)
        let after = site.requestLog.snapshot().requestsByPath
        let refetched = after.reduce(0) { sum, entry in
            entry.key == "/robots.txt" ? sum : sum + max(0, entry.value - (before[entry.key] ?? 0) - 1)
        }
        return BenchFigure(
            name: "faults.shared_crawl.worker_and_server_loss", unit: "records lost or repeated",
            value: Double(exported.missing + exported.duplicated), direction: .lowerIsBetter,
            extra: [
                ("pages", Double(total)), ("workers", 3), ("missing", Double(exported.missing)), ("duplicated", Double(exported.duplicated)),
                ("refetched_pages", Double(refetched)), ("in_flight_at_kill_max", Double(concurrency)),
                ("elapsed_s", faultElapsed.seconds), ("clean_elapsed_s", cleanElapsed.seconds),
            ])
    }

    /// Polls `condition` every 2 ms while `child` runs, for at most 5 minutes; false if the child
    /// ended first.
    private static func waitUntil(child: SpindleChild, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(300)
        while !condition() {
            guard child.isRunning else { return false }
            guard ContinuousClock.now < deadline else {
                child.signal(SIGKILL)
                throw Failure("spindle \(child.arguments.prefix(2).joined(separator: " ")) made no progress for 5 minutes")
            }
            try await Task.sleep(for: .milliseconds(2))
        }
        return true
    }
}

/// How a file of JSON Lines records compares with the records a site holds.
private struct RecordCount {
    var missing: Int
    var duplicated: Int

    var isExact: Bool { missing == 0 && duplicated == 0 }

    /// Counts the expected records absent from `file`, and the lines beyond one per record (a
    /// repeated record, or one the site does not hold).
    init(file: String, expected: [SiteLink]) throws {
        let lines = try String(contentsOfFile: file, encoding: .utf8).split(separator: "\n")
        let records = lines.compactMap { try? JSONDecoder().decode(CrawlRecord.self, from: Data($0.utf8)) }.compactMap(SiteLink.init)
        let wanted = Set(expected)
        let distinctWanted = Set(records).intersection(wanted)
        missing = wanted.count - distinctWanted.count
        duplicated = lines.count - distinctWanted.count
    }
}

/// A temporary folder for one fault run, removed at the end.
private final class FaultFolder {
    let url: URL

    init(_ name: String) throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-faults-\(name)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    func contents(_ name: String) -> String { (try? String(contentsOfFile: path(name), encoding: .utf8)) ?? "" }

    deinit { try? FileManager.default.removeItem(at: url) }
}

/// The PostgreSQL server of `spindle bench faults --frontier`, restarted with its own `pg_ctl`.
private enum PostgresServer {
    /// Restarts the server whose data folder is `dataDirectory` (fast shutdown, then start with
    /// the same options), as the folder's owner.
    static func restart(dataDirectory: String) async throws {
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: "/usr/lib/postgresql")) ?? []
        guard let version = versions.sorted(by: { $0.compare($1, options: .numeric) == .orderedAscending }).last else {
            throw FaultsBench.Failure("cannot restart PostgreSQL: no pg_ctl under /usr/lib/postgresql")
        }
        let command = "/usr/lib/postgresql/\(version)/bin/pg_ctl -D '\(dataDirectory)' -l '\(dataDirectory)/restart.log' -m fast -w restart >/dev/null 2>&1 </dev/null"
        // pg_ctl refuses to run as root: run it as the data folder's owner.
        let owner = (try? FileManager.default.attributesOfItem(atPath: dataDirectory)[.ownerAccountName] as? String) ?? nil
        let arguments = getuid() == 0 && owner != nil && owner != "root"
            ? ["/bin/su", owner!, "-s", "/bin/sh", "-c", command]
            : ["/bin/sh", "-c", command]
        let log = URL(fileURLWithPath: dataDirectory).appendingPathComponent("restart.log")
        let ready = "database system is ready to accept connections"
        func readyCount() -> Int {
            ((try? String(contentsOf: log, encoding: .utf8)) ?? "").components(separatedBy: ready).count - 1
        }
        let before = readyCount()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        // The server's log says when it is back. `su` can linger after pg_ctl is done, so its
        // end is not waited for: it is stopped by its PID once the server is up.
        let deadline = ContinuousClock.now + .seconds(60)
        while readyCount() <= before {
            guard ContinuousClock.now < deadline else {
                if process.isRunning { kill(process.processIdentifier, SIGTERM) }
                throw FaultsBench.Failure("PostgreSQL did not come back within 60 s of pg_ctl restart (\(log.path))")
            }
            try await Task.sleep(for: .milliseconds(20))
        }
        if process.isRunning { kill(process.processIdentifier, SIGTERM) }
    }
}
