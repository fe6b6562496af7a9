import NIOConcurrencyHelpers
import Testing

@testable import Spindle
import SpindleTestSupport

@Suite("AsyncQueue")
struct AsyncQueueTests {
    @Test("FIFO put and get, non-waiting variants and timeouts (on a test clock)")
    func basics() async throws {
        let queue = AsyncQueue<Int>(maxSize: 2)
        let clock = TestClock()
        try await queue.put(1)
        try queue.tryPut(2)
        #expect(queue.isFull)
        #expect(throws: SpindleError.self) { try queue.tryPut(3) }
        let timedPut = Task { try await queue.put(3, timeout: .seconds(5), clock: clock) }
        await clock.waitForSleepers(1)
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingPutters } == 1 })
        clock.advance(by: .seconds(5))
        let full = await #expect(throws: SpindleError.self) { try await timedPut.value }
        #expect(full?.code == .queueFull)
        #expect(queue.count == 2)  // the timed-out put added nothing
        #expect(queue.storage.withMachine { $0.waitingPutters } == 0)
        #expect(try await queue.get() == 1)
        #expect(try queue.tryGet() == 2)
        let timedGet = Task { try await queue.get(timeout: .seconds(5), clock: clock) }
        await clock.waitForSleepers(1)
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingGetters } == 1 })
        clock.advance(by: .seconds(5))
        let empty = await #expect(throws: SpindleError.self) { try await timedGet.value }
        #expect(empty?.code == .queueEmpty)
        #expect(queue.storage.withMachine { $0.waitingGetters } == 0)
    }

    @Test("a timed get served before its deadline returns the element and its timer stops")
    func timedGetServedInTime() async throws {
        let queue = AsyncQueue<Int>(maxSize: 1)
        let clock = TestClock()
        let getter = Task { try await queue.get(timeout: .seconds(5), clock: clock) }
        await clock.waitForSleepers(1)
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingGetters } == 1 })
        clock.advance(by: .seconds(4))
        try await queue.put(42)
        #expect(try await getter.value == 42)
        #expect(clock.sleeperCount == 0)  // the deadline's sleep was cancelled, not left behind
    }

    @Test("a waiting getter receives the next put; a waiting putter goes in when space frees")
    func handoff() async throws {
        let queue = AsyncQueue<String>(maxSize: 1)
        let getter = Task { try await queue.get() }
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingGetters } == 1 })
        try await queue.put("hello")
        #expect(try await getter.value == "hello")

        try await queue.put("a")
        let putter = Task { try await queue.put("b") }
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingPutters } == 1 })
        #expect(try await queue.get() == "a")
        try await putter.value
        #expect(try await queue.get() == "b")
    }

    @Test("cancelled waiters leave the queue consistent: nothing lost or duplicated")
    func cancellation() async throws {
        let queue = AsyncQueue<Int>(maxSize: 1)
        let getters = (0..<4).map { _ in Task { try await queue.get() } }
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingGetters } == 4 })
        getters[0].cancel()
        getters[2].cancel()
        for i in 0..<2 { try await queue.put(i) }
        var got: [Int] = []
        for (index, getter) in getters.enumerated() {
            if index == 0 || index == 2 {
                await #expect(throws: CancellationError.self) { try await getter.value }
            } else {
                got.append(try await getter.value)
            }
        }
        #expect(got.sorted() == [0, 1])

        try await queue.put(10)
        let putter = Task { try await queue.put(11) }
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingPutters } == 1 })
        putter.cancel()
        await #expect(throws: CancellationError.self) { try await putter.value }
        #expect(try await queue.get() == 10)
        #expect(queue.isEmpty)  // the cancelled put did not go in
    }

    @Test("shutdown wakes every waiter on both sides; getters drain first unless immediate")
    func shutdown() async throws {
        let empty = AsyncQueue<Int>(maxSize: 1)
        let getter = Task { try await empty.get() }
        let full = AsyncQueue<Int>(maxSize: 1)
        try await full.put(1)
        let putter = Task { try await full.put(2) }
        #expect(await waitUntil(seconds: 30) {
            empty.storage.withMachine { $0.waitingGetters } == 1 && full.storage.withMachine { $0.waitingPutters } == 1
        })
        empty.shutdown()
        full.shutdown()
        let e1 = await #expect(throws: SpindleError.self) { try await getter.value }
        let e2 = await #expect(throws: SpindleError.self) { try await putter.value }
        #expect(e1?.code == .queueShutDown && e2?.code == .queueShutDown)
        #expect(try await full.get() == 1)
        await #expect(throws: SpindleError.self) { try await full.get() }

        let dropping = AsyncQueue<Int>(maxSize: 3)
        try await dropping.put(1)
        try await dropping.put(2)
        dropping.shutdown(immediate: true)
        await #expect(throws: SpindleError.self) { try await dropping.get() }
        try await dropping.join()  // dropped items count as done
    }

    @Test("taskDone and join")
    func join() async throws {
        let queue = AsyncQueue<Int>(maxSize: 8)
        for i in 0..<5 { try await queue.put(i) }
        let joined = Task { try await queue.join() }
        for _ in 0..<5 {
            _ = try await queue.get()
            try queue.taskDone()
        }
        try await joined.value
        #expect(throws: SpindleError.self) { try queue.taskDone() }
    }

    @Test("8 producers and 8 consumers move 100,000 items through a queue of 16, with cancelled getters along the way")
    func stress() async throws {
        let queue = AsyncQueue<Int>(maxSize: 16)
        let total = 100_000
        let received = try await withThrowingTaskGroup(of: [Int].self) { group in
            for p in 0..<8 {
                group.addTask {
                    for i in stride(from: p, to: total, by: 8) { try await queue.put(i) }
                    return []
                }
            }
            for _ in 0..<8 {
                group.addTask {
                    var local: [Int] = []
                    while let item = try? await queue.get() { local.append(item) }
                    return local
                }
            }
            // Getters that are cancelled mid-wait must not swallow items.
            for _ in 0..<50 {
                let t = Task { try await queue.get(timeout: .microseconds(50)) }
                if let item = try? await t.value { try await queue.put(item) }
            }
            var all: [Int] = []
            var producersDone = 0
            while let chunk = try await group.next() {
                if chunk.isEmpty {
                    producersDone += 1
                    if producersDone == 8 { queue.shutdown() }
                } else {
                    all.append(contentsOf: chunk)
                }
            }
            return all
        }
        #expect(received.sorted() == Array(0..<total))
    }

    @Test("a cancelled join throws CancellationError and leaves no joiner behind")
    func cancelledJoin() async throws {
        let queue = AsyncQueue<Int>(maxSize: 1)
        try queue.tryPut(1)
        let joiner = Task { try await queue.join() }
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingJoiners } == 1 })
        joiner.cancel()
        await #expect(throws: CancellationError.self) { try await joiner.value }
        #expect(queue.storage.withMachine { $0.waitingJoiners } == 0)
    }

    @Test("for-await takes every element in order and ends once the queue is shut down and drained")
    func iteration() async throws {
        let queue = AsyncQueue<Int>(maxSize: 4)
        let consumer = Task {
            var items: [Int] = []
            for await item in queue { items.append(item) }
            return items
        }
        for i in 0..<100 { try await queue.put(i) }
        queue.shutdown()
        #expect(await consumer.value == Array(0..<100))
    }

    @Test("shutdown ends the for-await loops of consumers waiting on an empty queue; cancellation ends one too")
    func iterationEndsAtShutdown() async throws {
        let queue = AsyncQueue<Int>(maxSize: 2)
        let consumers = (0..<3).map { _ in
            Task {
                var items: [Int] = []
                for await item in queue { items.append(item) }
                return items
            }
        }
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingGetters } == 3 })
        consumers[0].cancel()
        #expect(await consumers[0].value == [])
        queue.shutdown()
        for consumer in consumers.dropFirst() { #expect(await consumer.value == []) }
        #expect(queue.storage.withMachine { $0.waitingGetters } == 0)
    }
}
