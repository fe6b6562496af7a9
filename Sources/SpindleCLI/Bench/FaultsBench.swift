import ArgumentParser
import Foundation

/// `spindle bench faults`: what the pools, the crawler and the web service promise when parts of
/// them are killed, stopped or overloaded, measured.
struct FaultsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "faults",
        abstract: "Fault figures: lost jobs, lost or duplicated records, shed requests, under kills and overload.",
        discussion: """
            faults.process_pool.sigkill: short jobs on a pool of 2 while a worker (busy or idle, \
            at random) is SIGKILLed every 50 ms; value = jobs with no outcome. \
            faults.process_pool.sigstop: a worker stopped mid-job; its deadline fires and it is \
            replaced; value = lost jobs. \
            faults.crawl.sigkill_resume: a --state crawl of the local site with --follow and -o, \
            SIGKILLed at random moments and run again; value = records missing or duplicated in \
            the export and in the output file. \
            faults.shared_crawl.worker_and_server_loss (with --frontier): 3 PostgreSQL workers, one \
            SIGKILLed and the server restarted mid-crawl; value = missing + duplicated records. \
            faults.serve.overload: /is_prime offered at twice what the CPU pool answers; value = \
            p99 ms of the requests answered 200. Each figure's other fields are printed beside it.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Which part to run: process-pool, crawl, shared-crawl, serve, or all.")
    var only: FaultsBenchPart = .all

    @Option(help: ArgumentHelp("A PostgreSQL server for faults.shared_crawl (its data folder is needed to restart it: --postgres-dir).", valueName: "postgres-url"))
    var frontier: String?

    @Option(name: .customLong("postgres-dir"), help: ArgumentHelp("The data folder of the --frontier server, restarted with pg_ctl mid-crawl.", valueName: "dir"))
    var postgresDirectory: String?

    func validate() throws {
        if (frontier == nil) != (postgresDirectory == nil) {
            throw ValidationError("--frontier and --postgres-dir go together: the shared-crawl figure restarts that server")
        }
    }

    func run() async throws {
        var report = BenchReport(suite: "faults")
        if only.includes(.processPool) {
            for figure in try await Self.processPoolFigures() { report.add(figure) }
        }
        if only.includes(.crawl) {
            report.add(try await Self.crawlResumeFigure())
        }
        if only.includes(.sharedCrawl) {
            if let frontier, let postgresDirectory {
                report.add(try await Self.sharedCrawlFigure(postgresURL: frontier, dataDirectory: postgresDirectory))
            } else {
                report.notes.append("faults.shared_crawl: not run (give --frontier postgres://… and --postgres-dir DIR)")
            }
        }
        if only.includes(.serve) {
            report.add(try await Self.serveOverloadFigure())
        }
        report.print(json: options.json)
    }

    /// A fault run that could not be measured (a child that would not start, a check that failed).
    struct Failure: Error, CustomStringConvertible {
        var description: String
        init(_ description: String) { self.description = description }
    }
}

/// The parts of `spindle bench faults`.
enum FaultsBenchPart: String, CaseIterable, ExpressibleByArgument {
    case processPool = "process-pool"
    case crawl
    case sharedCrawl = "shared-crawl"
    case serve
    case all

    func includes(_ part: FaultsBenchPart) -> Bool { self == .all || self == part }
}
