#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Spindle
import SpindleTestSupport

// A ProcessPool worker for Spindle's tests: registers jobs that misbehave on purpose.
if CommandLine.arguments.dropFirst().first == forgetWorkerCallArgument {
    forgetWorkerCall()
}
noteFixtureFramesPipe()
ProcessPool.runWorkerIfRequested(jobs: fixtureJobs)
print("spindle-worker-fixture: a ProcessPool worker for tests; it is started by the pool, not by hand")

/// `SpindleWorkerFixture --forget-worker-call`: a program that uses itself as a pool's worker
/// but never calls `ProcessPool.runWorkerIfRequested`. Prints the outcome of one task.
func forgetWorkerCall() -> Never {
    // Should the pool fail to refuse, the third generation stops the fork bomb here.
    let depth = Int(ProcessInfo.processInfo.environment["SPINDLE_FIXTURE_DEPTH"] ?? "0") ?? 0
    if depth >= 2 {
        print("fixture: generation \(depth) ran main: a fork bomb")
        exit(1)
    }
    setenv("SPINDLE_FIXTURE_DEPTH", String(depth + 1), 1)
    do {
        let pool = try ProcessPool(configuration: .init(maxWorkers: 2, workerArguments: [forgetWorkerCallArgument]))
        defer { pool.shutdown() }
        let answer = try pool.submit(SquareJob.self, 3).result(timeout: .seconds(60))
        print("answer: \(answer)")
    } catch {
        print("error: \(error)")
    }
    exit(0)
}
