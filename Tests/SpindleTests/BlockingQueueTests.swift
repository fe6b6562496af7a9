import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Spindle
import SpindleTestSupport

@Suite("BlockingQueue")
struct BlockingQueueTests {
    @Test("FIFO put and get, count, full and empty")
    func basics() throws {
        let queue = BlockingQueue<Int>(maxSize: 2)
        #expect(queue.isEmpty)
        try queue.put(1)
        try queue.tryPut(2)
        #expect(queue.count == 2 && queue.isFull)
        #expect(try #require(throws: SpindleError.self) { try queue.tryPut(3) }.code == .queueFull)
        #expect(try #require(throws: SpindleError.self) { try queue.put(3, timeout: .milliseconds(20)) }.code == .queueFull)
        #expect(try queue.get() == 1)
        #expect(try queue.tryGet() == 2)
        #expect(try #require(throws: SpindleError.self) { try queue.tryGet() }.code == .queueEmpty)
        #expect(try #require(throws: SpindleError.self) { try queue.get(timeout: .milliseconds(20)) }.code == .queueEmpty)
    }

    @Test("the bound holds for every size, lap after lap, and order is kept", arguments: [1, 2, 3, 7])
    func boundAcrossLaps(maxSize: Int) throws {
        let queue = BlockingQueue<Int>(maxSize: maxSize)
        var next = 0, expected = 0
        for _ in 0..<50 {
            for _ in 0..<maxSize {
                try queue.tryPut(next)
                next += 1
            }
            #expect(queue.count == maxSize && queue.isFull)
            #expect(try #require(throws: SpindleError.self) { try queue.tryPut(-1) }.code == .queueFull)
            for _ in 0..<maxSize {
                #expect(try queue.tryGet() == expected)
                expected += 1
            }
            #expect(queue.isEmpty)
        }
    }

    @Test("taskDone and join; too many taskDone calls is an error")
    func join() throws {
        let queue = BlockingQueue<Int>(maxSize: 10)
        for i in 0..<5 { try queue.put(i) }
        #expect(try #require(throws: SpindleError.self) { try queue.join(timeout: .milliseconds(20)) }.code == .timeout)
        Thread.detachNewThread {
            while let _ = try? queue.get(timeout: .milliseconds(200)) {
                try? queue.taskDone()
            }
        }
        try queue.join(timeout: .seconds(5))
        #expect(try #require(throws: SpindleError.self) { try queue.taskDone() }.code == .taskDoneOverflow)
    }

