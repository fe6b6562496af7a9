#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Spindle
import NIOConcurrencyHelpers

extension FaultsBench {
    /// faults.process_pool.sigkill and faults.process_pool.sigstop.
    static func processPoolFigures() async throws -> [BenchFigure] {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                continuation.resume(with: Result { [try sigkillFigure(), try sigstopFigure()] })
            }
        }
    }

    /// `jobs` jobs of 1 ms on 2 workers, once undisturbed and once with a worker (busy or
    /// idle, whichever the random pick finds) SIGKILLed every 50 ms.
    static func sigkillFigure(jobs: Int = 10_000) throws -> BenchFigure {
        let calm = try PoolFaultRun.measure(jobs: jobs, pauseMicroseconds: 1000, timeout: nil, fault: nil)
        let faulty = try PoolFaultRun.measure(
            jobs: jobs, pauseMicroseconds: 1000, timeout: nil, fault: .init(signal: SIGKILL, every: .milliseconds(50), limit: nil))
        let replaceTimes = faulty.replaceMilliseconds.sorted()
        return BenchFigure(
            name: "faults.process_pool.sigkill", unit: "lost jobs", value: Double(faulty.lost), direction: .lowerIsBetter,
            extra: [
                ("jobs", Double(jobs)), ("kills", Double(faulty.faults)), ("kills_busy", Double(faulty.faultsOnBusy)),
                ("failed", Double(faulty.failed)), ("duplicates", Double(faulty.duplicates)),
                ("replace_p50_ms", percentile(replaceTimes, 0.5)), ("replace_p99_ms", percentile(replaceTimes, 0.99)),
                ("throughput_kept", faulty.jobsPerSecond / calm.jobsPerSecond),
            ])
    }

    /// 2,000 jobs of 1 ms on 2 workers with a 500 ms task timeout, a worker SIGSTOPped every
    /// 200 ms, 5 times: each stopped worker's deadline fires and it is replaced.
    private static func sigstopFigure() throws -> BenchFigure {
        let run = try PoolFaultRun.measure(
            jobs: 2000, pauseMicroseconds: 1000, timeout: .milliseconds(500),
            fault: .init(signal: SIGSTOP, every: .milliseconds(200), limit: 5))
        let replaceTimes = run.replaceMilliseconds.sorted()
        return BenchFigure(
            name: "faults.process_pool.sigstop", unit: "lost jobs", value: Double(run.lost), direction: .lowerIsBetter,
            extra: [
                ("jobs", 2000), ("stops", Double(run.faults)), ("timed_out", Double(run.timedOut)),
                ("failed", Double(run.failed)), ("duplicates", Double(run.duplicates)),
                ("replace_p50_ms", percentile(replaceTimes, 0.5)), ("replace_max_ms", replaceTimes.last ?? 0),
            ])
    }

    private static func percentile(_ sorted: [Double], _ fraction: Double) -> Double {
        guard !sorted.isEmpty else { return 0 }
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * fraction).rounded()))]
    }
}

/// One run of `PauseJob`s on a pool of 2 workers, with a signal sent to a random worker now and then.
private struct PoolFaultRun {
    struct Fault {
        var signal: Int32
        var every: Duration
        /// The most signals sent; nil: until the jobs are done.
        var limit: Int?
    }

    var lost = 0
    var failed = 0
    var timedOut = 0
    var duplicates = 0
    var faults = 0
    /// Signals whose worker held a task when its end was noticed.
    var faultsOnBusy = 0
    /// From each signal to its worker's replacement joining the pool.
    var replaceMilliseconds: [Double] = []
    var jobsPerSecond = 0.0

