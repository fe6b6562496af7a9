import Foundation
import Logging
import Spindle
import NIOConcurrencyHelpers

extension CrawlSession {
    /// Crawls into `frontier` from `seeds` (known ones are skipped, so a resumed crawl passes them
    /// again), writing each page's records to ``output`` as it is stored.
    ///
    /// With an ``SQLiteFrontier`` and a file output, the file ends holding every record of the
    /// crawl once, however earlier runs stopped: the records the state already holds are written
    /// first (a killed run may not have written its last ones out), this run's as their pages
    /// are stored. With ``trapsSignals``, the first SIGINT or SIGTERM finishes the pages in
    /// flight, the second stops at once; the frontier stays resumable either way.
    ///
    /// - Throws: ``CrawlInputError`` for options out of range or an output that cannot be
    ///   opened; what the frontier or the output throws.
    public func run(
        frontier: any Frontier, seeds: [FrontierEntry], options: FrontierCrawlOptions, fetch: FetchConfiguration = .init()
    ) async throws -> Result {
        try options.validate()
        if let sqlite = frontier as? SQLiteFrontier, sqlite.recoveredLeases > 0, !quiet {
            logger.notice("resuming \(sqlite.path): \(sqlite.recoveredLeases) URLs a stopped crawl had in flight are pending again")
        }
        let records = try openRecords(options.extraction.shape)
        if output != "-", frontier is SQLiteFrontier {
            do {
                _ = try await Self.writeStoredRecords(of: frontier, to: records)
            } catch {
                try? records.finish()
                throw error
            }
        }
        // The progress line counts this run's work: what the state has left, and what is found.
        _ = try await frontier.add(seeds)
        let left = try await frontier.status()
        let progress = CrawlProgress(total: left.pending + left.leased)
        let progressLine = ProgressLine(progress: progress, enabled: showsProgress)
        let stop = CrawlStopSignal()
        let signals = trapsSignals ? trapSignals(stop: stop, progressLine: progressLine) : nil
        defer { signals?.cancel() }

        let outputError = NIOLockedValueBox<(any Error)?>(nil)
        let observer = observer(records: records, progress: progress, progressLine: progressLine) { error in
            let first = outputError.withLockedValue { stored in
                defer { if stored == nil { stored = error } }
                return stored == nil
            }
            if first { stop.requestStop() }
        }
        progress.markStarted()
        progressLine.start()
        let run: FrontierCrawlSummary
        do {
            run = try await withFetcher(options.fetchConfiguration(fetch)) { fetcher in
                try await FrontierCrawl(frontier: frontier, fetcher: fetcher, options: options).run(seeds: seeds, stop: stop, observer: observer)
            }
        } catch {
            progress.markFinished()
            progressLine.stop()
            try? records.finish()
            throw error
        }
        progress.markFinished()
        progressLine.stop()
        try records.finish()
        if let error = outputError.withLockedValue({ $0 }) { throw error }

        let summary = CrawlSummary(run, engine: options.engine, concurrency: options.concurrency, state: try await frontier.status())
        if !quiet {
            FileHandle.standardError.write(Data("crawled \(summary.text)\n".utf8))
        }
        return Result(summary: summary, signal: run.ending == .finished ? nil : signals?.received)
    }

    /// What the session does with each event of a frontier crawl: records to the output,
    /// counts to the progress line, failures, retries and notes to the log.
    private func observer(
        records: any RecordSink, progress: CrawlProgress, progressLine: ProgressLine, outputFailed: @escaping @Sendable (any Error) -> Void
    ) -> @Sendable (FrontierCrawlEvent) -> Void {
        let logger = logger
        let quiet = quiet
        return { event in
            switch event {
            case .done(_, let pageRecords, let bytes, let added):
                progress.addToTotal(added)
                progress.recordPage(failed: false, records: pageRecords.count, bytes: bytes)
                guard !pageRecords.isEmpty else { return }
                do {
                    try records.write(pageRecords)
                } catch {
                    outputFailed(error)
                }
            case .failed(let url, let reason):
                progress.recordPage(failed: true)
                progressLine.withLineCleared { logger.warning("failed \(url): \(reason)") }
            case .retrying(let url, let reason, let notBefore):
                guard !quiet else { return }
                progressLine.withLineCleared {
                    logger.info("retrying \(url) in \(String(format: "%.1f", max(0, notBefore.timeIntervalSinceNow))) s: \(reason)")
                }
            case .note(let note):
                guard !quiet else { return }
                progressLine.withLineCleared { logger.notice("\(note)") }
            case .attempt:
                break
            }
        }
    }

    /// SIGINT and SIGTERM raise `stop` one level each, with a line saying what happens.
    private func trapSignals(stop: CrawlStopSignal, progressLine: ProgressLine) -> SignalTrap {
        let logger = logger
        return SignalTrap(signals: [SIGINT, SIGTERM]) { number in
            let name = number == SIGINT ? "interrupt" : "SIGTERM"
            let level = stop.requestStop()
            progressLine.withLineCleared {
                if level == .graceful {
                    logger.notice("\(name): finishing the pages in flight, then stopping (again to stop at once; the crawl resumes from its state)")
                } else {
                    logger.notice("\(name) again: stopping now (the crawl resumes from its state)")
                }
            }
        }
    }
}
