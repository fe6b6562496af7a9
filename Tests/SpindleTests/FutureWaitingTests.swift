import Foundation
import Testing

@testable import Spindle

@Suite("asCompleted and wait")
struct FutureWaitingTests {
    @Test("asCompleted yields already-done futures first, each future once, then in completion order")
    func blockingAsCompleted() throws {
        let done = Future<Int>()
        done.complete(.success(0))
        let slow = Future<Int>()
        let fast = Future<Int>()
        let sequence = asCompleted([slow, done, fast, done], timeout: .seconds(5))
        // Only after the sequence exists (else all three are "already done", in input order):
        // one thread completes them in this order; the iteration may block or find them done.
        Thread.detachNewThread {
            fast.complete(.success(1))
            slow.complete(.success(2))
        }
        var order: [Int] = []
        while let future = try sequence.next() { order.append(try future.result()) }
        #expect(order == [0, 1, 2])
    }

    @Test("asCompleted as an async sequence, and its timeout")
    func asyncAsCompleted() async throws {
        let a = Future<String>()
        let b = Future<String>()
        Task {
            b.complete(.success("b"))
            a.complete(.success("a"))
        }
        var order: [String] = []
        for try await future in asCompleted([a, b]) { order.append(try await future.value) }
        #expect(order == ["b", "a"])

        let never = Future<String>()
        let error = await #expect(throws: SpindleError.self) {
            for try await _ in asCompleted([never], timeout: .milliseconds(30)) {}
        }
        #expect(error?.code == .timeout)
        #expect(error?.description.contains("1 of 1") == true)
    }

    @Test("wait(returnWhen:) returns done and pending sets")
    func waitConditions() throws {
        struct Boom: Error {}
        let ok = Future<Int>()
        let failing = Future<Int>()
        let pending = Future<Int>()
        ok.complete(.success(1))

        let first = waitFor([ok, failing, pending], timeout: .seconds(1), returnWhen: .firstCompleted)
        #expect(first.done == [ok])
        #expect(first.notDone == [failing, pending])

        Thread.detachNewThread {
            failing.complete(.failure(Boom()))
        }
        let firstFailure = waitFor([ok, failing, pending], timeout: .seconds(5), returnWhen: .firstFailure)
        #expect(firstFailure.done == [ok, failing])
        #expect(firstFailure.notDone == [pending])

        let timedOut = waitFor([ok, failing, pending], timeout: .milliseconds(30), returnWhen: .allCompleted)
        #expect(timedOut.notDone == [pending])
        pending.cancel()
        let all = waitFor([ok, failing, pending], returnWhen: .allCompleted)
        #expect(all.done.count == 3 && all.notDone.isEmpty)
    }

    @Test("firstFailure with no failure waits for all")
    func firstFailureNoFailure() async throws {
        let futures = (0..<3).map { _ in Future<Int>() }
        // Completed from a thread of its own: a busy cooperative pool must not delay them.
        Thread.detachNewThread {
            for (i, f) in futures.enumerated() {
                f.complete(.success(i))
            }
        }
        let result = await waitFor(futures, timeout: .seconds(30), returnWhen: .firstFailure)
        #expect(result.done.count == 3)
    }
}