    static func measure(jobs: Int, pauseMicroseconds: UInt32, timeout: Duration?, fault: Fault?) throws -> PoolFaultRun {
        let record = FaultRecord()
        let pool = try ProcessPool(configuration: .init(
            maxWorkers: 2, taskTimeout: timeout, onWorkerReplaced: record.replaced))
        defer { pool.shutdown() }
        let runLog = FileManager.default.temporaryDirectory
            .appendingPathComponent("spindle-faults-\(getpid())-\(UInt64.random(in: 0...UInt64.max)).log").path
        defer { unlink(runLog) }
        _ = try pool.map(NoopJob.self, Array(0..<20)).collect()  // workers up before the measurement

        let signaller = Thread {
            guard let fault else { return }
            var picked = Set<pid_t>()
            while fault.limit.map({ picked.count < $0 }) ?? true {
                guard record.waitUnlessFinished(fault.every) else { break }
                // A worker already signalled is not picked again.
                guard let victim = pool.workerPIDs.filter({ !picked.contains($0) }).randomElement() else { continue }
                picked.insert(victim)
                record.signalled(victim)
                kill(victim, fault.signal)
            }
            record.signallerDone()
        }

        let start = ContinuousClock.now
        let futures = try (0..<jobs).map {
            try pool.submit(PauseJob.self, .init(id: $0, microseconds: pauseMicroseconds, runLog: runLog))
        }
        if fault != nil { signaller.start() }
        var run = PoolFaultRun()
        let deadline = ContinuousClock.now + .seconds(300)
        for future in futures {
            do {
                _ = try future.result(timeout: max(.zero, deadline - ContinuousClock.now))
            } catch {
                guard future.isDone else {
                    run.lost += 1
                    continue
                }
                if (error as? SpindleError)?.code == .timeout { run.timedOut += 1 }
                run.failed += 1
            }
        }
        let elapsed = ContinuousClock.now - start
        record.finish(waitForSignaller: fault != nil)

        run.jobsPerSecond = Double(jobs) / elapsed.seconds
        (run.faults, run.faultsOnBusy, run.replaceMilliseconds) = record.summary()
        var runs: [Substring: Int] = [:]
        let text = (try? String(contentsOfFile: runLog, encoding: .utf8)) ?? ""
        for id in text.split(separator: "\n") { runs[id, default: 0] += 1 }
        run.duplicates = runs.values.filter { $0 > 1 }.count
        return run
    }
}

/// What the signalling thread and the pool's replacement callback saw, under one lock.
// Sendable: the times are read and written only under `lock`; the gates are locks themselves.
private final class FaultRecord: @unchecked Sendable {
    private let lock = NIOLock()
    private var signalledAt: [pid_t: ContinuousClock.Instant] = [:]
    private var replacements: [(ProcessPool.WorkerReplacement, ContinuousClock.Instant)] = []
    /// True once the run has finished; then once the signalling thread has.
    private let finished = ConditionLock(value: false)
    private let signallerFinished = ConditionLock(value: false)

    var replaced: @Sendable (ProcessPool.WorkerReplacement) -> Void {
        { [self] event in
            let now = ContinuousClock.now
            lock.withLock { replacements.append((event, now)) }
        }
    }

    func signalled(_ pid: pid_t) {
        let now = ContinuousClock.now
        lock.withLock { signalledAt[pid] = now }
    }

    /// Waits `interval`; false once the run has finished.
    func waitUnlessFinished(_ interval: Duration) -> Bool {
        guard finished.lock(whenValue: true, timeoutSeconds: max(0, interval.seconds)) else { return true }
        finished.unlock()
        return false
    }

    func signallerDone() {
        signallerFinished.lock()
        signallerFinished.unlock(withValue: true)
    }

    func finish(waitForSignaller: Bool) {
        finished.lock()
        finished.unlock(withValue: true)
        if waitForSignaller {
            signallerFinished.lock(whenValue: true)
            signallerFinished.unlock()
        }
    }

    /// Signals sent, those whose worker held a task, and each replacement's time in ms.
    func summary() -> (Int, Int, [Double]) {
        lock.withLock {
            var busy = 0
            var times: [Double] = []
            for (event, at) in replacements {
                guard let sent = signalledAt[event.pid] else { continue }
                if event.whileBusy { busy += 1 }
                if event.replacementPID != nil { times.append((at - sent).seconds * 1e3) }
            }
            return (signalledAt.count, busy, times)
        }
    }
}
