import Foundation
import SpindleCrawler
import SpindleServer

extension TourSections {
    static let resumableCrawl = TourSection(title: "A crawl that survives being stopped: the SQLite frontier") { tour in
        tour.say("""
            The course's crawlers start from a fixed list and keep nothing: stop one and its work \
            is gone. `spindle crawl --state crawl.sqlite --follow SELECTOR` keeps every URL it has \
            seen (pending, leased, done or failed, with its records) in SQLite, commits each \
            page's records and the links found on it in one transaction, and follows links within \
            the seed's host. Ctrl-C or SIGTERM finishes the pages in flight and hands the other \
            leases back; a second signal, or kill -9, stops at once and the next run takes the \
            leases over. Run the same command again and it goes on where it stopped. Here a crawl \
            of a local site is stopped with SIGTERM half-way, then resumed.
            """)
        let pages = tour.quick ? 10 : 25
        let site = try await BlogSite.start(BlogSiteConfiguration(pages: pages, postsPerPage: 19, latency: .milliseconds(20)))
        defer { Task { await site.stop() } }
        let total = pages * 20
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-tour-resume-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let state = folder.appendingPathComponent("crawl.sqlite").path
        let command = [
            "crawl", "--state", state, "--follow", "a.post-item-title, a.p_next", "--select", "a.post-item-title",
            "--concurrency", "8", "--per-host", "8", "--quiet", "--output", folder.appendingPathComponent("run.jsonl").path,
            site.listPageURL(1).absoluteString,
        ]
        tour.line("  $ spindle \(command.map { $0.contains(" ") ? "'\($0)'" : $0 }.joined(separator: " "))")

        let first = try SpindleChild(command)
        let deadline = ContinuousClock.now + .seconds(60)
        while site.requestLog.totalRequests < total / 2 {
            guard first.isRunning, ContinuousClock.now < deadline else {
                first.signal(SIGKILL)
                throw TourCheckFailed("the crawl ended or stalled before fetching half of the site's \(total) pages")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
        first.signal(SIGTERM)
        let firstStatus = await first.exitStatus()
        let fetchedBeforeStop = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }.count
        let stopped = try await stateStatus(state, in: folder)
        tour.line("  SIGTERM after \(fetchedBeforeStop) of \(total) pages: exit status \(firstStatus) (128 + SIGTERM)")
        tour.line("  state: \(stopped)")
        guard firstStatus == 128 + SIGTERM else { throw TourCheckFailed("the stopped crawl exited with \(firstStatus), not 128 + SIGTERM") }
        guard stopped.contains("leased 0,") else { throw TourCheckFailed("the stopped crawl left URLs leased: \(stopped)") }

        let (resumedStatus, elapsed) = try await tour.time { try await SpindleChild.run(command) }
        let finished = try await stateStatus(state, in: folder)
        tour.line("  the same command again: exit status \(resumedStatus) in \(tour.format(elapsed))")
        tour.line("  state: \(finished)")
        guard resumedStatus == 0 else { throw TourCheckFailed("the resumed crawl exited with \(resumedStatus)") }

        let export = folder.appendingPathComponent("export.jsonl").path
        guard try await SpindleChild.run(["crawl", "--state", state, "--export", export, "--quiet"]) == 0 else {
            throw TourCheckFailed("spindle crawl --export failed")
        }
        let records = try String(contentsOfFile: export, encoding: .utf8).split(separator: "\n").map { line in
            try JSONDecoder().decode(CrawlRecord.self, from: Data(line.utf8))
        }
        let got = records.compactMap(SiteLink.init)
        let expected = Set(site.expectedRecords(forPages: 1...pages).map(SiteLink.init))
        let byPath = site.requestLog.snapshot().requestsByPath.filter { $0.key != "/robots.txt" }
        let twice = byPath.values.filter { $0 > 1 }.count
        tour.line("  --export: \(got.count) records, expected \(expected.count), duplicates \(got.count - Set(got).count); the site saw \(byPath.count) pages, \(twice) of them more than once")
        guard Set(got) == expected, got.count == expected.count else {
            throw TourCheckFailed("the resumed crawl's export lost or repeated records")
        }
        guard byPath.count == total, twice == 0 else {
            throw TourCheckFailed("a graceful stop should lose nothing and fetch each page once: \(byPath.count) pages, \(twice) fetched again")
        }
    }
}

/// `spindle crawl --state STATE --status`'s first line.
private func stateStatus(_ state: String, in folder: URL) async throws -> String {
    let output = folder.appendingPathComponent("status.txt").path
    guard try await SpindleChild.run(["crawl", "--state", state, "--status"], outputPath: output) == 0 else {
        throw TourCheckFailed("spindle crawl --status failed: \((try? String(contentsOfFile: output, encoding: .utf8)) ?? "")")
    }
    return try String(contentsOfFile: output, encoding: .utf8).split(separator: "\n").first.map(String.init) ?? ""
}
