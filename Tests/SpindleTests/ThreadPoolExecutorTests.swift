import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Spindle

@Suite("ThreadPoolExecutor")
struct ThreadPoolExecutorTests {
    @Test("submit runs work on the pool and returns its value or error")
    func submit() throws {
        try withThreadPool(maxWorkers: 2, threadNamePrefix: "tp-test") { pool in
            let value = try pool.submit { 6 * 7 }
            #expect(try value.result(timeout: .seconds(5)) == 42)
            struct Boom: Error {}
            let failing = try pool.submit { () throws -> Int in throw Boom() }
            #expect(throws: Boom.self) { try failing.result() }
            #expect(failing.state == .failed)
        }
    }

    @Test("default maxWorkers is min(32, cores + 4), as in CPython")
    func defaultWorkers() {
        let pool = ThreadPoolExecutor()
        #expect(pool.maxWorkers == min(32, ProcessInfo.processInfo.activeProcessorCount + 4))
        pool.shutdown()
    }

    @Test("never more than maxWorkers run at once")
    func boundedConcurrency() throws {
        let running = NIOLockedValueBox((now: 0, peak: 0))
        try withThreadPool(maxWorkers: 3) { pool in
            let futures = try (0..<30).map { _ in
                try pool.submit {
                    running.withLockedValue { $0.now += 1; $0.peak = max($0.peak, $0.now) }
                    usleep(2_000)
                    running.withLockedValue { $0.now -= 1 }
                }
            }
            for f in futures { try f.result(timeout: .seconds(10)) }
            #expect(pool.threadCountNow <= 3)
        }
        #expect(running.withLockedValue { $0.peak } == 3)
    }

    @Test("map returns results in input order with errors at their position, lazily and async")
    func mapInOrder() throws {
        try withThreadPool(maxWorkers: 4) { pool in
            let results = try pool.map(Array(0..<50)) { i -> Int in
                usleep(UInt32((50 - i) * 100))  // later items finish first
                return i * 2
            }
            #expect(try results.collect() == (0..<50).map { $0 * 2 })

            struct Odd: Error { var i: Int }
            let mixed = try pool.map([0, 2, 3, 4]) { i -> Int in
                if i == 3 { throw Odd(i: i) }
                return i
            }
            #expect(try mixed.next() == 0)
            #expect(try mixed.next() == 2)
            #expect(throws: Odd.self) { try mixed.next() }
        }
    }

    @Test("results can be consumed with for try await")
    func asyncResults() async throws {
        try await withThreadPool(maxWorkers: 2) { pool in
            let futures = try (0..<5).map { i in try pool.trySubmit { i + 1 } }
            var collected: [Int] = []
            for try await value in FutureResults(futures, deadline: nil, timeout: nil) { collected.append(value) }
            #expect(collected == [1, 2, 3, 4, 5])
        }
    }

