import ArgumentParser
import CMimalloc
import Spindle

/// The entry point. The first line is the process-pool guard (the Swift counterpart of Python's
/// `if __name__ == "__main__"`): when this executable was started as a `ProcessPool` worker, it
/// serves jobs and exits there, and never parses a command line.
@main
struct SpindleMain {
    static func main() async {
        ProcessPool.runWorkerIfRequested(jobs: SpindleJobs.all)
        await SpindleCommand.main()
    }
}

/// `spindle`: the root command.
struct SpindleCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "spindle",
        abstract: "Concurrency in Swift, measured: pools, queues, a crawler, a service, and the tour that compares them.",
        discussion: """
            Start with `spindle tour`: it runs every program of the course this project grew from \
            (threads, processes, coroutines, locks, queues, pools, a crawler, a web service, \
            subprocesses, an echo server) against servers it starts itself, with the numbers \
            measured on this machine. `spindle bench SUITE` reruns any comparison.
            """,
        version: "\(spindleVersion) (allocator: \(allocatorDescription))",
        subcommands: [
            TourCommand.self,
            BankCommand.self,
            PrimesCommand.self,
            CrawlCommand.self,
            SiteCommand.self,
            ServeCommand.self,
            EchoCommand.self,
            ExecCommand.self,
            BenchCommand.self,
        ]
    )
}

/// The allocator this executable links in place of glibc's (see `Sources/CMimalloc`), as
/// `spindle --version` reports it. Calling into mimalloc here also keeps the linker from
/// dropping the library as unused.
let allocatorDescription: String = {
    let version = Int(mi_version())
    return "mimalloc \(version / 100).\(version / 10 % 10).\(version % 10)"
}()
