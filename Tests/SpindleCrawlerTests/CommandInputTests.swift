import Foundation
import SpindleTestSupport
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// `spindle exec`, `bank` and `primes` as a user runs them: the built executable, given bytes
/// that are not UTF-8, bad values, signals and big outputs.
@Suite("spindle exec, bank and primes: input and faults (the executable)")
struct CommandInputTests {
    // MARK: Bad values

    @Test("bad values exit 64 with a message naming the problem, never a crash", arguments: [
        (["bank", "--window-ms", "4294968"], "--window-ms must be between 0 and 3600000 (an hour), got 4294968"),
        (["bank", "--window-ms", "9223372036854775807"], "--window-ms must be between 0 and 3600000"),
        (["primes", "--models", ""], "--models names no model"),
        (["primes", "--models", " , "], "--models names no model"),
        (["primes", "--models", "threads,,async"], "--models 'threads,,async' has an empty name between commas"),
        (["exec", "--input-file", "/", "--", "true", ":::", "x"], "--input-file / is a directory"),
        (["exec", "--input-file", "/dev/zero", "--", "true", ":::", "x"], "--input-file /dev/zero holds more than 67108864 bytes, or has no end"),
        (["exec", "--input-file", "/nonexistent-dir/in.txt", "--", "true", ":::", "x"], "--input-file /nonexistent-dir/in.txt cannot be read: No such file or directory"),
    ])
    func badValues(arguments: [String], message: String) async throws {
        let run = try await SpindleRun.start(arguments.map { Array($0.utf8) }).finish()
        #expect(run.status == .exited(64), "stderr: \(run.errorText)")
        #expect(run.errorText.contains(message), "stderr: \(run.errorText)")
        #expect(run.standardOutput.isEmpty)
    }

    @Test("exec -j with the largest number and --keep-order runs, never a crash")
    func hugeJobCount() async throws {
        let run = try await SpindleRun.start(
            ["exec", "-j", String(Int.max), "--keep-order", "--", "echo", ":::", "a", "b"].map { Array($0.utf8) }).finish()
        #expect(run.status == .exited(0), "stderr: \(run.errorText)")
        #expect(run.standardOutput == Array("a\nb\n".utf8))
    }

    @Test("bank at the edge of the accepted windows runs")
    func bankRuns() async throws {
        let run = try await SpindleRun.start(["bank", "--window-ms", "0", "--json"].map { Array($0.utf8) }).finish()
        #expect(run.status == .exited(0), "stderr: \(run.errorText)")
        #expect(String(decoding: run.standardOutput, as: UTF8.self).contains("\"successes\": 1"))
    }

    // MARK: Bytes that are not UTF-8

    /// `café` in Latin-1: `é` is the single byte 0xE9, not valid UTF-8.
    static let latin1Name: [UInt8] = [0x63, 0x61, 0x66, 0xE9]

    @Test("an item after ::: that is not UTF-8 reaches the command as its bytes, and so does an argument")
    func nonUTF8ArgumentsAndItems() async throws {
        // printf '%s|%s\n' ARG ITEM: the job writes back exactly what it was given.
        let words: [[UInt8]] = [Array("exec".utf8), Array("--".utf8), Array("printf".utf8), Array("%s|%s\\n".utf8), [0xFF, 0x41], Array("{}".utf8), Array(":::".utf8), Self.latin1Name]
        let run = try await SpindleRun.start(words).finish()
        #expect(run.status == .exited(0), "stderr: \(run.errorText)")
        #expect(run.standardOutput == [0xFF, 0x41, UInt8(ascii: "|")] + Self.latin1Name + [UInt8(ascii: "\n")])
    }

    @Test("lines of standard input that are not UTF-8 are items as their bytes; a line with a NUL byte is an error naming it")
    func nonUTF8StandardInput() async throws {
        let input = Self.latin1Name + Array("\nplain\r\nbad\0item\n".utf8)
        let run = try await SpindleRun.start(
            ["exec", "-j", "1", "--keep-order", "--", "printf", "[%s]\\n"].map { Array($0.utf8) }, standardInput: input
        ).finish()
        #expect(run.status == .exited(1), "the NUL item failed: stderr: \(run.errorText)")
        #expect(run.standardOutput == Array("[".utf8) + Self.latin1Name + Array("]\n[plain]\n".utf8))
        #expect(run.errorText.contains("the item 'bad\\0item' contains a NUL byte, which no argument can hold"), "stderr: \(run.errorText)")
        #expect(run.errorText.contains("3 jobs: 2 succeeded, 1 failed (not started: 1)"), "stderr: \(run.errorText)")
    }

