import ArgumentParser
import Foundation
import Logging
import SpindleCrawler
import SpindleCrawlerPostgres

/// The options of `spindle crawl` that put the crawl in a shared PostgreSQL frontier, so any
/// number of `spindle crawl` processes, on one machine or many, work on one crawl.
struct CrawlPostgresArguments: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Keep the crawl in PostgreSQL, shared by every worker given the same URL and --crawl-id: postgres://user[:password]@host[:port]/database[?sslmode=disable|prefer|require].",
        valueName: "url"))
    var frontier: String?

    @Option(name: .customLong("crawl-id"), help: ArgumentHelp("The name of the shared crawl (several crawls can share one database); needs --frontier.", valueName: "name"))
    var crawlID: String?

    @Option(help: ArgumentHelp("How long a URL stays leased to a worker that stopped answering (it died) before the others take it over (default: 60s); needs --frontier.", valueName: "duration"), transform: DurationArgument.parse)
    var lease: DurationArgument?

    @Option(name: .customLong("reconnect-limit"), help: ArgumentHelp("How long to wait for a lost PostgreSQL server, retrying with backoff, before exiting with an error (default: 60s; the crawl stays resumable).", valueName: "duration"), transform: DurationArgument.parse)
    var reconnectLimit: DurationArgument?

    @Option(name: .customLong("worker-id"), help: ArgumentHelp("This worker's name on its leases (default: host:pid:random); a worker restarted with the same name takes its leases back at once.", valueName: "name"))
    var workerID: String?

    /// Whether the crawl is kept in PostgreSQL.
    var isShared: Bool { frontier != nil }

    func validate() throws {
        guard let frontier else {
            for (given, name) in [(crawlID != nil, "--crawl-id"), (lease != nil, "--lease"), (reconnectLimit != nil, "--reconnect-limit"), (workerID != nil, "--worker-id")] where given {
                throw ValidationError("\(name) belongs to a shared crawl: add --frontier postgres://…")
            }
            return
        }
        do {
            _ = try PostgresFrontier.configuration(url: frontier)
        } catch let error as FrontierError {
            throw ValidationError("--frontier: \(error.message)")
        }
        guard let crawlID, !crawlID.isEmpty else {
            throw ValidationError("--frontier needs --crawl-id NAME: the name every worker of this crawl gives")
        }
        if let lease, lease.duration < .seconds(1) {
            throw ValidationError("--lease must be at least 1s, got \(lease)")
        }
        if let reconnectLimit, reconnectLimit.duration < .zero {
            throw ValidationError("--reconnect-limit must not be negative, got \(reconnectLimit)")
        }
        if workerID?.isEmpty == true { throw ValidationError("--worker-id must not be empty") }
    }
}

extension CrawlCommand {
    /// The frontier the options ask for: PostgreSQL with `--frontier`, else SQLite with
    /// `--state FILE`, else memory.
    func openFrontier(limits: FrontierLimits, logger: Logger) async throws -> any Frontier {
        let arguments = frontierArguments
        guard let shared = arguments.shared.frontier else {
            guard !arguments.isInMemory, let state = arguments.state else { return MemoryFrontier(limits: limits) }
            // --status or --export alone on a state this process may not write (a read-only copy).
            if onlyReadsState && !Self.isWritable(state) {
                return try SQLiteFrontier(readingOnly: state)
            }
            return try SQLiteFrontier(path: state, limits: limits)
        }
        let politeness = PostgresFrontier.HostPoliteness(perHost: arguments.perHost ?? 4, delay: arguments.delay?.duration ?? .zero)
        return try await PostgresFrontier(
            url: shared, crawlID: arguments.shared.crawlID ?? "", workerID: arguments.shared.workerID,
            leaseDuration: arguments.shared.lease?.duration ?? .seconds(60), limits: limits, politeness: politeness,
            outageLimit: arguments.shared.reconnectLimit?.duration ?? .seconds(60), logger: logger
        )
    }

    /// Whether `path` and its folder can be written (SQLite writes beside the file).
    private static func isWritable(_ path: String) -> Bool {
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        return access(path, W_OK) == 0 && access(folder, W_OK) == 0
    }
}
