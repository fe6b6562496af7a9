import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import SpindleServer

/// `spindle bench serve`: `spindle serve` and the course's Flask app under the same `wrk` load.
struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "The web service against the course's Flask app, under wrk.",
        discussion: """
            Each figure is one wrk run (2 threads, keep-alive, --duration long) against a fresh \
            server process on loopback: `spindle serve` (this executable) and the course's Flask \
            app (bench/python/flask_app.py, Flask's threaded dev server) where it has the route. \
            serve.root.cN: GET / at N connections (the three reads, 0.1 + 0.2 + 0.3 s, at once); \
            serve.sequential.c100: one after another; serve.threadpool.c100: Spindle's \
            GET /?pool=threads (the course's design: blocking reads on a 6-thread pool) against \
            Flask's GET /; serve.is_prime_heavy.c10: GET /is_prime/112272535095293; \
            serve.is_prime_tiny.c10: GET /is_prime/1,2,3 (checked inline: cheaper than a \
            message to a worker); serve.is_prime_tiny_pool.c10: the same sent to a worker \
            process (--inline-divisions 0), as the course does. Values are requests/s; p50_ms, p99_ms \
            from wrk --latency; errors = socket errors + non-2xx answers. Installs wrk with \
            apt-get and Flask with pip where missing.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "How long each wrk run lasts (e.g. 10s).", transform: DurationArgument.parse)
    var duration = DurationArgument.seconds(10)

    /// One load: a route at a concurrency, and the Flask route it is compared with.
    struct Scenario {
        var figure: String
        var path: String
        var connections: Int
        var flaskPath: String?
        var serverArguments: [String] = []
    }

    static let scenarios = [
        Scenario(figure: "serve.root.c10", path: "/", connections: 10, flaskPath: "/"),
        Scenario(figure: "serve.root.c100", path: "/", connections: 100, flaskPath: "/"),
        Scenario(figure: "serve.root.c1000", path: "/", connections: 1000, flaskPath: "/"),
        Scenario(figure: "serve.sequential.c100", path: "/sequential", connections: 100, flaskPath: "/sequential"),
        Scenario(figure: "serve.threadpool.c100", path: "/?pool=threads", connections: 100, flaskPath: "/"),
        Scenario(figure: "serve.is_prime_heavy.c10", path: "/is_prime/112272535095293", connections: 10, flaskPath: "/is_prime/112272535095293"),
        Scenario(figure: "serve.is_prime_tiny.c10", path: "/is_prime/1,2,3", connections: 10, flaskPath: "/is_prime/1,2,3"),
        // The same through a worker process, as the course sends every list.
        Scenario(
            figure: "serve.is_prime_tiny_pool.c10", path: "/is_prime/1,2,3", connections: 10, flaskPath: "/is_prime/1,2,3",
            serverArguments: ["--inline-divisions", "0"]),
    ]

    func validate() throws {
        guard duration.seconds >= 1 else { throw ValidationError("--duration must be at least 1s") }
    }

    func run() async throws {
        try Self.ensureWrk()
        var notes = try Self.ensureFileLimit(for: Self.scenarios.map(\.connections).max()!)
        try PythonPeer.ensure(modules: ["flask"], packages: ["flask"])
        let flaskScript = try PythonPeer.scriptsDirectory().appendingPathComponent("flask_app.py").path
        let spindleCommand = [BenchServerProcess.currentExecutable(), "serve", "--port", "0", "--grace-period", "2s"]
        let flaskCommand = { (port: Int) in ["/usr/bin/env", "python3", flaskScript, String(port)] }

        var flaskResults: [String: WrkResult] = [:]  // by path and connections: one run serves two figures
        var report = BenchReport(suite: "serve")
        var heavy = HeavyRunContext()
        for scenario in Self.scenarios {
            let isHeavy = scenario.figure == "serve.is_prime_heavy.c10"
            if isHeavy {
                // Measured next to the run it is compared with, so both see the same machine.
                heavy.singleNumberSeconds = Self.singleNumberSeconds()
                heavy.singleNumberCPUSeconds = Self.singleNumberCPUSeconds()
                heavy.parallelSeconds = Self.parallelNumberSeconds()
            }
            let spindle = try Self.measure(command: spindleCommand + scenario.serverArguments, name: "spindle serve", port: nil, scenario.path, scenario.connections, duration)
            if isHeavy { heavy.run = spindle }
            var flask: WrkResult?
            if let flaskPath = scenario.flaskPath {
                let key = "\(flaskPath) c\(scenario.connections)"
                if flaskResults[key] == nil {
                    let port = try Self.freeLoopbackPort()
                    flaskResults[key] = try Self.measure(command: flaskCommand(port), name: "flask", port: port, flaskPath, scenario.connections, duration)
                }
                flask = flaskResults[key]
            }
            report.add(BenchFigure(
                name: scenario.figure, unit: "req/s", value: spindle.requestsPerSecond, direction: .higherIsBetter,
                baseline: flask.map { _ in "Flask \(scenario.flaskPath!) (threaded dev server)" }, baselineValue: flask?.requestsPerSecond,
                extra: [("p50_ms", spindle.p50Milliseconds), ("p99_ms", spindle.p99Milliseconds), ("errors", Double(spindle.errors))]
                    + (flask.map { [("baseline_p99_ms", $0.p99Milliseconds), ("baseline_errors", Double($0.errors))] } ?? [])))
        }
        notes += Self.goalNotes(report, heavy: heavy)
        report.notes = notes
        report.print(json: options.json)
    }

    // MARK: - Goals

    /// What the heavy prime run is compared with, measured in the same minute.
    struct HeavyRunContext {
        /// One check of the heavy number on one thread, alone.
        var singleNumberSeconds = Double.nan
        /// One check per core at once, on threads of this process: the machine's compute
        /// capacity as it is now (other work on the machine included).
        var parallelSeconds = Double.nan
        /// The CPU time (not wall time) of one check: what each request costs a worker.
        var singleNumberCPUSeconds = Double.nan
        var run: WrkResult?
    }

    /// The floors and targets, checked against the figures just measured.
    static func goalNotes(_ report: BenchReport, heavy context: HeavyRunContext) -> [String] {
        let single = context.singleNumberSeconds
        func figure(_ name: String) -> BenchFigure? { report.figures.first { $0.name == name } }
        var notes = ["floor for GET / (each request waits 0.3 s): N connections ÷ 0.3 s = 33 (c10), 333 (c100), 3,333 req/s (c1000)"]
        if let root = figure("serve.root.c1000") {
            let p99 = root.extra.first { $0.0 == "p99_ms" }?.1 ?? .nan
            let errors = root.extra.first { $0.0 == "errors" }?.1 ?? .nan
            notes.append(String(
                format: "goal serve.root.c1000 >= 2,700 req/s, p99 < 400 ms, no errors, >= 100x Flask: %.0f req/s, p99 %.0f ms, %.0f errors, %@ — %@",
                root.value, p99, errors, root.speedup.map { String(format: "%.0fx", $0) } ?? "no Flask figure",
                root.value >= 2700 && p99 < 400 && errors == 0 && (root.speedup ?? 0) >= 100 ? "met" : "NOT met"))
        }
        if let heavy = figure("serve.is_prime_heavy.c10") {
            let cores = Double(ProcessInfo.processInfo.activeProcessorCount)
            let target = 0.85 * cores / single
            notes.append(String(
                format: "goal serve.is_prime_heavy.c10 >= 0.85 x cores / single-number time = 0.85 x %.0f / %.1f ms = %.1f req/s: %.1f req/s (%.0f%% of cores / single) — %@",
                cores, single * 1000, target, heavy.value, heavy.value / (cores / single) * 100, heavy.value >= target ? "met" : "NOT met"))
            // On a shared machine the cores are not all free: compare with what plain threads
            // got in the same minute, and see where the CPU went.
            let capacity = cores / context.parallelSeconds
            notes.append(String(
                format: "serve.is_prime_heavy.c10 against the machine's capacity now (%.0f threads checking the number at once in this process: %.1f ms each, %.1f req/s): %.0f%%",
                cores, context.parallelSeconds * 1000, capacity, heavy.value / capacity * 100))
            if let run = context.run, let cpu = run.serverCPUSeconds, cpu > 0 {
                let requests = heavy.value * run.seconds
                let check = context.singleNumberCPUSeconds
                notes.append(String(
                    format: "serve.is_prime_heavy.c10 CPU: %.0f requests × %.1f ms of CPU per check = %.1f s; the server and its workers used %.1f s (%.2f s in the server process): %.0f%% of their CPU went to the checks",
                    requests, check * 1000, requests * check, cpu, run.serverOwnCPUSeconds ?? .nan, requests * check / cpu * 100))
            }
        }
        if let tiny = figure("serve.is_prime_tiny.c10"), let speedup = tiny.speedup {
            notes.append(String(format: "goal serve.is_prime_tiny.c10 >= 20x Flask: %.1fx — %@", speedup, speedup >= 20 ? "met" : "NOT met"))
        }
        return notes
    }

    /// Seconds for one `isPrimeTrialDivision(112272535095293)` in this process (median of 5).
    static func singleNumberSeconds() -> Double {
        median((0..<5).map { _ in
            let start = ContinuousClock.now
            precondition(isPrimeTrialDivision(112_272_535_095_293))
            return (ContinuousClock.now - start).seconds
        })
    }

    /// CPU seconds of this thread for one check of the heavy number (median of 5): unlike
    /// wall time, not stretched when other programs share the core.
    static func singleNumberCPUSeconds() -> Double {
        func threadCPU() -> Double {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Double(time.tv_sec) + Double(time.tv_nsec) / 1e9
        }
        return median((0..<5).map { _ in
            let start = threadCPU()
            precondition(isPrimeTrialDivision(112_272_535_095_293))
            return threadCPU() - start
        })
    }

    /// Seconds for one check of the heavy number when every core checks it at once (one thread
    /// each, five rounds, median of all): what the machine can compute right now.
    static func parallelNumberSeconds() -> Double {
        let cores = ProcessInfo.processInfo.activeProcessorCount
        let all = NIOLockedValueBox<[Double]>([])
        for _ in 0..<5 {
            DispatchQueue.concurrentPerform(iterations: cores) { _ in
                let start = ContinuousClock.now
                precondition(isPrimeTrialDivision(112_272_535_095_293))
                let seconds = (ContinuousClock.now - start).seconds
                all.withLockedValue { $0.append(seconds) }
            }
        }
        return median(all.withLockedValue { $0 })
    }

    // MARK: - Running a server and wrk

    /// Starts a fresh server, waits until its /health answers, runs wrk, stops the server.
    static func measure(
        command: [String], name: String, port: Int?, _ path: String, _ connections: Int, _ duration: DurationArgument
    ) throws -> WrkResult {
        let server = try BenchServerProcess(command: command, name: name)
        defer { server.stop() }
        let port = port ?? server.port
        try waitForHealth(port: port, name: name)
        let seconds = Int(duration.seconds.rounded(.up))
        let cpuBefore = try? server.cpuSecondsWithChildren()
        let output = try PythonPeer.run([
            "wrk", "--threads", "2", "--connections", String(connections), "--duration", "\(seconds)s",
            "--timeout", "20s", "--latency", "http://127.0.0.1:\(port)\(path)",
        ])
        let cpuAfter = try? server.cpuSecondsWithChildren()
        var result = try WrkResult(parsing: output)
        result.seconds = Double(seconds)
        if let cpuBefore, let cpuAfter {
            result.serverCPUSeconds = cpuAfter.total - cpuBefore.total
            result.serverOwnCPUSeconds = cpuAfter.own - cpuBefore.own
        }
        return result
    }

    /// Polls `GET /health` until it answers 200, for at most 30 s.
    static func waitForHealth(port: Int, name: String) throws {
        let deadline = ContinuousClock.now + .seconds(30)
        var lastError = "no answer"
        while ContinuousClock.now < deadline {
            do {
                if try LoopbackHTTP.get(port: port, path: "/health").status == 200 { return }
            } catch {
                lastError = "\(error)"
            }
            usleep(50_000)
        }
        throw PythonPeer.Failure(description: "\(name) on port \(port) did not answer /health within 30 s: \(lastError)")
    }

    /// Installs wrk with apt-get if it is not on the PATH.
    static func ensureWrk() throws {
        if (try? PythonPeer.run(["sh", "-c", "command -v wrk"])) != nil { return }
        do {
            try PythonPeer.run(["apt-get", "install", "-y", "-qq", "wrk"])
        } catch {
            throw PythonPeer.Failure(description: "wrk is not installed and apt-get could not install it (\(error)); install wrk and rerun")
        }
    }

    /// Raises the soft open-file limit (inherited by the server and wrk) to what `connections`
    /// need, within the hard limit; returns a note if it stays too low.
    static func ensureFileLimit(for connections: Int) throws -> [String] {
        var limit = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        let needed = rlim_t(connections * 2 + 256)
        if limit.rlim_cur >= needed { return [] }
        let original = limit.rlim_cur
        limit.rlim_cur = min(max(needed, 4096), limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
        if limit.rlim_cur >= needed { return ["raised the open-file limit (ulimit -n) from \(original) to \(limit.rlim_cur)"] }
        return ["WARNING: ulimit -n is \(limit.rlim_cur) (hard \(limit.rlim_max)); \(connections) connections need about \(needed): expect connect errors"]
    }

    /// A port nothing listens on now (the kernel's choice for a socket bound to port 0).
    static func freeLoopbackPort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw PythonPeer.Failure(description: "cannot create a socket") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard bound else { throw PythonPeer.Failure(description: "cannot bind a loopback socket to find a free port") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// What one `wrk --latency` run printed.
struct WrkResult {
    var requestsPerSecond: Double
    var p50Milliseconds: Double
    var p99Milliseconds: Double
    /// Socket errors (connect, read, write, timeout) plus non-2xx/3xx answers.
    var errors: Int
    /// How long wrk ran.
    var seconds = Double.nan
    /// CPU time of the server process and its worker processes during the run.
    var serverCPUSeconds: Double?
    /// CPU time of the server process alone during the run.
    var serverOwnCPUSeconds: Double?

    init(parsing output: String) throws {
        func fail() -> PythonPeer.Failure { PythonPeer.Failure(description: "cannot read wrk's output:\n\(output)") }
        var rate: Double?
        var p50: Double?
        var p99: Double?
        var errors = 0
        for rawLine in output.split(separator: "\n") {
            let line = rawLine.trimmingCharacters(in: .whitespaces)
            let fields = line.split(separator: " ", omittingEmptySubsequences: true)
            if line.hasPrefix("Requests/sec:"), fields.count >= 2 {
                rate = Double(fields[1])
            } else if line.hasPrefix("50%"), fields.count >= 2 {
                p50 = Self.milliseconds(fields[1])
            } else if line.hasPrefix("99%"), fields.count >= 2 {
                p99 = Self.milliseconds(fields[1])
            } else if line.hasPrefix("Socket errors:") {
                // Socket errors: connect 0, read 0, write 0, timeout 0
                errors += fields.compactMap { Int($0.trimmingCharacters(in: CharacterSet(charactersIn: ","))) }.reduce(0, +)
            } else if line.hasPrefix("Non-2xx or 3xx responses:"), let count = fields.last.flatMap({ Int($0) }) {
                errors += count
            }
        }
        guard let rate else { throw fail() }
        requestsPerSecond = rate
        // With no request answered wrk prints no distribution.
        p50Milliseconds = p50 ?? .nan
        p99Milliseconds = p99 ?? .nan
        self.errors = errors
    }

    /// `302.11ms`, `950.00us`, `1.20s`, `2.00m` in milliseconds.
    static func milliseconds(_ text: Substring) -> Double? {
        let units: [(String, Double)] = [("us", 0.001), ("ms", 1), ("s", 1000), ("m", 60_000), ("h", 3_600_000)]
        for (suffix, factor) in units where text.hasSuffix(suffix) {
            return Double(text.dropLast(suffix.count)).map { $0 * factor }
        }
        return nil
    }
}
