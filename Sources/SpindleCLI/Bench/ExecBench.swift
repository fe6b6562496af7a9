import ArgumentParser
import Foundation
import Spindle

#if canImport(Glibc)
import Glibc
#endif

/// `spindle bench exec`: `spindle exec -j 2` against `xargs -P 2` and GNU `parallel -j 2`, whole
/// processes timed, as a user waits for them.
struct ExecBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "spindle exec against xargs -P and GNU parallel: many short jobs, whole-process wall time.",
        discussion: """
            exec.true500: seconds for `spindle exec -j 2 -- true` over --count items on \
            standard input, this executable started as a child process and timed from start to \
            exit, against `xargs -P 2 -n 1 true` and `parallel -j 2 true` (GNU parallel, if it is \
            installed: scripts/setup-system.sh with SPINDLE_WITH_BENCH_TOOLS=1) on the same input, \
            in turn. The median of --runs each; the goals are at most 1.3 times xargs and at \
            least 4 times faster than GNU parallel.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Items, so jobs, per run.")
    var count = 500

    @Option(help: "Runs of each; the median is reported.")
    var runs = 5

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Jobs at once, for all three.")
    var jobs = 2

    func validate() throws {
        guard (1...100_000).contains(count), (1...20).contains(runs), (1...64).contains(jobs) else {
            throw ValidationError("--count must be 1–100000, --runs 1–20, -j 1–64")
        }
    }

    func run() async throws {
        let input = Data((1...count).map { "\($0)\n" }.joined().utf8)
        let spindle = [BenchServerProcess.currentExecutable(), "exec", "-j", String(jobs), "--", "true"]
        let xargs = ["/usr/bin/env", "xargs", "-P", String(jobs), "-n", "1", "true"]
        // --will-cite: no citation notice; output is grouped per job by default, as spindle's.
        let parallel = Self.findOnPath("parallel").map { [$0, "--will-cite", "-j", String(jobs), "true"] }
        var spindleRuns: [Measurement] = []
        var xargsRuns: [Measurement] = []
        var parallelRuns: [Measurement] = []
        // Taken in turn, so a slow moment of the machine does not fall on one side only.
        for _ in 0..<runs {
            spindleRuns.append(try Self.measure(spindle, input: input))
            xargsRuns.append(try Self.measure(xargs, input: input))
            if let parallel { parallelRuns.append(try Self.measure(parallel, input: input)) }
        }
        let spindleMedian = median(spindleRuns.map(\.seconds))
        let xargsMedian = median(xargsRuns.map(\.seconds))
        // CPU time (the process, its jobs and their children) depends less on what else the
        // machine runs than wall time does.
        var report = BenchReport(suite: "exec")
        report.add(BenchFigure(
            name: "exec.true\(count)", unit: "s", value: spindleMedian, direction: .lowerIsBetter,
            baseline: "xargs -P \(jobs) -n 1 (GNU findutils)", baselineValue: xargsMedian,
            extra: [("cpu_s", median(spindleRuns.map(\.cpuSeconds))), ("baseline_cpu_s", median(xargsRuns.map(\.cpuSeconds)))]))
        let wall = { (runs: [Measurement]) in runs.map { formatNumber($0.seconds) } }
        report.notes.append(
            "-j \(jobs), \(count) runs of `true`, median of \(runs); wall s: spindle \(wall(spindleRuns)), "
                + "xargs \(wall(xargsRuns))" + (parallel == nil ? "" : ", parallel \(wall(parallelRuns))"))
        var ratios = "spindle ÷ xargs \(formatNumber(spindleMedian / xargsMedian)) (goal ≤ 1.3)"
        if parallel != nil {
            let parallelMedian = median(parallelRuns.map(\.seconds))
            report.add(BenchFigure(
                name: "exec.true\(count).vs_parallel", unit: "s", value: spindleMedian, direction: .lowerIsBetter,
                baseline: "GNU parallel -j \(jobs)", baselineValue: parallelMedian,
                extra: [("baseline_cpu_s", median(parallelRuns.map(\.cpuSeconds)))]))
            ratios += ", parallel ÷ spindle \(formatNumber(parallelMedian / spindleMedian)) (goal ≥ 4)"
        } else {
            ratios += "; GNU parallel is not installed (scripts/setup-system.sh with SPINDLE_WITH_BENCH_TOOLS=1)"
        }
        report.notes.append(ratios)
        report.print(json: options.json)
    }

    /// One timed run: wall seconds from start to exit, and the CPU seconds it and every process
    /// it waited for used.
    struct Measurement {
        var seconds: Double
        var cpuSeconds: Double
    }

    /// The first executable `name` in the directories of PATH, or `nil`.
    static func findOnPath(_ name: String) -> String? {
        let directories = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":")
        return directories.map { "\($0)/\(name)" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    /// Runs `argv` with `input` on its standard input, to its exit.
    static func measure(_ argv: [String], input: Data) throws -> Measurement {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        let cpuBefore = childrenCPUSeconds()
        let start = ContinuousClock.now
        try process.run()
        // The input fits in a pipe only for small counts: write it from a thread of its own.
        let writer = stdin.fileHandleForWriting
        Thread.detachNewThread {
            writer.write(input)
            try? writer.close()
        }
        process.waitUntilExit()
        let seconds = (ContinuousClock.now - start).seconds
        guard process.terminationStatus == 0 else {
            throw PythonPeer.Failure(description: "\(argv.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
        return Measurement(seconds: seconds, cpuSeconds: childrenCPUSeconds() - cpuBefore)
    }

    /// User and system CPU seconds of this process's reaped children (and theirs): runs are one
    /// at a time, so the difference across a run is that run's.
    static func childrenCPUSeconds() -> Double {
        var usage = rusage()
        guard getrusage(__rusage_who_t(RUSAGE_CHILDREN.rawValue), &usage) == 0 else { return 0 }
        let seconds = { (time: timeval) in Double(time.tv_sec) + Double(time.tv_usec) / 1_000_000 }
        return seconds(usage.ru_utime) + seconds(usage.ru_stime)
    }
}
