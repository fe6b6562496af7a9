import ArgumentParser
import Foundation
import Spindle

/// `spindle bench process-pool`: the process pool's own costs against CPython's ProcessPoolExecutor.
struct ProcessPoolBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "process-pool",
        abstract: "ProcessPool round trips, chunked maps and start-up against CPython's ProcessPoolExecutor.",
        discussion: """
            process_pool.round_trip: submit N tiny tasks (a job that returns its input), wait for \
            all; µs per task. process_pool.chunked: map over N items with a chunk size of 100; µs \
            per item. process_pool.startup: create a one-worker pool and get its first answer; ms. \
            Both pools have one worker per core; CPython runs bench/python/process_pool.py.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "Tiny tasks per round-trip run.")
    var tasks = 20_000

    @Option(help: "Items per chunked run.")
    var items = 200_000

    @Option(help: "Runs per figure; the median is reported.")
    var runs = 3

    func validate() throws {
        guard tasks >= 100, items >= 1000, runs >= 1 else {
            throw ValidationError("--tasks must be at least 100, --items at least 1000 and --runs at least 1")
        }
    }

    func run() throws {
        let roundTrip = median(try (0..<runs).map { _ in try Self.roundTrip(tasks: tasks) })
        let chunked = median(try (0..<runs).map { _ in try Self.chunked(items: items) })
        let startup = median(try (0..<max(runs, 5)).map { _ in try Self.startup() })
        let python = try PythonPeer.run(
            script: "process_pool.py", arguments: [String(tasks), String(items), String(runs)])
        let baseline = "CPython \(python["python"] as? String ?? "3") ProcessPoolExecutor"
        var report = BenchReport(suite: "process-pool")
        report.add(BenchFigure(
            name: "process_pool.round_trip", unit: "us/task", value: roundTrip, direction: .lowerIsBetter,
            baseline: baseline, baselineValue: python["process_pool.round_trip"] as? Double))
        report.add(BenchFigure(
            name: "process_pool.chunked", unit: "us/item", value: chunked, direction: .lowerIsBetter,
            baseline: baseline, baselineValue: python["process_pool.chunked"] as? Double))
        report.add(BenchFigure(
            name: "process_pool.startup", unit: "ms", value: startup, direction: .lowerIsBetter,
            baseline: baseline, baselineValue: python["process_pool.startup"] as? Double))
        report.print(json: options.json)
    }

    static func roundTrip(tasks: Int) throws -> Double {
        let pool = try ProcessPool()
        defer { pool.shutdown() }
        _ = try pool.map(NoopJob.self, Array(0..<100)).collect()  // workers up before the measurement
        let start = ContinuousClock.now
        let futures = try (0..<tasks).map { try pool.submit(NoopJob.self, $0) }
        for future in futures { _ = try future.result() }
        return (ContinuousClock.now - start).seconds / Double(tasks) * 1e6
    }

    static func chunked(items: Int) throws -> Double {
        let pool = try ProcessPool()
        defer { pool.shutdown() }
        _ = try pool.map(NoopJob.self, Array(0..<100)).collect()
        let start = ContinuousClock.now
        let results = try pool.map(NoopJob.self, Array(0..<items), chunkSize: 100).collect()
        precondition(results.count == items)
        return (ContinuousClock.now - start).seconds / Double(items) * 1e6
    }

    static func startup() throws -> Double {
        let start = ContinuousClock.now
        let pool = try ProcessPool(configuration: .init(maxWorkers: 1))
        _ = try pool.submit(NoopJob.self, 1).result()
        let elapsed = (ContinuousClock.now - start).seconds * 1e3
        pool.shutdown()
        return elapsed
    }
}