    @Test("a line of standard input longer than any argument can be is an error naming the limit")
    func overlongStandardInputLine() async throws {
        let input = Array("short\n".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 200_000)
        let run = try await SpindleRun.start(["exec", "--", "true"].map { Array($0.utf8) }, standardInput: input).finish()
        #expect(run.status == .exited(64), "stderr: \(run.errorText)")
        #expect(run.errorText.contains("standard input has a line longer than 131072 bytes, the most an argument can hold"), "stderr: \(run.errorText)")
    }

    @Test("many short lines of standard input are each an item")
    func manyStandardInputLines() async throws {
        let input = Array((1...1000).map { "\($0)\n" }.joined().utf8)
        let run = try await SpindleRun.start(["exec", "-j", "2", "--", "true"].map { Array($0.utf8) }, standardInput: input).finish()
        #expect(run.status == .exited(0), "stderr: \(run.errorText)")
        #expect(run.errorText.contains("1000 jobs: 1000 succeeded, 0 failed, 0 timed out"), "stderr: \(run.errorText)")
    }

    // MARK: Signals

    @Test("SIGTERM ends spindle exec with 143, SIGINT with 130; the running job is terminated either way",
          arguments: [(SIGTERM, Int32(143)), (SIGINT, Int32(130))])
    func exitStatusAfterASignal(signal: Int32, status: Int32) async throws {
        let directory = try ScratchFiles()
        let started = directory.path("started")
        let process = try SpindleRun.start(
            ["exec", "--", "sh", "-c", "touch \(started); exec sleep 60", "sh", ":::", "x"].map { Array($0.utf8) })
        let jobStarted = await waitUntil(seconds: 30) { FileManager.default.fileExists(atPath: started) }
        #expect(jobStarted)
        kill(process.processID, signal)
        let run = try await process.finish()
        #expect(run.status == .exited(status), "stderr: \(run.errorText)")
        #expect(run.errorText.contains("1 job: 0 succeeded, 1 failed (signal 15: 1)"), "stderr: \(run.errorText)")
    }

    @Test("a job starts with no blocked signal and no ignored one, though spindle exec ignores SIGINT and SIGTERM; SIGTERM ends it")
    func jobsStartWithDefaultSignals() async throws {
        let directory = try ScratchFiles()
        let pidFile = directory.path("pid")
        let process = try SpindleRun.start(
            ["exec", "--", "sh", "-c", "echo $$ > \(pidFile).tmp && mv \(pidFile).tmp \(pidFile) && exec sleep 60", "sh", ":::", "x"]
                .map { Array($0.utf8) })
        let written = await waitUntil(seconds: 30) { FileManager.default.fileExists(atPath: pidFile) }
        #expect(written)
        let jobPID = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        // `exec sleep` keeps the PID: wait for the exec so the status read is sleep's own.
        let isSleep = await waitUntil(seconds: 30) {
            (try? String(contentsOfFile: "/proc/\(jobPID)/comm", encoding: .utf8)) == "sleep\n"
        }
        #expect(isSleep)
        let status = try String(contentsOfFile: "/proc/\(jobPID)/status", encoding: .utf8)
        let mask = { (name: String) in
            status.split(separator: "\n").first { $0.hasPrefix(name) }.flatMap { UInt64($0.dropFirst(name.count), radix: 16) }
        }
        #expect(mask("SigBlk:\t") == 0, "\(status)")
        // Signals 1–31 (glibc's posix_spawn may leave its internal signals 32 and 33 ignored).
        #expect(mask("SigIgn:\t").map { $0 & 0x7FFF_FFFF } == 0, "\(status)")
        kill(jobPID, SIGTERM)
        let run = try await process.finish()
        #expect(run.status == .exited(1))
        #expect(run.errorText.contains("spindle exec: signal 15: sh -c"), "stderr: \(run.errorText)")
    }

    @Test("kill -9 of spindle exec takes its running jobs with it, and what they started")
    func jobsDoNotOutliveAKilledSpindle() async throws {
        let directory = try ScratchFiles()
        let pidFile = directory.path("pids")
        // 200 kB of output first: more than a pipe holds, so the job gets past it only once
        // spindle exec reads its output, which it does once it has registered the job.
        let script = "head -c 200000 /dev/zero; sleep 60 & echo $$ $! > \(pidFile).tmp && mv \(pidFile).tmp \(pidFile); wait"
        let process = try SpindleRun.start(["exec", "--", "sh", "-c", script, "sh", ":::", "x"].map { Array($0.utf8) })
        let written = await waitUntil(seconds: 30) { FileManager.default.fileExists(atPath: pidFile) }
        #expect(written)
        let pids = try String(contentsOfFile: pidFile, encoding: .utf8).split(whereSeparator: \.isWhitespace).compactMap { Int32($0) }
        try #require(pids.count == 2)
        kill(process.processID, SIGKILL)
        let run = try await process.finish()
        #expect(run.status == .signaled(SIGKILL))
        for pid in pids {
            let gone = await waitUntil(seconds: 30) { CommandInputTests.hasEnded(pid) }
            #expect(gone, "process \(pid) of the job outlived spindle exec")
            if !gone { kill(pid, SIGKILL) }
        }
    }

