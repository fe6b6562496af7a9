import ArgumentParser
import Foundation
import SpindleCrawler

/// `spindle crawl` through its frontier: a list crawl's in memory, or `--state`, link following,
/// politeness, retries, resume, `--export` and `--status`.
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

    /// Opens the frontier the options name, crawls into it (unless only --status or --export is
    /// asked for), then exports and prints its status as asked; nil when nothing was crawled.
    func runFrontierCrawl(_ session: CrawlSession) async throws -> CrawlSession.Result? {
        let arguments = frontierArguments
        let frontier: any Frontier
        do {
            frontier = try await openFrontier(limits: FrontierLimits(maxPages: arguments.maxPages, maxDepth: arguments.maxDepth), logger: session.logger)
        } catch {
            FileHandle.standardError.write(Data("Error: \(error)\n".utf8))
            throw ExitCode.failure
        }
        var result: CrawlSession.Result?
        do {
            if !onlyReadsState {
                let seeds = try pageTasks().map { task in FrontierEntry(try CanonicalURL(task.url, sortQuery: arguments.sortQuery)) }
                result = try await session.run(frontier: frontier, seeds: seeds, options: try frontierOptions(seeds: seeds), fetch: fetchConfiguration)
            }
            if let export = arguments.export {
                let count = try await CrawlSession.export(frontier, to: export)
                if !quiet { FileHandle.standardError.write(Data("exported \(count) records to \(export)\n".utf8)) }
            }
            if arguments.status {
                FileHandle.standardOutput.write(Data("\(try await frontier.status())\n".utf8))
                for failed in try await frontier.urls(in: .failed, limit: 20) {
                    FileHandle.standardOutput.write(Data("failed \(failed.url): \(failed.lastError ?? "unknown reason")\n".utf8))
                }
            }
        } catch {
            try? await frontier.close()
            throw error
        }
        try await frontier.close()
        return result
    }

    /// The crawl's options; links may lead to the --allow-host hosts, by default the seeds'. A
    /// list crawl (none of the frontier options) allows any host (only redirects are checked)
    /// and up to --concurrency requests to one host.
    private func frontierOptions(seeds: [FrontierEntry]) throws -> FrontierCrawlOptions {
        let arguments = frontierArguments
        let isList = !arguments.isFrontierCrawl
        let allowed = !arguments.allowHosts.isEmpty ? Set(arguments.allowHosts) : isList ? [] : Set(seeds.map(\.url.authority))
        return FrontierCrawlOptions(
            engine: engine,
            concurrency: concurrency,
            parsers: parsers,
            perHost: arguments.perHost ?? (isList ? concurrency : 4),
            delay: arguments.delay?.duration ?? .zero,
            obeyRobots: !arguments.ignoreRobots,
            retryPolicy: RetryPolicy(maxRetries: arguments.retries ?? 2),
            extraction: try extraction(),
            follow: try arguments.follow.map { try CSSSelector($0) },
            scope: try CrawlScope(allowedHosts: allowed, include: arguments.include, exclude: arguments.exclude, sortQuery: arguments.sortQuery)
        )
    }
}
