import Foundation

extension TourSections {
    static let faults = TourSection(title: "What survives a kill -9: the pool and the crawl under faults") { tour in
        tour.say("""
            Python's ProcessPoolExecutor breaks for good when one worker dies (BrokenProcessPool), \
            and the course's crawlers lose everything when stopped. Spindle's process pool watches \
            each worker (a pidfd): one killed while idle is replaced at once, a task it never read \
            goes to another worker, and only a task that was running when its worker died fails. \
            Here workers are SIGKILLed every 50 ms while short jobs run. Then a `--state` crawl \
            with `-o` is killed with SIGKILL at random moments and run again each time: the state's \
            export and the output file must hold every record exactly once. \
            `spindle bench faults` measures these and more (docs/performance.md, "Faults").
            """)
        let jobs = tour.quick ? 2_000 : 10_000
        let pool = try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread { continuation.resume(with: Result { try FaultsBench.sigkillFigure(jobs: jobs) }) }
        }
        let poolFields = Dictionary(pool.extra, uniquingKeysWith: { first, _ in first })
        tour.line("  process pool: \(jobs) jobs, \(Int(poolFields["kills"] ?? 0)) SIGKILLs (\(Int(poolFields["kills_busy"] ?? 0)) of a busy worker): "
            + "\(Int(pool.value)) lost, \(Int(poolFields["failed"] ?? 0)) failed, \(Int(poolFields["duplicates"] ?? 0)) run twice; "
            + "a worker replaced in \(String(format: "%.1f", poolFields["replace_p99_ms"] ?? 0)) ms (p99); "
            + "\(String(format: "%.0f", 100 * (poolFields["throughput_kept"] ?? 0)))% of the throughput kept")
        guard pool.value == 0, (poolFields["duplicates"] ?? 1) == 0, (poolFields["failed"] ?? 1) <= (poolFields["kills_busy"] ?? 0) else {
            throw TourCheckFailed("the process pool lost jobs, ran one twice, or failed more jobs than busy workers were killed")
        }

        let crawl = try await FaultsBench.crawlResumeFigure(kills: tour.quick ? 2 : 5)
        let crawlFields = Dictionary(crawl.extra, uniquingKeysWith: { first, _ in first })
        tour.line("  crawl of \(Int(crawlFields["pages"] ?? 0)) pages, SIGKILLed \(Int(crawlFields["kills"] ?? 0)) times and resumed: "
            + "\(Int(crawl.value)) records lost or repeated in the export and -o; "
            + "\(Int(crawlFields["refetched_pages"] ?? 0)) pages fetched again (at most \(Int(crawlFields["in_flight_at_kills_max"] ?? 0)) were in flight)")
        guard crawl.value == 0, (crawlFields["refetched_pages"] ?? 1) <= (crawlFields["in_flight_at_kills_max"] ?? 0) else {
            throw TourCheckFailed("the killed crawl lost or repeated records, or fetched again more than the pages in flight")
        }
    }
}
