import NIOConcurrencyHelpers
import Testing

@testable import Spindle
import SpindleTestSupport

@Suite("AsyncSemaphore")
struct AsyncSemaphoreTests {
    @Test("withPermit bounds concurrency to the permits")
    func bounds() async throws {
        let semaphore = AsyncSemaphore(value: 3)
        let running = NIOLockedValueBox((now: 0, peak: 0))
        // Bodies wait until three run at once: the peak is reached for sure, and never passed.
        let threeRunning = Gate()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<30 {
                group.addTask {
                    try await semaphore.withPermit {
                        let now = running.withLockedValue { $0.now += 1; $0.peak = max($0.peak, $0.now); return $0.now }
                        if now == 3 { threeRunning.open() }
                        await threeRunning.wait()
                        running.withLockedValue { $0.now -= 1 }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(running.withLockedValue { $0.peak } == 3)
        #expect(semaphore.availablePermits == 3)
    }

    @Test("a permit is returned when the body throws")
    func releaseOnThrow() async throws {
        struct Boom: Error {}
        let semaphore = AsyncSemaphore(value: 1)
        await #expect(throws: Boom.self) { try await semaphore.withPermit { throw Boom() } }
        #expect(semaphore.availablePermits == 1)
    }

    @Test("a cancelled waiter takes no permit and leaks none, under contention")
    func cancellationUnderContention() async throws {
        let semaphore = AsyncSemaphore(value: 2)
        for _ in 0..<200 {
            let tasks = (0..<8).map { _ in
                Task {
                    try await semaphore.withPermit { await Task.yield() }
                }
            }
            for (i, task) in tasks.enumerated() where i % 2 == 1 { task.cancel() }
            for task in tasks { _ = try? await task.value }
        }
        #expect(semaphore.availablePermits == 2)
        #expect(semaphore.waitingCount == 0)
    }

    @Test("acquire with a timeout gives up cleanly at the deadline (on a test clock); tryAcquire does not wait")
    func timeout() async throws {
        let semaphore = AsyncSemaphore(value: 1)
        let clock = TestClock()
        #expect(semaphore.tryAcquire())
        #expect(!semaphore.tryAcquire())
        let acquirer = Task { try await semaphore.acquire(timeout: .seconds(5), clock: clock) }
        await clock.waitForSleepers(1)
        #expect(await waitUntil(seconds: 30) { semaphore.waitingCount == 1 })
        clock.advance(by: .seconds(5))
        let error = await #expect(throws: SpindleError.self) { try await acquirer.value }
        #expect(error?.code == .timeout)
        #expect(semaphore.waitingCount == 0)
        semaphore.release()
        #expect(semaphore.availablePermits == 1)
    }

    @Test("a permit released before the deadline goes to the timed waiter")
    func timedAcquireServedInTime() async throws {
        let semaphore = AsyncSemaphore(value: 0)
        let clock = TestClock()
        let acquirer = Task { try await semaphore.acquire(timeout: .seconds(5), clock: clock) }
        await clock.waitForSleepers(1)
        #expect(await waitUntil(seconds: 30) { semaphore.waitingCount == 1 })
        clock.advance(by: .seconds(4))
        semaphore.release()
        try await acquirer.value
        #expect(semaphore.availablePermits == 0 && semaphore.waitingCount == 0)
        #expect(clock.sleeperCount == 0)
    }

    @Test("waiters are served first come, first served")
    func fairness() async throws {
        let semaphore = AsyncSemaphore(value: 0)
        let order = NIOLockedValueBox<[Int]>([])
        var tasks: [Task<Void, any Error>] = []
        for i in 0..<5 {
            tasks.append(Task { try await semaphore.acquire(); order.withLockedValue { $0.append(i) } })
            while semaphore.waitingCount < i + 1 { await Task.yield() }
        }
        for served in 1...5 {
            semaphore.release()
            #expect(await waitUntil(seconds: 30) { order.withLockedValue { $0.count } == served })
        }
        for t in tasks { try await t.value }
        #expect(order.withLockedValue { $0 } == [0, 1, 2, 3, 4])
    }
}

@Suite("concurrentMap")
struct ConcurrentMapTests {
    @Test("results in input order, at most N at once")
    func orderAndBound() async throws {
        let running = NIOLockedValueBox((now: 0, peak: 0))
        // Transforms wait until four run at once, so the bound is reached for sure; later ones
        // finish in whatever order the scheduler picks.
        let fourRunning = Gate()
        let results = try await Array(0..<40).concurrentMap(maxConcurrency: 4) { i -> Int in
            let now = running.withLockedValue { $0.now += 1; $0.peak = max($0.peak, $0.now); return $0.now }
            if now == 4 { fourRunning.open() }
            await fourRunning.wait()
            await Task.yield()
            running.withLockedValue { $0.now -= 1 }
            return i * i
        }
        #expect(results == (0..<40).map { $0 * $0 })
        #expect(running.withLockedValue { $0.peak } == 4)
    }

    @Test("the first error is rethrown and the rest are cancelled")
    func errors() async throws {
        struct Boom: Error {}
        let started = NIOLockedValueBox(0)
        let neverAdvanced = TestClock()
        await #expect(throws: Boom.self) {
            _ = try await Array(0..<100).concurrentMap(maxConcurrency: 2) { i -> Int in
                started.withLockedValue { $0 += 1 }
                if i == 3 { throw Boom() }
                // Finishes only when cancelled: without the cancellation the map never ends.
                if i > 3 { try await neverAdvanced.sleep(until: neverAdvanced.now.advanced(by: .seconds(1)), tolerance: nil) }
                return i
            }
        }
        #expect(started.withLockedValue { $0 } < 100)
    }
}