    /// Whether the process is gone, or a zombie (dead, waiting for a parent to reap it).
    static func hasEnded(_ pid: Int32) -> Bool {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return true }
        let state = stat[stat.index(after: close)...].dropFirst().first
        return state == "Z" || state == "X"
    }

    // MARK: Memory

    @Test("--output-limit: spindle exec holds about the limit of a job's output, not several times it")
    func outputLimitBoundsMemory() async throws {
        let limit = 64 << 20
        // The same command with a tiny output: what spindle exec needs besides the output.
        let small = try await SpindleRun.start(
            ["exec", "--output-limit", String(limit), "--", "sh", "-c", "head -c 1000 /dev/zero", "sh", ":::", "x"].map { Array($0.utf8) },
            discardOutput: true
        ).finish()
        let big = try await SpindleRun.start(
            ["exec", "--output-limit", String(limit), "--", "sh", "-c", "head -c \(2 * limit) /dev/zero", "sh", ":::", "x"].map { Array($0.utf8) },
            discardOutput: true
        ).finish()
        #expect(small.status == .exited(0) && big.status == .exited(0), "stderr: \(big.errorText)")
        let extra = big.peakResidentBytes - small.peakResidentBytes
        #expect(extra <= limit + limit / 2, "peak RSS grew by \(extra) bytes for a limit of \(limit)")
    }
}

/// The `spindle` executable started with arguments given as bytes (so they need not be UTF-8),
/// standard input from given bytes, standard output and error to files, and its peak memory
/// read from `wait4` when it exits. Killed (by its PID) if it outlives its time limit.
struct SpindleRun {
    enum Status: Equatable {
        case exited(Int32)
        case signaled(Int32)
    }

    struct Finished {
        var status: Status
        var standardOutput: [UInt8]
        var standardError: [UInt8]
        /// The largest resident set of the process (and of the jobs it waited for), in bytes.
        var peakResidentBytes: Int
        var errorText: String { String(decoding: standardError, as: UTF8.self) }
    }

    let processID: pid_t
    private let files: ScratchFiles
    private let discardOutput: Bool
    private let timeout: Duration

    static func start(
        _ arguments: [[UInt8]], standardInput: [UInt8] = [], discardOutput: Bool = false, timeout: Duration = .seconds(120)
    ) throws -> SpindleRun {
        guard FileManager.default.isExecutableFile(atPath: SpindleExecutable.url.path) else {
            throw SpindleExecutable.Missing(description: "no spindle executable at \(SpindleExecutable.url.path)")
        }
        let files = try ScratchFiles()
        _ = FileManager.default.createFile(atPath: files.path("in"), contents: Data(standardInput))
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let outputPath = discardOutput ? "/dev/null" : files.path("out")
        posix_spawn_file_actions_addopen(&actions, 0, files.path("in"), O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, outputPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, files.path("err"), O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let argv: [UnsafeMutablePointer<CChar>?] = ([Array(SpindleExecutable.url.path.utf8)] + arguments).map { bytes in
            let copy = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
            for (index, byte) in bytes.enumerated() { copy[index] = CChar(bitPattern: byte) }
            copy[bytes.count] = 0
            return copy
        } + [nil]
        defer { for pointer in argv { pointer?.deallocate() } }
        var pid: pid_t = 0
        let result = posix_spawn(&pid, SpindleExecutable.url.path, &actions, nil, argv, environ)
        guard result == 0 else { throw SpindleExecutable.Missing(description: "posix_spawn: \(String(cString: strerror(result)))") }
        return SpindleRun(processID: pid, files: files, discardOutput: discardOutput, timeout: timeout)
    }

    /// Waits for the exit (on a thread of its own: `wait4` blocks), then reads what it wrote.
    func finish() async throws -> Finished {
        let pid = processID
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        defer { watchdog.cancel() }
        let (status, usage) = await withCheckedContinuation { (continuation: CheckedContinuation<(Int32, rusage), Never>) in
            Thread.detachNewThread {
                var status: Int32 = 0
                var usage = rusage()
                while wait4(pid, &status, 0, &usage) < 0 && errno == EINTR {}
                continuation.resume(returning: (status, usage))
            }
        }
        let signal = status & 0x7F
        let read = { (name: String) in Array((try? Data(contentsOf: files.url.appendingPathComponent(name))) ?? Data()) }
        return Finished(
            status: signal == 0 ? .exited((status >> 8) & 0xFF) : .signaled(signal),
            standardOutput: discardOutput ? [] : read("out"),
            standardError: read("err"),
            peakResidentBytes: usage.ru_maxrss * 1024)
    }
}

/// A directory removed when the value is released.
final class ScratchFiles: @unchecked Sendable {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-input-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}
