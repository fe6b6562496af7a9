import Foundation
import Testing

@testable import Spindle
import SpindleTestSupport

/// The replacements a pool reported, and a way to wait for them.
final class ReplacementLog: @unchecked Sendable {
    private let condition = NSCondition()
    private var events: [ProcessPool.WorkerReplacement] = []

    var record: @Sendable (ProcessPool.WorkerReplacement) -> Void {
        { [self] event in
            condition.lock()
            events.append(event)
            condition.broadcast()
            condition.unlock()
        }
    }

    /// Waits (on a thread of its own) until `count` replacements were reported; nil after `seconds`.
    func first(_ count: Int, within seconds: Double = 60) async throws -> [ProcessPool.WorkerReplacement]? {
        try await onThread { [self] in
            condition.lock()
            defer { condition.unlock() }
            let deadline = Date(timeIntervalSinceNow: seconds)
            while events.count < count {
                if !condition.wait(until: deadline) { break }
            }
            return events.count >= count ? Array(events.prefix(count)) : nil
        }
    }
}

func fixturePool(workers: Int, timeout: Duration? = nil, log: ReplacementLog) throws -> ProcessPool {
    try ProcessPool(configuration: .init(
        maxWorkers: workers, taskTimeout: timeout, workerExecutable: try fixtureWorker(), onWorkerReplaced: log.record))
}

/// A line of /proc/PID/status, such as `SigBlk`.
func procStatus(_ pid: pid_t, _ field: String) -> String? {
    guard let text = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return nil }
    return text.split(separator: "\n").first { $0.hasPrefix(field + ":") }
        .map { $0.dropFirst(field.count + 1).trimmingCharacters(in: .whitespaces) }
}

@Suite("ProcessPool faults", .serialized)
struct ProcessPoolFaultTests {
    @Test("a worker SIGKILLed while idle is reaped and replaced at once; the next tasks succeed and the counts are true")
    func idleWorkerKilled() async throws {
        let log = ReplacementLog()
        let pool = try fixturePool(workers: 2, log: log)
        let victim = pool.workerPIDs[0]
        kill(victim, SIGKILL)
        let events = try await log.first(1)
        let event = try #require(events?.first, "the pool did not notice its idle worker died")
        #expect(event.pid == victim)
        #expect(event.ending.contains("SIGKILL"))
        #expect(!event.whileBusy)
        let replacement = try #require(event.replacementPID)
        #expect(!processExists(victim), "the dead worker was not reaped (a zombie is left)")
        #expect(pool.statistics.liveWorkers == 2)
        #expect(pool.statistics.workerRestarts == 1)
        #expect(Set(pool.workerPIDs).count == 2 && pool.workerPIDs.contains(replacement) && !pool.workerPIDs.contains(victim))
        let squares = try await (0..<20).concurrentMap(maxConcurrency: 2) { try await pool.run(SquareJob.self, $0) }
        #expect(squares == (0..<20).map { $0 * $0 })
        await pool.shutdownGracefully()
    }

    @Test("a task sent to a worker that died before reading it is sent to another worker and succeeds")
    func untakenTaskResent() async throws {
        let log = ReplacementLog()
        let pool = try fixturePool(workers: 1, log: log)
        let victim = pool.workerPIDs[0]
        // Stopped, the worker cannot read the request; killed, it dies without having taken it.
        kill(victim, SIGSTOP)
        let task = Task { try await pool.run(SquareJob.self, 7) }
        let deadline = Date(timeIntervalSinceNow: 60)
        while pool.statistics.busyWorkers == 0 && Date() < deadline { try await Task.sleep(for: .milliseconds(5)) }
        #expect(pool.statistics.busyWorkers == 1)
        kill(victim, SIGKILL)
        #expect(try await task.value == 49)
        let event = try #require(try await log.first(1)?.first)
        #expect(event.pid == victim && event.whileBusy)
        #expect(!processExists(victim))
        #expect(pool.statistics.liveWorkers == 1)
        await pool.shutdownGracefully()
    }

    @Test("workers start with no signal blocked, so SIGTERM ends one; they are named spindle-worker in ps")
    func signalsAndName() async throws {
        let log = ReplacementLog()
        // Created on a thread that blocks every signal, as Dispatch's threads block most.
        let pool = try await onThread { () throws -> ProcessPool in
            var all = sigset_t()
            sigfillset(&all)
            pthread_sigmask(SIG_BLOCK, &all, nil)
            return try fixturePool(workers: 1, log: log)
        }
        _ = try await pool.run(SquareJob.self, 1)  // the worker has started serving
        let worker = pool.workerPIDs[0]
        #expect(procStatus(worker, "SigBlk") == "0000000000000000")
        let name = try String(contentsOfFile: "/proc/\(worker)/comm", encoding: .utf8)
        #expect(name.trimmingCharacters(in: .whitespacesAndNewlines) == "spindle-worker")
        let commandLine = try String(contentsOfFile: "/proc/\(worker)/cmdline", encoding: .utf8)
        #expect(commandLine.hasPrefix("spindle-worker\0"))
        kill(worker, SIGTERM)
        let event = try #require(try await log.first(1)?.first, "SIGTERM did not end the worker")
        #expect(event.ending.contains("SIGTERM"))
        #expect(try await pool.run(SquareJob.self, 4) == 16)
        await pool.shutdownGracefully()
    }

    @Test("a worker that writes a malformed frame fails its task with that cause, not the pool's SIGKILL")
    func malformedFrame() async throws {
        let log = ReplacementLog()
        let pool = try fixturePool(workers: 1, log: log)
        let error = await #expect(throws: SpindleError.self) { try await pool.run(CorruptFrameJob.self, 1) }
        #expect(error?.code == .workerDied)
        #expect(error?.description.contains("over the limit") == true, "\(String(describing: error))")
        #expect(error?.description.contains("SIGKILL") == false, "\(String(describing: error))")
        #expect(error?.description.contains("fixture.corrupt-frame") == true)
        #expect(try await pool.run(SquareJob.self, 5) == 25)
        await pool.shutdownGracefully()
    }

    @Test("a program whose main forgot runWorkerIfRequested gets an error naming it, without a fork bomb or a hang")
    func forgottenWorkerCall() async throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: try fixtureWorker())
        process.arguments = [forgetWorkerCallArgument]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let finished = try await onThread { () -> Bool in
            let deadline = Date(timeIntervalSinceNow: 90)
            while process.isRunning && Date() < deadline { usleep(10_000) }
            return !process.isRunning
        }
        if !finished { process.terminate() }
        #expect(finished, "the program hung")
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        #expect(text.contains("error:") && text.contains("runWorkerIfRequested"), "\(text)")
        #expect(!text.contains("fork bomb"), "\(text)")
    }
}
