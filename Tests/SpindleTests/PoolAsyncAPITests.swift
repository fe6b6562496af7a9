import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Spindle
import SpindleTestSupport

/// The pools and futures from async code, as a `main.swift` with one `await` uses them, and the
/// sync spellings from threads: both are the same API.
@Suite("Pools and futures from async code")
struct PoolAsyncAPITests {
    @Test("async submit returns a Future (done callbacks, asCompleted) and waits for room without blocking a thread")
    func asyncSubmit() async throws {
        let gate = DispatchSemaphore(value: 0)
        let pool = ThreadPoolExecutor(maxWorkers: 1, queueCapacity: 1)
        let started = DispatchSemaphore(value: 0)
        let blocker = try await pool.submit { started.signal(); gate.wait(); return 0 }
        try await onThread { started.wait() }
        let queued = try await pool.submit { 1 }
        // The queue is full: the next submit suspends until the worker takes `queued`.
        let waiting = Task { try await pool.submit { 2 } }
        let told = LockedArray<Int>()
        queued.onComplete { done in told.append(try done.result()) }
        gate.signal()
        let third = try await waiting.value
        var order: [Int] = []
        for try await future in asCompleted([blocker, queued, third]) { order.append(try await future.value) }
        #expect(order.sorted() == [0, 1, 2])
        #expect(told.value == [1])
        await pool.shutdownGracefully()
    }

    @Test("a task cancelled while its submit waits for room throws CancellationError; the work is not queued")
    func asyncSubmitCancelled() async throws {
        let gate = DispatchSemaphore(value: 0)
        let started = DispatchSemaphore(value: 0)
        let pool = ThreadPoolExecutor(maxWorkers: 1, queueCapacity: 1)
        _ = try await pool.submit { started.signal(); gate.wait() }
        try await onThread { started.wait() }
        _ = try await pool.submit {}
        let ran = LockedArray<Int>()
        let waiting = Task { try await pool.submit { ran.append(3) } }
        waiting.cancel()
        await #expect(throws: CancellationError.self) { _ = try await waiting.value }
        #expect(pool.pendingCount == 1)
        gate.signal()
        await pool.shutdownGracefully()
        #expect(ran.value.isEmpty)
    }

    @Test("async map keeps input order; FutureResults.collect() from async code")
    func asyncMap() async throws {
        try await withThreadPool(maxWorkers: 3, queueCapacity: 2) { pool in
            let results = try await pool.map(0..<50) { $0 * 2 }
            #expect(try await results.collect() == (0..<50).map { $0 * 2 })
            var iterated: [Int] = []
            for try await value in try await pool.map(0..<5, { $0 + 1 }) { iterated.append(value) }
            #expect(iterated == [1, 2, 3, 4, 5])
        }
    }

    @Test("from a thread: asCompleted in a for loop, FutureResults.outcomes in a for loop (ending at the first failure)")
    func syncSpellings() async throws {
        struct Boom: Error {}
        let (completed, outcomes) = try await onThread { () -> ([Int], [Result<Int, any Error>]) in
            let pool = ThreadPoolExecutor(maxWorkers: 2)
            defer { pool.shutdown() }
            let futures = (0..<4).map { i in try! pool.submit { i } }
            var completed: [Int] = []
            for future in asCompleted(futures) { completed.append(try! future.result()) }
            let results = try! pool.map([1, 2, 0, 4]) { n -> Int in
                if n == 0 { throw Boom() }
                return 10 / n
            }
            return (completed, Array(results.outcomes))
        }
        #expect(completed.sorted() == [0, 1, 2, 3])
        #expect(outcomes.count == 3, "the iteration ends after the failure")
        #expect(try outcomes[0].get() == 10)
        #expect(try outcomes[1].get() == 5)
        #expect(throws: Boom.self) { try outcomes[2].get() }
    }

    @Test("a for loop over asCompleted ends at the timeout and tells how many it did not reach")
    func syncAsCompletedTimeout() async throws {
        let done = Future<Int>()
        done.complete(.success(1))
        let never = Future<Int>()
        let (seen, remaining) = try await onThread { () -> ([Int], Int) in
            let sequence = asCompleted([done, never], timeout: .milliseconds(1))
            var seen: [Int] = []
            for future in sequence { seen.append(try! future.result()) }
            return (seen, sequence.remainingCount)
        }
        #expect(seen == [1])
        #expect(remaining == 1)
    }

    @Test("waitFor from async code, and under its XCTest-proof name from a thread")
    func waitForBothWays() async throws {
        let ok = Future<Int>()
        ok.complete(.success(1))
        let pending = Future<Int>()
        let first = await waitFor([ok, pending], returnWhen: .firstCompleted)
        #expect(first.done == [ok])
        let none = try await onThread { waitFor([ok, pending], timeout: .zero, returnWhen: .allCompleted) }
        #expect(none.notDone == [pending])
        pending.cancel()
        #expect(await waitFor([ok, pending]).notDone.isEmpty)
    }

    @Test("Future.failure(timeout:) from async code: nil for a value, the error for a failure, timeout while pending")
    func asyncFailure() async throws {
        struct Boom: Error {}
        let ok = Future<Int>()
        ok.complete(.success(1))
        #expect(try await ok.failure() == nil)
        let failed = Future<Int>()
        failed.complete(.failure(Boom()))
        #expect(try await failed.failure() is Boom)
        let pending = Future<Int>()
        let error = await #expect(throws: SpindleError.self) { _ = try await pending.failure(timeout: .milliseconds(1)) }
        #expect(error?.code == .timeout)
    }

    @Test("ProcessPool: async submit and async map with chunks, in order")
    func processPoolAsync() async throws {
        let pool = try fixturePool()
        let future = try await pool.submit(SquareJob.self, 9)
        #expect(try await future.value == 81)
        let results = try await pool.map(SquareJob.self, Array(0..<1_000), chunkSize: 64)
        #expect(try await results.collect() == (0..<1_000).map { $0 * $0 })
        await pool.shutdownGracefully()
    }
}

/// An array behind a lock, for what callbacks and work record in these tests.
final class LockedArray<Element: Sendable>: Sendable {
    private let box = NIOLockedValueBox<[Element]>([])
    var value: [Element] { box.withLockedValue { $0 } }
    func append(_ element: Element) { box.withLockedValue { $0.append(element) } }
}
