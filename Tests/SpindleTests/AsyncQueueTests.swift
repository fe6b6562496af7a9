import NIOConcurrencyHelpers
import Testing

@testable import Spindle

@Suite("AsyncQueue")
struct AsyncQueueTests {
    @Test("FIFO put and get, non-waiting variants and timeouts")
    func basics() async throws {
        let queue = AsyncQueue<Int>(maxSize: 2)
        try await queue.put(1)
        try queue.tryPut(2)
        #expect(queue.isFull)
        #expect(throws: SpindleError.self) { try queue.tryPut(3) }
        let full = await #expect(throws: SpindleError.self) { try await queue.put(3, timeout: .milliseconds(20)) }
        #expect(full?.code == .queueFull)
        #expect(queue.count == 2)  // the timed-out put added nothing
        #expect(try await queue.get() == 1)
        #expect(try queue.tryGet() == 2)
        let empty = await #expect(throws: SpindleError.self) { try await queue.get(timeout: .milliseconds(20)) }
        #expect(empty?.code == .queueEmpty)
    }

    @Test("a waiting getter receives the next put; a waiting putter goes in when space frees")
    func handoff() async throws {
        let queue = AsyncQueue<String>(maxSize: 1)
        let getter = Task { try await queue.get() }
        try await Task.sleep(for: .milliseconds(10))
        try await queue.put("hello")
        #expect(try await getter.value == "hello")

        try await queue.put("a")
        let putter = Task { try await queue.put("b") }
        try await Task.sleep(for: .milliseconds(10))
        #expect(try await queue.get() == "a")
        try await putter.value
        #expect(try await queue.get() == "b")
    }

    @Test("cancelled waiters leave the queue consistent: nothing lost or duplicated")
    func cancellation() async throws {
        let queue = AsyncQueue<Int>(maxSize: 1)
        let getters = (0..<4).map { _ in Task { try await queue.get() } }
        try await Task.sleep(for: .milliseconds(10))
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
        try await Task.sleep(for: .milliseconds(10))
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
        try await Task.sleep(for: .milliseconds(10))
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
}
