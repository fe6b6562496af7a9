import ArgumentParser
import Foundation
import Spindle

/// `spindle bench primes`: the CPU-bound comparison, with CPython's sequential run as baseline.
struct PrimesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "primes",
        abstract: "is_prime by trial division: Swift's models against one thread, and one thread against CPython.",
        discussion: """
            primes.sequential: seconds for --count checks of --number on one thread, against \
            CPython running the course's is_prime on the same count (bench/python/primes.py). \
            primes.threads, primes.processes, primes.async: the same count on every core, \
            against Spindle's sequential run. Each Spindle figure is the median of --runs.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "How many numbers to check.")
    var count = 100

    @Option(help: "The number to check.")
    var number: UInt64 = 112_272_535_095_293

    @Option(help: "Runs per Spindle figure; the median is reported.")
    var runs = 3

    @Option(help: "Numbers CPython checks (its time is scaled to --count if smaller; default: --count).")
    var pythonCount: Int?

    func validate() throws {
        guard count >= 1, runs >= 1, (pythonCount ?? 1) >= 1 else {
            throw ValidationError("--count, --runs and --python-count must be at least 1")
        }
    }

    func run() async throws {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        var seconds: [PrimesModel: Double] = [:]
        for model in PrimesModel.allCases {
            var samples: [Double] = []
            for _ in 0..<runs {
                samples.append(try await PrimesComparison.time(model, count: count, number: number, cores: cores))
            }
            seconds[model] = median(samples)
        }
        let checked = pythonCount ?? count
        let python = try PythonPeer.run(script: "primes.py", arguments: [String(checked), String(number)])
        let pythonSeconds = (python["seconds"] as? Double).map { $0 * Double(count) / Double(checked) }
        var report = BenchReport(suite: "primes")
        let sequential = seconds[.sequential]!
        report.add(BenchFigure(
            name: "primes.sequential", unit: "s", value: sequential, direction: .lowerIsBetter,
            baseline: "CPython \(python["python"] as? String ?? "3") is_prime", baselineValue: pythonSeconds))
        for model in [PrimesModel.threads, .processes, .async] {
            report.add(BenchFigure(
                name: "primes.\(model.rawValue)", unit: "s", value: seconds[model]!, direction: .lowerIsBetter,
                baseline: "Spindle sequential", baselineValue: sequential))
        }
        if checked != count {
            report.notes.append("CPython checked \(checked) numbers; its time is scaled to \(count).")
        }
        report.notes.append("The ideal speedup over sequential on \(cores) cores is \(cores).00x.")
        report.print(json: options.json)
    }
}
