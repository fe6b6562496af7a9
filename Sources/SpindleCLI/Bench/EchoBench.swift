import ArgumentParser
import Foundation
import NIOConcurrencyHelpers
import SpindleServer

/// `spindle bench echo`: Spindle's echo server against the course's gevent server, both as
/// processes of their own, driven by the same load client.
struct EchoBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "echo",
        abstract: "The echo server against the course's gevent server, same load client for both.",
        discussion: """
            Each server runs as its own process (`spindle echo serve --port 0`, and \
            bench/python/gevent_echo.py, gevent installed with pip where missing) and is driven \
            by EchoLoadClient from this process: --connections connections for --duration. \
            echo.c100: round trips per second. echo.server_cpu: the server process's own CPU \
            time (utime + stime from /proc/PID/stat: every thread of that process, kernel time \
            included, nothing of the load client) per round trip, in µs; lower is better; its \
            user_us and sys_us split it into the server's own code and the kernel's work (the \
            read, the write with the reply's delivery over loopback, epoll), likewise for gevent. \
            Spindle's server runs --server-event-loops loops (default 0: one per core, as \
            `spindle echo serve` does).

            The floor: bench/c/echo_floor.c, compiled with the system's C compiler and driven \
            the same way, is one thread doing one read() and one write() per message and nothing \
            else — the least CPU any server can spend per round trip here, almost all of it the \
            kernel's (floor_us, floor_user_us, floor_sys_us in echo.server_cpu). The distance from \
            it is what a server's own code costs. Skipped, with a note, without a C compiler.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "How long each server is driven (500ms, 10s, 1m).", transform: DurationArgument.parse)
    var duration = DurationArgument.seconds(10)

    @Option(help: "Connections at once.")
    var connections = 100

    @Option(help: "Event loop threads of Spindle's server (0: one per core, the server's default).")
    var serverEventLoops = 0

    func validate() throws {
        guard duration.duration >= .milliseconds(100) else { throw ValidationError("--duration must be at least 100ms, got \(duration)") }
        guard (1...10_000).contains(connections) else { throw ValidationError("--connections must be between 1 and 10000, got \(connections)") }
        guard (0...256).contains(serverEventLoops) else { throw ValidationError("--server-event-loops must be between 0 and 256, got \(serverEventLoops)") }
    }

    func run() async throws {
        let loops = serverEventLoops > 0 ? ["--event-loops", String(serverEventLoops)] : []
        let spindle = try await measure(name: "spindle", command: [BenchServerProcess.currentExecutable(), "echo", "serve", "--port", "0"] + loops)
        try PythonPeer.ensure(modules: ["gevent"], packages: ["gevent"])
        let script = try PythonPeer.scriptsDirectory().appendingPathComponent("gevent_echo.py").path
        let gevent = try await measure(name: "gevent", command: ["/usr/bin/env", "python3", script, "127.0.0.1", "0"])
        var floor: ServerRun?
        var floorProblem: String?
        do {
            let floorServer = try Self.compileFloorServer()
            defer { try? FileManager.default.removeItem(at: floorServer.deletingLastPathComponent()) }
            floor = try await measure(name: "floor", command: [floorServer.path, "0"])
        } catch {
            floorProblem = "\(error)"
        }

        var report = BenchReport(suite: "echo")
        report.add(BenchFigure(
            name: "echo.c\(connections)", unit: "round trips/s", value: spindle.load.roundTripsPerSecond,
            direction: .higherIsBetter, baseline: "gevent echo server (course)", baselineValue: gevent.load.roundTripsPerSecond,
            extra: [("p99_ms", spindle.load.latencyMilliseconds(99)), ("baseline_p99_ms", gevent.load.latencyMilliseconds(99))]))
        report.add(BenchFigure(
            name: "echo.server_cpu", unit: "us/round trip", value: spindle.cpuMicrosecondsPerRoundTrip,
            direction: .lowerIsBetter, baseline: "gevent echo server (course)", baselineValue: gevent.cpuMicrosecondsPerRoundTrip,
            extra: [
                ("user_us", spindle.userMicrosecondsPerRoundTrip), ("sys_us", spindle.systemMicrosecondsPerRoundTrip),
                ("baseline_user_us", gevent.userMicrosecondsPerRoundTrip), ("baseline_sys_us", gevent.systemMicrosecondsPerRoundTrip),
            ] + (floor.map { floor in
                [("floor_us", floor.cpuMicrosecondsPerRoundTrip), ("floor_user_us", floor.userMicrosecondsPerRoundTrip), ("floor_sys_us", floor.systemMicrosecondsPerRoundTrip)]
            } ?? [])))
        report.notes.append("\(connections) connections for \(duration) per server; load client in this process, servers in their own.")
        report.notes.append(
            "Spindle's server on \(serverEventLoops > 0 ? "\(serverEventLoops) event loop(s)" : "one event loop per core") (--server-event-loops); "
                + "one loop gets more events from each epoll_wait but serves fewer round trips when other programs compete for the cores.")
        if let floor {
            let share = floor.cpuMicrosecondsPerRoundTrip / gevent.cpuMicrosecondsPerRoundTrip
            report.notes.append(
                "floor (bench/c/echo_floor.c: one read and one write per message, nothing else): "
                    + "\(Self.format(floor.cpuMicrosecondsPerRoundTrip)) µs per round trip, \(Self.format(share))× gevent's; "
                    + "Spindle's server spends \(Self.format(spindle.cpuMicrosecondsPerRoundTrip - floor.cpuMicrosecondsPerRoundTrip)) µs above it, gevent \(Self.format(gevent.cpuMicrosecondsPerRoundTrip - floor.cpuMicrosecondsPerRoundTrip)) µs.")
        } else if let floorProblem {
            report.notes.append("floor not measured: \(floorProblem)")
        }
        for run in [spindle, gevent] + (floor.map { [$0] } ?? []) where run.load.errors > 0 {
            report.notes.append("\(run.name): \(run.load.errors) errors (wrong replies \(run.load.wrongReplies), disconnects \(run.load.disconnects), failed connections \(run.load.connectFailures))")
        }
        report.print(json: options.json)
    }

    private static func format(_ value: Double) -> String {
        String(format: "%.2f", value)
    }

    /// Compiles bench/c/echo_floor.c into a new temporary folder and returns the executable.
    private static func compileFloorServer() throws -> URL {
        let source = try PythonPeer.scriptsDirectory().deletingLastPathComponent().appendingPathComponent("c/echo_floor.c")
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-echo-floor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let executable = folder.appendingPathComponent("echo_floor")
        var failures: [String] = []
        for compiler in ["cc", "clang", "gcc"] {
            do {
                _ = try PythonPeer.run([compiler, "-O2", "-o", executable.path, source.path])
                return executable
            } catch {
                failures.append("\(compiler): \(error)")
            }
        }
        try? FileManager.default.removeItem(at: folder)
        throw PythonPeer.Failure(description: "no C compiler could build \(source.path) (\(failures.joined(separator: "; ")))")
    }

    /// What one server did under the load.
    struct ServerRun {
        var name: String
        var load: EchoLoadReport
        var userSeconds: Double
        var systemSeconds: Double

        var cpuMicrosecondsPerRoundTrip: Double { perRoundTrip(userSeconds + systemSeconds) }
        /// The part spent in the kernel (reads, writes, epoll, delivering the reply over
        /// loopback), which no server code avoids, and the part spent in the server's own code.
        var systemMicrosecondsPerRoundTrip: Double { perRoundTrip(systemSeconds) }
        var userMicrosecondsPerRoundTrip: Double { perRoundTrip(userSeconds) }

        private func perRoundTrip(_ seconds: Double) -> Double {
            load.roundTrips > 0 ? seconds * 1e6 / Double(load.roundTrips) : .nan
        }
    }

    private func measure(name: String, command: [String]) async throws -> ServerRun {
        let server = try BenchServerProcess(command: command, name: name)
        defer { server.stop() }
        let before = try server.cpuTimes()
        let load = try await EchoLoadClient.run(
            EchoLoadConfiguration(port: server.port, connections: connections, duration: duration.duration))
        let after = try server.cpuTimes()
        return ServerRun(name: name, load: load, userSeconds: after.user - before.user, systemSeconds: after.system - before.system)
    }
}

/// A server started as a child process for a benchmark: waits for its `listening on HOST:PORT`
/// line, reads its CPU time from /proc, and is stopped by PID (SIGTERM, then SIGKILL).
final class BenchServerProcess {
    let name: String
    /// The port it reported; set once it has.
    private(set) var port = 0
    private let process = Process()
    private let errors: ReadInBackground

    /// This executable, as the kernel knows it (works whatever directory it was started from).
    static func currentExecutable() -> String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    init(command: [String], name: String, startTimeout: Double = 60) throws {
        self.name = name
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        let output = Pipe()
        let errorOutput = Pipe()
        process.standardOutput = output
        process.standardError = errorOutput
        process.standardInput = FileHandle.nullDevice
        try process.run()
        errors = ReadInBackground(errorOutput.fileHandleForReading)

        // A thread reads the output: it reports the port, then keeps draining so the server
        // never blocks on a full pipe.
        let found = DispatchSemaphore(value: 0)
        let box = PortBox()
        let reader = output.fileHandleForReading
        Thread.detachNewThread {
            var text = ""
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                guard box.port == nil else { continue }
                text += String(decoding: chunk, as: UTF8.self)
                if let port = Self.listeningPort(in: text) {
                    box.port = port
                    found.signal()
                }
            }
            found.signal()
        }
        if found.wait(timeout: .now() + startTimeout) == .timedOut || box.port == nil {
            stop()
            throw PythonPeer.Failure(description: "\(name) server did not report `listening on HOST:PORT`: \(String(decoding: errors.finish(), as: UTF8.self).suffix(800))")
        }
        port = box.port!
    }

    /// The port in the first `listening on HOST:PORT` line of `text`.
    static func listeningPort(in text: String) -> Int? {
        for line in text.split(separator: "\n") where line.hasPrefix("listening on ") {
            let address = line.dropFirst("listening on ".count).split(separator: " ").first ?? ""
            if let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]) {
                return port
            }
        }
        return nil
    }

    /// User plus system CPU time the process has used, from /proc/PID/stat.
    func cpuSeconds() throws -> Double {
        let times = try cpuTimes()
        return times.user + times.system
    }

    /// User and system (kernel) CPU time the process has used, from /proc/PID/stat.
    func cpuTimes() throws -> (user: Double, system: Double) {
        let pid = process.processIdentifier
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else {
            throw PythonPeer.Failure(description: "cannot read /proc/\(pid)/stat of the \(name) server")
        }
        // After the command name: state is field 3, utime field 14, stime field 15.
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 12, let user = Double(fields[11]), let system = Double(fields[12]) else {
            throw PythonPeer.Failure(description: "unexpected /proc/\(pid)/stat: \(stat.prefix(200))")
        }
        let ticks = Double(sysconf(Int32(_SC_CLK_TCK)))
        return (user / ticks, system / ticks)
    }

    /// CPU time of the process itself (`own`) and of it plus its live child processes
    /// (`total`: a server's pool workers), from /proc.
    func cpuSecondsWithChildren() throws -> (own: Double, total: Double) {
        let own = try cpuSeconds()
        let pid = process.processIdentifier
        var children = 0.0
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        for entry in entries where Int32(entry) != nil {
            guard let stat = try? String(contentsOfFile: "/proc/\(entry)/stat", encoding: .utf8),
                let close = stat.lastIndex(of: ")")
            else { continue }
            // After the command name: ppid is field 4, utime 14, stime 15.
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            guard fields.count > 12, Int32(fields[1]) == pid, let user = Double(fields[11]), let system = Double(fields[12]) else { continue }
            children += (user + system) / Double(sysconf(Int32(_SC_CLK_TCK)))
        }
        return (own, own + children)
    }

    /// SIGTERM, then SIGKILL if it has not exited within five seconds; reaps it.
    func stop() {
        guard process.isRunning else { return }
        let pid = process.processIdentifier
        kill(pid, SIGTERM)
        let deadline = Date().addingTimeInterval(5)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        if process.isRunning { kill(pid, SIGKILL) }
        process.waitUntilExit()
    }

    deinit { stop() }
}

/// The port found by the reader thread; read by the starting thread after the semaphore.
private final class PortBox: Sendable {
    private let value = NIOLockedValueBox<Int?>(nil)
    var port: Int? {
        get { value.withLockedValue { $0 } }
        set { value.withLockedValue { $0 = newValue } }
    }
}
