import Foundation
import NIOConcurrencyHelpers
import Testing

@testable import Spindle

@Suite("Future")
struct FutureTests {
    @Test("result(timeout:) returns the value, rethrows the error, and times out while pending")
    func blockingResult() throws {
        let future = Future<Int>()
        #expect(future.state == .pending)
        #expect(throws: SpindleError.self) { try future.result(timeout: .milliseconds(20)) }
        let error = try #require(throws: SpindleError.self) { try future.result(timeout: .milliseconds(20)) }
        #expect(error.code == .timeout)
        future.complete(.success(7))
        #expect(try future.result() == 7)
        #expect(future.state == .finished)

        struct Boom: Error {}
        let failing = Future<Int>()
        failing.complete(.failure(Boom()))
        #expect(failing.state == .failed)
        #expect(throws: Boom.self) { try failing.result() }
        #expect(throws: Boom.self) { try failing.result() }  // every waiter gets the same error
    }

    @Test("a thread blocked in result() wakes when another thread completes the future")
    func wakesBlockedThread() throws {
        let future = Future<String>()
        Thread.detachNewThread {
            usleep(20_000)
            future.complete(.success("done"))
        }
        #expect(try future.result(timeout: .seconds(5)) == "done")
    }

    @Test("async value waits without blocking, and a cancelled waiter stops waiting but leaves the future")
    func asyncValue() async throws {
        let future = Future<Int>()
        let waiter = Task { try await future.value }
        waiter.cancel()  // before or after the waiter registered: both stop the wait
        await #expect(throws: CancellationError.self) { try await waiter.value }
        #expect(future.state == .pending)

        let second = Task { try await future.value }
        future.complete(.success(42))
        #expect(try await second.value == 42)
        #expect(try await future.value == 42)

        let pending = Future<Int>()
        let error = await #expect(throws: SpindleError.self) { try await pending.value(timeout: .milliseconds(20)) }
        #expect(error?.code == .timeout)
    }

    @Test("cancel succeeds only while pending")
    func cancel() throws {
        let pending = Future<Int>()
        #expect(pending.cancel())
        #expect(pending.cancel())  // already cancelled: still true, as in Python
        #expect(pending.state == .cancelled)
        let error = try #require(throws: SpindleError.self) { try pending.result() }
        #expect(error.code == .cancelled)
        #expect(!pending.markRunning())  // cancelled work never starts

        let running = Future<Int>()
        #expect(running.markRunning())
        #expect(!running.cancel())
        #expect(running.state == .running)
        running.complete(.success(1))
        #expect(!running.cancel())
        #expect(try running.result() == 1)
    }

    @Test("done callbacks run once each, in order; at once when already done; a throwing one does not stop the others")
    func callbacks() throws {
        let calls = NIOLockedValueBox<[String]>([])
        struct CallbackFailure: Error {}
        let future = Future<Int>()
        future.onComplete { _ in calls.withLockedValue { $0.append("a") } }
        future.onComplete { _ in
            calls.withLockedValue { $0.append("b") }
            throw CallbackFailure()
        }
        future.onComplete { f in calls.withLockedValue { $0.append("c\(try! f.result())") } }
        #expect(calls.withLockedValue { $0 }.isEmpty)
        future.complete(.success(5))
        future.complete(.success(6))  // a second completion is ignored
        #expect(calls.withLockedValue { $0 } == ["a", "b", "c5"])
        future.onComplete { _ in calls.withLockedValue { $0.append("late") } }
        #expect(calls.withLockedValue { $0 } == ["a", "b", "c5", "late"])

        let cancelled = Future<Int>()
        cancelled.onComplete { f in calls.withLockedValue { $0.append("cancelled:\(f.state)") } }
        cancelled.cancel()
        #expect(calls.withLockedValue { $0 }.last == "cancelled:cancelled")
    }
}