    @Test("map's timeout counts from the call and cancels what has not started")
    func mapTimeout() throws {
        try withThreadPool(maxWorkers: 1) { pool in
            let results = try pool.map([50, 50, 50, 50], timeout: .milliseconds(80)) { ms -> Int in
                usleep(UInt32(ms) * 1000)
                return ms
            }
            #expect(try results.next() == 50)
            let error = try #require(throws: SpindleError.self) {
                while try results.next() != nil {}
            }
            #expect(error.code == .timeout)
            guard case .items(let futures) = results.source else { Issue.record("expected item futures"); return }
            #expect(futures.last?.state == .cancelled)
        }
    }

    @Test("a bounded queue makes submit wait, trySubmit throw queueFull, and run suspend")
    func boundedQueue() async throws {
        let gate = DispatchSemaphore(value: 0)
        let pool = ThreadPoolExecutor(maxWorkers: 1, queueCapacity: 2)
        let started = DispatchSemaphore(value: 0)
        _ = try pool.trySubmit { started.signal(); gate.wait() }
        // The worker took the blocker: the queue is empty again.
        try await onThread { started.wait() }
        _ = try pool.trySubmit { 1 }
        _ = try pool.trySubmit { 2 }
        let error = #expect(throws: SpindleError.self) { try pool.trySubmit { 3 } }
        #expect(error?.code == .queueFull)
        #expect(error?.description.contains("full") == true)

        let suspended = Task { try await pool.run { 4 } }
        #expect(pool.pendingCount == 2)  // the async submitter waits outside the queue
        gate.signal()
        #expect(try await suspended.value == 4)
        await pool.shutdownGracefully()
    }

    @Test("submitting after shutdown throws a clear error; shutdown(cancelPending:) cancels queued work")
    func shutdown() throws {
        let gate = DispatchSemaphore(value: 0)
        let pool = ThreadPoolExecutor(maxWorkers: 1)
        let running = try pool.submit { gate.wait(); return "ran" }
        while running.state == .pending { usleep(1000) }
        let queued = try (0..<3).map { i in try pool.submit { i } }
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { gate.signal() }
        pool.shutdown(wait: true, cancelPending: true)
        #expect(try running.result() == "ran")
        #expect(queued.allSatisfy { $0.state == .cancelled })
        let error = #expect(throws: SpindleError.self) { try pool.submit { 1 } }
        #expect(error?.code == .shutDown)
        #expect(error?.description.contains("shut down") == true)
        #expect(pool.threadCountNow == 0)
    }

    @Test("shutdown without cancelPending runs the queued work first")
    func shutdownDrains() throws {
        let pool = ThreadPoolExecutor(maxWorkers: 2)
        let futures = try (0..<20).map { i in try pool.submit { usleep(500); return i } }
        pool.shutdown(wait: true)
        #expect(try futures.map { try $0.result() } == Array(0..<20))
    }

    @Test("a throwing initializer breaks the pool: pending and later submissions fail clearly")
    func initializerFailure() throws {
        struct NoDatabase: Error, CustomStringConvertible { var description: String { "no database" } }
        let pool = ThreadPoolExecutor(maxWorkers: 1, initializer: { throw NoDatabase() })
        let first = try pool.submit { 1 }
        let error = try #require(throws: SpindleError.self) { try first.result(timeout: .seconds(5)) }
        #expect(error.code == .brokenPool)
        #expect(error.description.contains("no database"))
        let later = #expect(throws: SpindleError.self) { try pool.submit { 2 } }
        #expect(later?.code == .brokenPool)
        pool.shutdown()
    }

    @Test("the initializer runs once on every thread before its work")
    func initializerRuns() throws {
        let initialized = NIOLockedValueBox(Set<String>())
        try withThreadPool(maxWorkers: 2, threadNamePrefix: "init", initializer: {
            initialized.withLockedValue { _ = $0.insert(Thread.current.name ?? "?") }
        }) { pool in
            let names = try (0..<20).map { _ in try pool.submit { usleep(1000); return Thread.current.name ?? "?" } }
            let used = Set(try names.map { try $0.result() })
            #expect(used.isSubset(of: initialized.withLockedValue { $0 }))
        }
    }

    @Test("cancelling the task awaiting run() cancels work that has not started")
    func runCancellation() async throws {
        let gate = DispatchSemaphore(value: 0)
        let ran = NIOLockedValueBox(false)
        try await withThreadPool(maxWorkers: 1) { pool in
            let started = DispatchSemaphore(value: 0)
            let blocker = try await pool.submit { started.signal(); gate.wait() }
            try await onThread { started.wait() }
            let waiting = Task { try await pool.run { ran.withLockedValue { $0 = true } } }
            // Queued behind the blocker (a stable state until the gate opens).
            while pool.pendingCount == 0 { await Task.yield() }
            waiting.cancel()
            await #expect(throws: (any Error).self) { try await waiting.value }
            gate.signal()
            try await blocker.value
        }
        #expect(ran.withLockedValue { $0 } == false)
    }
}
