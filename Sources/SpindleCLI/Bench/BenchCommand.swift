import ArgumentParser

/// `spindle bench SUITE`: reruns one of the comparisons behind the figures in the docs.
struct BenchCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bench",
        abstract: "Measure Spindle against its baseline (CPython, Flask, gevent, xargs) in one run.",
        discussion: """
            Each suite prints a table for people, or with --json one object for machines:
            {"suite": ..., "cores": ..., "figures": [{"name", "unit", "value", "baseline",
            "baseline_value", "speedup"}]}. Figure names are stable across versions. `speedup` is
            how many times better Spindle did than the baseline measured in the same run.
            Build in release mode for meaningful figures: swift run -c release spindle bench ...
            """,
        subcommands: [
            ExecutorsBench.self,
            ProcessPoolBench.self,
            PrimesBench.self,
            CrawlBench.self,
            ServeBench.self,
            EchoBench.self,
            ExecBench.self,
            FaultsBench.self,
        ]
    )
}

/// Options every bench suite takes.
struct BenchOptions: ParsableArguments {
    @Flag(help: "Print the figures as one JSON object instead of a table.")
    var json = false
}
