import ArgumentParser
import Foundation
import Spindle
import SpindleServer

/// `spindle primes`: the course's CPU-bound comparison on `is_prime` by trial division.
struct PrimesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "primes",
        abstract: "CPU-bound work four ways: one thread, a thread pool, a process pool, async tasks.",
        discussion: """
            Checks --count copies of --number with the course's is_prime (trial division by odd \
            numbers up to the square root) and prints, for each model, the time, the speedup over \
            the sequential run and the parallel efficiency (speedup ÷ cores). In CPython the GIL \
            keeps threads at 1×; in Swift threads and tasks use every core, and processes do too \
            at the price of starting workers and sending them the work.
            """
    )

    @Option(help: "How many numbers to check.")
    var count = 100

    @Option(help: "The number to check (112272535095293 is a prime: the worst case).")
    var number: UInt64 = 112_272_535_095_293

    @Option(help: "Comma-separated models: sequential, threads, processes, async.")
    var models = "sequential,threads,processes,async"

    @Flag(help: "Print the results as JSON.")
    var json = false

    func validate() throws {
        guard count >= 1 && count <= 1_000_000 else { throw ValidationError("--count must be between 1 and 1000000, got \(count)") }
        _ = try parsedModels()
    }

    func parsedModels() throws -> [PrimesModel] {
        let names = models.split(separator: ",", omittingEmptySubsequences: false)
        guard names.contains(where: { !$0.trimmingCharacters(in: .whitespaces).isEmpty }) else {
            throw ValidationError("--models names no model: give one or more of sequential, threads, processes, async, separated by commas")
        }
        return try names.map { name in
            let name = name.trimmingCharacters(in: .whitespaces)
            guard !name.isEmpty else {
                throw ValidationError("--models '\(models)' has an empty name between commas")
            }
            guard let model = PrimesModel(rawValue: name) else {
                throw ValidationError("unknown model '\(name)' in --models: use sequential, threads, processes or async")
            }
            return model
        }
    }

    func run() async throws {
        let comparison = try await PrimesComparison(count: count, number: number).run(try parsedModels())
        print(json ? try comparison.json() : comparison.table())
    }
}

/// One way of running the CPU-bound work.
enum PrimesModel: String, CaseIterable, Sendable {
    case sequential, threads, processes, async
}

/// Runs the comparison and formats it; shared by the command, the bench and the tour.
struct PrimesComparison: Sendable {
    struct Result: Sendable {
        var model: PrimesModel
        var seconds: Double
        var speedup: Double?
    }

    var count: Int
    var number: UInt64
    var cores = ProcessInfo.processInfo.activeProcessorCount
    var results: [Result] = []

    init(count: Int, number: UInt64) {
        self.count = count
        self.number = number
    }

    /// Runs each model once (the sequential one first, as every speedup's baseline).
    func run(_ models: [PrimesModel]) async throws -> PrimesComparison {
        var done = self
        let ordered = models.contains(.sequential) ? [.sequential] + models.filter { $0 != .sequential } : models
        var sequential: Double?
        for model in ordered {
            let seconds = try await Self.time(model, count: count, number: number, cores: cores)
            if model == .sequential { sequential = seconds }
            done.results.append(Result(model: model, seconds: seconds, speedup: sequential.map { $0 / seconds }))
        }
        return done
    }

    /// Seconds to check `count` copies of `number` with one model.
    static func time(_ model: PrimesModel, count: Int, number: UInt64, cores: Int) async throws -> Double {
        let numbers = Array(repeating: number, count: count)
        let start = ContinuousClock.now
        var answers: [Bool]
        switch model {
        case .sequential:
            answers = numbers.map(isPrimeTrialDivision)
        case .threads:
            answers = try await withThreadPool(maxWorkers: cores) { pool in
                try await numbers.concurrentMap(maxConcurrency: cores * 2) { n in
                    try await pool.run { isPrimeTrialDivision(n) }
                }
            }
        case .processes:
            // The pool starts inside the measurement, as in the course: starting workers is part of the cost.
            answers = try await withProcessPool(configuration: .init(maxWorkers: cores)) { pool in
                try await numbers.concurrentMap(maxConcurrency: cores * 2) { n in
                    try await pool.run(IsPrimeJob.self, [n])[0]
                }
            }
        case .async:
            answers = try await numbers.concurrentMap(maxConcurrency: cores) { isPrimeTrialDivision($0) }
        }
        let seconds = (ContinuousClock.now - start).seconds
        guard Set(answers).count == 1 else { throw ValidationError("models disagree about \(number)") }
        return seconds
    }

    func table() -> String {
        var rows = [["model", "seconds", "speedup", "efficiency"]]
        for r in results {
            rows.append([
                r.model.rawValue, String(format: "%.3f", r.seconds),
                r.speedup.map { String(format: "%.2fx", $0) } ?? "-",
                r.speedup.map { String(format: "%.0f%%", $0 / Double(cores) * 100) } ?? "-",
            ])
        }
        let prime = isPrimeMillerRabin(number) ? "a prime" : "not a prime"
        return "is_prime(\(number)) × \(count) — \(number) is \(prime); \(cores) cores\n" + TextTable(rows).render()
    }

    /// `{"count": …, "number": …, "cores": …, "results": [{"model": …, "seconds": …, "speedup": …, "efficiency": …}, …]}`.
    func json() throws -> String {
        try PythonJSONEncoder().encode(JSONReport(
            count: count, number: number, cores: cores,
            results: results.map { result in
                JSONResult(
                    model: result.model.rawValue, seconds: ReportNumber(result.seconds),
                    speedup: result.speedup.map(ReportNumber.init),
                    efficiency: result.speedup.map { ReportNumber($0 / Double(cores)) })
            }))
    }

    private struct JSONReport: Encodable {
        var count: Int
        var number: UInt64
        var cores: Int
        var results: [JSONResult]
    }

    private struct JSONResult: Encodable {
        var model: String
        var seconds: ReportNumber
        var speedup: ReportNumber?
        var efficiency: ReportNumber?
    }
}
