import Foundation
import Testing

@testable import Spindle
import SpindleTestSupport

/// The fixture worker executable, built beside the test bundle.
func fixtureWorker() throws -> String {
    let path = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
        .appendingPathComponent("SpindleWorkerFixture").path
    guard FileManager.default.isExecutableFile(atPath: path) else {
        throw SpindleError(.workerStartFailed, "the fixture worker is not built at \(path): run `swift build --product SpindleWorkerFixture`")
    }
    return path
}

func fixturePool(workers: Int = 2, timeout: Duration? = nil, maxTasks: Int? = nil, queue: Int? = nil) throws -> ProcessPool {
    try ProcessPool(configuration: .init(
        maxWorkers: workers, maxTasksPerWorker: maxTasks, taskTimeout: timeout, queueCapacity: queue,
        workerExecutable: try fixtureWorker()))
}

/// True while a process with this pid exists (a zombie counts as existing).
func processExists(_ pid: pid_t) -> Bool {
    kill(pid, 0) == 0 || errno != ESRCH
}

@Suite("ProcessPool", .serialized)
struct ProcessPoolTests {
    @Test("runs registered jobs in other processes: submit, run, map with chunks in order")
    func basics() async throws {
        let pool = try fixturePool()
        #expect(try await pool.run(SquareJob.self, 12) == 144)
        let pid = try await pool.run(PIDJob.self, 0)
        #expect(pid != getpid())
        #expect(pool.workerPIDs.contains(pid))
        let results = try await onThread {
            try pool.map(SquareJob.self, Array(0..<10_000), chunkSize: 100).collect()
        }
        #expect(results == (0..<10_000).map { $0 * $0 })
        let unchunked = try await onThread { try pool.map(SquareJob.self, [3, 1, 2]).collect() }
        #expect(unchunked == [9, 1, 4])
        // next() then collect(): collect starts where next() left off, mid-chunk.
        let (firstThree, rest) = try await onThread {
            let results = try pool.map(SquareJob.self, Array(0..<250), chunkSize: 100)
            let firstThree = try (0..<3).map { _ in try results.next()! }
            return (firstThree, try results.collect())
        }
        #expect(firstThree == [0, 1, 4])
        #expect(rest == (3..<250).map { $0 * $0 })
        await pool.shutdownGracefully()
    }

    @Test("a job that SIGKILLs its worker fails only its task; the next 100 succeed and the pool is back to full size")
    func workerKilled() async throws {
        let pool = try fixturePool()
        let error = await #expect(throws: SpindleError.self) { try await pool.run(KillSelfJob.self, 1) }
        #expect(error?.code == .workerDied)
        #expect(error?.description.contains("SIGKILL") == true)
        #expect(error?.description.contains("fixture.kill-self") == true)
        let squares = try await (0..<100).concurrentMap(maxConcurrency: 4) { try await pool.run(SquareJob.self, $0) }
        #expect(squares == (0..<100).map { $0 * $0 })
        #expect(pool.statistics.liveWorkers == 2)
        #expect(pool.statistics.workerRestarts == 1)
        #expect(pool.workerPIDs.allSatisfy(processExists))
        await pool.shutdownGracefully()
    }

    @Test("a worker that crashes with fatalError fails its task with a clear error")
    func fatalErrorCrash() async throws {
        let pool = try fixturePool(workers: 1)
        let error = await #expect(throws: SpindleError.self) { try await pool.run(FatalErrorJob.self, "now") }
        #expect(error?.code == .workerDied)
        #expect(try await pool.run(SquareJob.self, 3) == 9)
        await pool.shutdownGracefully()
    }

    @Test("a job over its timeout fails with a timeout and its worker is killed and replaced")
    func timeout() async throws {
        let pool = try fixturePool(workers: 1, timeout: .milliseconds(200))
        let before = pool.workerPIDs
        let error = await #expect(throws: SpindleError.self) { try await pool.run(SleepJob.self, 10_000) }
        #expect(error?.code == .timeout)
        #expect(error?.description.contains("fixture.sleep") == true)
        #expect(!processExists(before[0]))
        #expect(pool.workerPIDs != before)
        #expect(try await pool.run(SleepJob.self, 1) == 1)
        await pool.shutdownGracefully()
    }

