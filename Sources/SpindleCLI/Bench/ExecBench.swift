import ArgumentParser
import Foundation
import Spindle

/// `spindle bench exec`: `spindle exec -j 2` against `xargs -P 2`, whole processes timed.
struct ExecBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "spindle exec against xargs -P: many short jobs, whole-process wall time.",
        discussion: """
            exec.true500: seconds for `spindle exec -j 2 -- true` over --count items on \
            standard input, this executable started as a child process and timed from start to \
            exit, against `xargs -P 2 -n 1 true` on the same input. The median of --runs each.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Items, so jobs, per run.")
    var count = 500

    @Option(help: "Runs of each; the median is reported.")
    var runs = 3

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Jobs at once, for both.")
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
        var spindleTimes: [Double] = []
        var xargsTimes: [Double] = []
        // Alternated, so a slow moment of the machine does not fall on one side only.
        for _ in 0..<runs {
            spindleTimes.append(try Self.time(spindle, input: input))
            xargsTimes.append(try Self.time(xargs, input: input))
        }
        var report = BenchReport(suite: "exec")
        report.add(BenchFigure(
            name: "exec.true\(count)", unit: "s", value: median(spindleTimes), direction: .lowerIsBetter,
            baseline: "xargs -P \(jobs) -n 1 (GNU findutils)", baselineValue: median(xargsTimes)))
        report.notes.append("-j \(jobs), \(count) runs of `true`, median of \(runs); spindle: \(spindleTimes.map(formatNumber)), xargs: \(xargsTimes.map(formatNumber)) s")
        report.print(json: options.json)
    }

    /// Seconds from starting `argv` (with `input` on its standard input) to its exit.
    static func time(_ argv: [String], input: Data) throws -> Double {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: argv[0])
        process.arguments = Array(argv.dropFirst())
        let stdin = Pipe()
        process.standardInput = stdin
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
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
        return seconds
    }
}
