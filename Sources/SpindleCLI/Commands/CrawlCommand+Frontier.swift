import ArgumentParser
import Foundation
import Logging
import SpindleCrawler
import Synchronization

/// `spindle crawl` with a frontier: `--state`, link following, politeness, retries, resume,
/// `--export` and `--status`.
extension CrawlCommand {
    func validateFrontierCrawl() throws {
        guard frontierArguments.isFrontierCrawl else { return }
        if let state = frontierArguments.state, state != ":memory:" {
            let stateFiles = SQLiteFrontier.files(ofStateAt: state)
            for (option, path) in [("--output", output), ("--export", frontierArguments.export ?? "-")]
            where path != "-" && stateFiles.contains(where: { FileIdentity.same(path, $0) }) {
                throw ValidationError("\(option) '\(path)' is the crawl state (or one of its -wal, -shm, -journal, -lock files): writing records there would destroy the crawl; give another path")
            }
        }
    }

    /// Whether only `--status` or `--export` was asked for, with no URL to crawl.
    var onlyReadsState: Bool {
        urls.isEmpty && urlsFrom == nil && (frontierArguments.status || frontierArguments.export != nil)
    }

    func runFrontierCrawl() async throws {
        let arguments = frontierArguments
        let logger = Logger(label: "spindle.crawl")
        let limits = FrontierLimits(maxPages: arguments.maxPages, maxDepth: arguments.maxDepth)
        let frontier: any Frontier
        do {
            frontier = try await openFrontier(limits: limits, logger: logger)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        if let sqlite = frontier as? SQLiteFrontier, sqlite.recoveredLeases > 0, !quiet {
            logger.notice("resuming \(sqlite.path): \(sqlite.recoveredLeases) URLs a stopped crawl had in flight are pending again")
        }
        var exitStatus: Int32 = 0
        do {
            if !onlyReadsState {
                exitStatus = try await crawl(frontier, logger: logger)
            }
            if let export = arguments.export {
                let count = try await Self.export(frontier, to: export)
                if !quiet { FileHandle.standardError.write(Data("exported \(count) records to \(export)\n".utf8)) }
            }
            if arguments.status {
                let status = try await frontier.status()
                FileHandle.standardOutput.write(Data("\(status)\n".utf8))
                for failed in try await frontier.urls(in: .failed, limit: 20) {
                    FileHandle.standardOutput.write(Data("failed \(failed.url): \(failed.lastError ?? "unknown reason")\n".utf8))
                }
            }
        } catch {
            try? await frontier.close()
            throw error
        }
        try await frontier.close()
        if exitStatus != 0 { throw ExitCode(exitStatus) }
    }

    /// Crawls into `frontier`; returns the exit status.
    private func crawl(_ frontier: any Frontier, logger: Logger) async throws -> Int32 {
        let arguments = frontierArguments
        let seeds = try pageTasks().map { task in
            FrontierEntry(try CanonicalURL(task.url, sortQuery: arguments.sortQuery))
        }
        let allowed = arguments.allowHosts.isEmpty ? Set(seeds.map(\.url.authority)) : Set(arguments.allowHosts)
        let options = FrontierCrawlOptions(
            engine: engine,
            concurrency: concurrency,
            parsers: parsers,
            perHost: arguments.perHost ?? 4,
            delay: arguments.delay?.duration ?? .zero,
            obeyRobots: !arguments.ignoreRobots,
            retryPolicy: RetryPolicy(maxRetries: arguments.retries ?? 2),
            extraction: try extraction(),
            follow: try arguments.follow.map { try CSSSelector($0) },
            scope: try CrawlScope(allowedHosts: allowed, include: arguments.include, exclude: arguments.exclude, sortQuery: arguments.sortQuery)
        )
        let records: any RecordSink
        do {
            records = try RecordSinks.open(path: output, shape: options.extraction.shape)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\nUsage: spindle \(Self.usageString())\n".utf8))
            throw ExitCode.validationFailure
        }
        if output != "-", frontier is SQLiteFrontier {
            // A resumed crawl's file ends holding every record once: the records of earlier runs
            // come from the state (a killed run may not have written its last ones out), this
            // run's follow as their pages are stored.
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
        let progressLine = ProgressLine(progress: progress, enabled: !quiet && ProgressLine.standardErrorIsTerminal)
        let stop = CrawlStopSignal()
        let outputError = Mutex<(any Error)?>(nil)
        let quiet = quiet
        let signals = CrawlStopSignals(stop: stop) { level, number in
            let name = number == SIGINT ? "interrupt" : "SIGTERM"
            progressLine.withLineCleared {
            switch level {
            case .graceful:
                logger.notice("\(name): finishing the pages in flight, then stopping (again to stop at once; the crawl resumes from its state)")
            default:
                logger.notice("\(name) again: stopping now (the crawl resumes from its state)")
            }
            }
        }
        defer { signals.cancel() }

        let run: FrontierCrawlSummary
        progress.markStarted()
        progressLine.start()
        defer {
            progress.markFinished()
            progressLine.stop()
        }
        do {
            run = try await withFetcher(options.fetchConfiguration(fetchConfiguration)) { fetcher in
                try await FrontierCrawl(frontier: frontier, fetcher: fetcher, options: options).run(seeds: seeds, stop: stop) { event in
                    switch event {
                    case .done(_, let pageRecords, let bytes, let added):
                        progress.addToTotal(added)
                        progress.recordPage(failed: false, records: pageRecords.count, bytes: bytes)
                        guard !pageRecords.isEmpty else { return }
                        do {
                            try records.write(pageRecords)
                        } catch {
                            let first = outputError.withLock { stored in
                                defer { if stored == nil { stored = error } }
                                return stored == nil
                            }
                            if first { stop.requestStop() }
                        }
                    case .failed(let url, let reason):
                        progress.recordPage(failed: true)
                        progressLine.withLineCleared { logger.warning("failed \(url): \(reason)") }
                    case .retrying(let url, let reason, let notBefore):
                        if !quiet {
                            progressLine.withLineCleared {
                                logger.info("retrying \(url) in \(String(format: "%.1f", max(0, notBefore.timeIntervalSinceNow))) s: \(reason)")
                            }
                        }
                    case .note(let note):
                        if !quiet { progressLine.withLineCleared { logger.notice("\(note)") } }
                    default:
                        break
                    }
                }
            }
        } catch {
            try? records.finish()
            throw error
        }
        progress.markFinished()
        progressLine.stop()
        try records.finish()
        if let error = outputError.withLock({ $0 }) { throw error }

        let summary = CrawlSummary(run, concurrency: concurrency, state: try await frontier.status())
        if !quiet {
            FileHandle.standardError.write(Data("crawled \(summary.text)\n".utf8))
        }
        try writeJSONSummary(summary)
        if run.ending != .finished, let number = signals.received {
            return 128 + number
        }
        return summary.exitStatus
    }

    /// Writes every record of `frontier` to `path` as JSON Lines, in the order stored.
    private static func export(_ frontier: any Frontier, to path: String) async throws -> Int {
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
    private static func writeStoredRecords(of frontier: any Frontier, to sink: any RecordSink) async throws -> Int {
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
