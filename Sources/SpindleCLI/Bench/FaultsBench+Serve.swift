import Foundation
import NIOConcurrencyHelpers

extension FaultsBench {
    /// The route offered beyond capacity: one costly number, one CPU task each.
    static let overloadPath = "/is_prime/112272535095293"

    /// faults.serve.overload: `spindle serve` (default configuration, its own process) first
    /// measured closed-loop for its capacity, then offered twice that rate for 10 s, open loop
    /// (each request leaves at its scheduled time whatever the answers, over at most 256
    /// connections; a request that must wait for a connection counts the wait in its latency).
    /// value = p99 ms of the requests answered 200.
    static func serveOverloadFigure() async throws -> BenchFigure {
        let server = try BenchServerProcess(
            command: [BenchServerProcess.currentExecutable(), "serve", "--port", "0", "--grace-period", "2s"], name: "spindle serve")
        defer { server.stop() }
        try ServeBench.waitForHealth(port: server.port, name: "spindle serve")
        let capacity = OverloadLoad.closedLoopRate(port: server.port, path: overloadPath, connections: 4, seconds: 3)
        guard capacity > 0 else { throw Failure("faults.serve.overload: the server answered no request in the capacity run") }
        let serverPID = OverloadLoad.childPID(runningSubcommand: "serve")
        let rssBefore = serverPID.flatMap(OverloadLoad.residentMegabytes(pid:))
        let run = OverloadLoad.openLoop(port: server.port, path: overloadPath, rate: 2 * capacity, seconds: 10, connections: 256)
        let rssAfter = serverPID.flatMap(OverloadLoad.residentMegabytes(pid:))
        let growth = rssBefore.flatMap { before in rssAfter.map { $0 - before } } ?? .nan
        return BenchFigure(
            name: "faults.serve.overload", unit: "ms", value: run.p99ServedMilliseconds, direction: .lowerIsBetter,
            extra: [
                ("capacity_per_s", capacity), ("offered_per_s", 2 * capacity), ("served_per_s", Double(run.served) / run.seconds),
                ("shed_503", Double(run.shed)), ("errors_other", Double(run.otherErrors)), ("rss_growth_mb", growth),
            ])
    }
}

/// The load of faults.serve.overload, on blocking loopback sockets (``LoopbackHTTP``).
enum OverloadLoad {
    /// What an open-loop run got back.
    struct Result {
        var served = 0
        var shed = 0
        var otherErrors = 0
        var seconds = 0.0
        var servedLatencies: [Double] = []

        /// The 99th percentile of the latencies of the requests answered 200, in ms.
        var p99ServedMilliseconds: Double {
            guard !servedLatencies.isEmpty else { return .nan }
            let sorted = servedLatencies.sorted()
            return sorted[min(sorted.count - 1, Int((Double(sorted.count) * 0.99).rounded(.up)) - 1)] * 1000
        }
    }

    /// Requests answered 200 per second by `connections` clients asking one after another.
    static func closedLoopRate(port: Int, path: String, connections: Int, seconds: Double) -> Double {
        let tally = Tally()
        let end = ContinuousClock.now + .milliseconds(Int64(seconds * 1000))
        let start = ContinuousClock.now
        runThreads(connections) {
            while ContinuousClock.now < end {
                if (try? LoopbackHTTP.get(port: port, path: path))?.status == 200 { tally.withLock { $0.served += 1 } }
            }
        }
        return Double(tally.withLock { $0.served }) / (ContinuousClock.now - start).seconds
    }

    /// `rate` requests a second for `seconds`, each sent at its scheduled time by the first of
    /// `connections` clients free; latency runs from the scheduled time to the answer.
    static func openLoop(port: Int, path: String, rate: Double, seconds: Double, connections: Int) -> Result {
        let total = Int(rate * seconds)
        let tally = Tally()
        let start = ContinuousClock.now + .milliseconds(100)
        runThreads(connections) {
            while true {
                let index: Int = tally.withLock { counts in
                    defer { counts.next += 1 }
                    return counts.next
                }
                guard index < total else { return }
                let scheduled = start + .microseconds(Int64(Double(index) / rate * 1_000_000))
                let wait = scheduled - ContinuousClock.now
                if wait > .zero { Thread.sleep(forTimeInterval: wait.seconds) }
                let status = (try? LoopbackHTTP.get(port: port, path: path, timeout: 30))?.status
                let latency = (ContinuousClock.now - scheduled).seconds
                tally.withLock {
                    switch status {
                    case 200?:
                        $0.served += 1
                        $0.servedLatencies.append(latency)
                    case 503?: $0.shed += 1
                    default: $0.otherErrors += 1
                    }
                }
            }
        }
        var result = tally.withLock { $0 }.result
        result.seconds = seconds
        return result
    }

    /// The counts the client threads share, behind a pthread lock.
    // Sendable: `counts` is read and written only under `lock`.
    private final class Tally: @unchecked Sendable {
        struct Counts {
            var next = 0
            var served = 0
            var shed = 0
            var otherErrors = 0
            var servedLatencies: [Double] = []

            var result: Result { Result(served: served, shed: shed, otherErrors: otherErrors, servedLatencies: servedLatencies) }
        }

        private let lock = NIOLock()
        private var counts = Counts()  // protected by `lock`

        func withLock<T>(_ body: (inout Counts) -> T) -> T {
            lock.withLock { body(&counts) }
        }
    }

    /// Runs `body` on `count` threads and returns when all have.
    private static func runThreads(_ count: Int, _ body: @escaping @Sendable () -> Void) {
        let group = DispatchGroup()
        for _ in 0..<count {
            group.enter()
            let thread = Thread {
                body()
                group.leave()
            }
            thread.stackSize = 256 * 1024
            thread.start()
        }
        group.wait()
    }

    /// The child process of this one whose first argument is `subcommand`.
    static func childPID(runningSubcommand subcommand: String) -> Int32? {
        let me = getpid()
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries {
            guard let pid = Int32(entry),
                let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 1, Int32(fields[1]) == me,
                let cmdline = FileManager.default.contents(atPath: "/proc/\(pid)/cmdline")
            else { continue }
            let arguments = cmdline.split(separator: 0).map { String(decoding: $0, as: UTF8.self) }
            if arguments.count > 1, arguments[1] == subcommand { return pid }
        }
        return nil
    }

    /// The resident set of `pid` in MB (VmRSS), or nil if it cannot be read.
    static func residentMegabytes(pid: Int32) -> Double? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        let kilobytes = line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first.flatMap { Double($0) }
        return kilobytes.map { $0 / 1024 }
    }
}