    @Test("shutdown wakes threads blocked on both sides with a clear error")
    func shutdownWakesWaiters() async throws {
        let full = BlockingQueue<Int>(maxSize: 1)
        try full.tryPut(0)
        let empty = BlockingQueue<Int>(maxSize: 1)
        let errors = NIOLockedValueBox<[SpindleError.Code]>([])
        let group = DispatchGroup()
        for _ in 0..<3 {
            group.enter()
            Thread.detachNewThread {
                do { try full.put(1) } catch let e as SpindleError { errors.withLockedValue { $0.append(e.code) } } catch {}
                group.leave()
            }
            group.enter()
            Thread.detachNewThread {
                do { _ = try empty.get() } catch let e as SpindleError { errors.withLockedValue { $0.append(e.code) } } catch {}
                group.leave()
            }
        }
        // All six threads are parked (a state that lasts until the shutdown), not merely started.
        #expect(await waitUntil(seconds: 30) {
            full.storage.withMachine { $0.waitingPutters } == 3 && empty.storage.withMachine { $0.waitingGetters } == 3
        })
        full.shutdown()
        empty.shutdown()
        #expect(group.wait(timeout: .now() + 5) == .success)
        #expect(errors.withLockedValue { $0 } == Array(repeating: .queueShutDown, count: 6))
        // After a normal shutdown, getters still take what is left, then get the error.
        #expect(try full.tryGet() == 0)
        #expect(try #require(throws: SpindleError.self) { try full.tryGet() }.code == .queueShutDown)
        #expect(try #require(throws: SpindleError.self) { try full.tryPut(1) }.code == .queueShutDown)
    }

    @Test("a shutdown racing with puts loses nothing: every put that succeeded is got exactly once")
    func shutdownRacingWithPuts() throws {
        for round in 0..<10 {
            let queue = BlockingQueue<Int>(maxSize: 8)
            let accepted = NIOLockedValueBox<[Int]>([])
            let received = NIOLockedValueBox<[Int]>([])
            let group = DispatchGroup()
            for _ in 0..<3 {
                group.enter()
                Thread.detachNewThread {
                    var local: [Int] = []
                    while let item = try? queue.get() { local.append(item) }
                    received.withLockedValue { $0.append(contentsOf: local) }
                    group.leave()
                }
            }
            for producer in 0..<3 {
                group.enter()
                Thread.detachNewThread {
                    var local: [Int] = []
                    for i in 0..<100_000 {
                        do { try queue.put(producer * 1_000_000 + i) } catch { break }
                        local.append(producer * 1_000_000 + i)
                    }
                    accepted.withLockedValue { $0.append(contentsOf: local) }
                    group.leave()
                }
            }
            // Shut down mid-stream, at a different moment each round.
            let deadline = Date().addingTimeInterval(30)
            while queue.count < 4 + round % 4 && Date() < deadline { sched_yield() }
            queue.shutdown()
            #expect(group.wait(timeout: .now() + 60) == .success)
            let sent = accepted.withLockedValue { $0.sorted() }
            #expect(!sent.isEmpty)
            #expect(received.withLockedValue { $0.sorted() } == sent)
        }
    }

    @Test("shutdown(immediate:) drops what is left and releases join")
    func immediateShutdown() throws {
        let queue = BlockingQueue<Int>(maxSize: 4)
        for i in 0..<3 { try queue.put(i) }
        queue.shutdown(immediate: true)
        #expect(queue.count == 0)
        #expect(try #require(throws: SpindleError.self) { try queue.get() }.code == .queueShutDown)
        try queue.join(timeout: .seconds(1))
    }

    @Test("8 producers and 8 consumers move 100,000 items through a queue of 16: the multiset out equals the multiset in")
    func stress() throws {
        let queue = BlockingQueue<Int>(maxSize: 16)
        let producers = 8, consumers = 8, perProducer = 12_500
        let received = NIOLockedValueBox<[Int]>([])
        let group = DispatchGroup()
        for c in 0..<consumers {
            group.enter()
            Thread.detachNewThread {
                var local: [Int] = []
                while let item = try? queue.get() {
                    local.append(item)
                    try? queue.taskDone()
                }
                _ = c
                received.withLockedValue { $0.append(contentsOf: local) }
                group.leave()
            }
        }
        let producersDone = DispatchGroup()
        for p in 0..<producers {
            producersDone.enter()
            Thread.detachNewThread {
                for i in 0..<perProducer { try! queue.put(p * perProducer + i) }
                producersDone.leave()
            }
        }
        #expect(producersDone.wait(timeout: .now() + 60) == .success)
        try queue.join(timeout: .seconds(60))
        queue.shutdown()
        #expect(group.wait(timeout: .now() + 60) == .success)
        #expect(received.withLockedValue { $0.sorted() } == Array(0..<(producers * perProducer)))
    }

    @Test("a timed get that times out leaves no waiter behind; a later put is not lost")
    func timedOutGetterLeavesNothing() throws {
        let queue = BlockingQueue<Int>(maxSize: 1)
        #expect(try #require(throws: SpindleError.self) { try queue.get(timeout: .milliseconds(5)) }.code == .queueEmpty)
        #expect(queue.storage.withMachine { $0.waitingGetters } == 0)
        try queue.tryPut(1)
        #expect(try queue.tryGet() == 1)
    }

    @Test("for-in takes every element in order and ends once the queue is shut down and drained")
    func iteration() async throws {
        let queue = BlockingQueue<Int>(maxSize: 4)
        let consumed = try await onThread {
            var items: [Int] = []
            Thread.detachNewThread {
                for i in 0..<100 { try! queue.put(i) }
                queue.shutdown()
            }
            for item in queue { items.append(item) }
            return items
        }
        #expect(consumed == Array(0..<100))
    }

    @Test("shutdown ends the for-in loops of consumers waiting on an empty queue")
    func iterationEndsAtShutdown() async throws {
        let queue = BlockingQueue<Int>(maxSize: 2)
        let consumers = (0..<3).map { _ in
            Task { try await onThread { queue.map { $0 } } }
        }
        #expect(await waitUntil(seconds: 30) { queue.storage.withMachine { $0.waitingGetters } == 3 })
        queue.shutdown()
        for consumer in consumers { #expect(try await consumer.value == []) }
    }
}