    @Test("workers are recycled after maxTasksPerWorker tasks")
    func recycling() async throws {
        let pool = try fixturePool(workers: 1, maxTasks: 3)
        var pids: [Int32] = []
        for _ in 0..<7 { pids.append(try await pool.run(PIDJob.self, 0)) }
        #expect(Set(pids).count == 3)
        #expect(pids[0] == pids[2] && pids[2] != pids[3] && pids[3] == pids[5] && pids[5] != pids[6])
        #expect(pool.statistics.workerRestarts == 0)
        await pool.shutdownGracefully()
    }

    @Test("a throwing job carries its error's description; unknown jobs and bad input fail that task only")
    func jobErrors() async throws {
        let pool = try fixturePool(workers: 1)
        let thrown = await #expect(throws: SpindleError.self) { try await pool.run(ThrowingJob.self, "abc") }
        #expect(thrown?.code == .jobFailed)
        #expect(thrown?.description.contains("refused abc") == true)
        let unknown = await #expect(throws: SpindleError.self) { try await pool.run(UnregisteredJob.self, 1) }
        #expect(unknown?.code == .unknownJob)
        #expect(unknown?.description.contains("fixture.unregistered") == true)
        let badInput = await #expect(throws: SpindleError.self) { try await pool.run(MistypedSquareJob.self, "x") }
        #expect(badInput?.code == .codingFailed)
        let inMap = try await onThread { () -> SpindleError? in
            do {
                _ = try pool.map(ThrowingJob.self, ["x", "y", "z"], chunkSize: 2).collect()
                return nil
            } catch let error as SpindleError { return error }
        }
        #expect(inMap?.code == .jobFailed && inMap?.description.contains("refused x") == true, "collect throws the first item's error")
        #expect(try await pool.run(SquareJob.self, 5) == 25)
        #expect(pool.statistics.workerRestarts == 0)
        await pool.shutdownGracefully()
    }

    @Test("shutdown with cancelPending cancels queued tasks, finishes running ones, and leaves no child process")
    func shutdown() async throws {
        let pool = try fixturePool(workers: 1)
        let pids = pool.workerPIDs
        let (running, queued) = try await onThread {
            let running = try pool.submit(SleepJob.self, 100)
            while running.state == .pending { usleep(1000) }
            let queued = try (0..<5).map { _ in try pool.submit(SleepJob.self, 100) }
            pool.shutdown(wait: true, cancelPending: true)
            return (running, queued)
        }
        #expect(try await running.value == 100)
        #expect(queued.allSatisfy { $0.state == .cancelled })
        for pid in pids {
            #expect(!processExists(pid), "worker \(pid) is still there after shutdown")
        }
        let error = await #expect(throws: SpindleError.self) { try await pool.run(SquareJob.self, 1) }
        #expect(error?.code == .shutDown)
    }

    @Test("a bounded queue refuses work at once with trySubmit")
    func boundedQueue() async throws {
        let pool = try fixturePool(workers: 1, queue: 1)
        let first = try pool.trySubmit(SleepJob.self, 200)
        while first.state == .pending { try await Task.sleep(for: .milliseconds(1)) }
        _ = try pool.trySubmit(SleepJob.self, 1)
        let error = #expect(throws: SpindleError.self) { try pool.trySubmit(SleepJob.self, 1) }
        #expect(error?.code == .queueFull)
        await pool.shutdownGracefully()
    }

    @Test("a missing worker executable is a clear error")
    func missingExecutable() {
        let error = #expect(throws: SpindleError.self) {
            try ProcessPool(configuration: .init(workerExecutable: "/nonexistent/worker"))
        }
        #expect(error?.code == .workerStartFailed)
        #expect(error?.description.contains("/nonexistent/worker") == true)
    }
}
