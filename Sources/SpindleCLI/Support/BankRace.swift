import Foundation
import NIOConcurrencyHelpers
import Synchronization

/// The race itself, shared by the command and the tour.
struct BankRace {
    struct Outcome {
        var finalBalance: Int
        var successes: Int
        var failures: Int
    }

    var balance: Int
    var amount: Int
    var threads: Int
    var window: Duration

    /// Runs the withdrawals on `threads` OS threads started together; `report` gets each
    /// thread's lines as the course's program prints them.
    func run(locked: Bool, report: @escaping @Sendable (String) -> Void) -> Outcome {
        // Each read and write of the balance is atomic, so the only race is the logical one the
        // course shows: check, then act, with another thread in between.
        let account = Atomic<Int>(balance)
        let mutex = NIOLock()
        let successes = Atomic<Int>(0)
        let start = DispatchSemaphore(value: 0)
        let group = DispatchGroup()
        let amount = self.amount
        // nanosleep's parts, not usleep's 32-bit microseconds, which a window past 71 minutes overflows.
        let (seconds, attoseconds) = window.components
        let windowTime = timespec(tv_sec: Int(clamping: seconds), tv_nsec: Int(attoseconds / 1_000_000_000))
        for index in 1...threads {
            group.enter()
            let thread = Thread {
                start.wait()
                let withdraw = {
                    if account.load(ordering: .relaxed) >= amount {
                        var request = windowTime
                        var remaining = timespec()
                        while nanosleep(&request, &remaining) != 0 && errno == EINTR { request = remaining }
                        let after = account.load(ordering: .relaxed) - amount
                        account.store(after, ordering: .relaxed)
                        successes.add(1, ordering: .relaxed)
                        report("Thread-\(index): withdrew \(amount), success; balance now \(after)")
                    } else {
                        report("Thread-\(index): withdraw \(amount) refused: insufficient balance (\(account.load(ordering: .relaxed)))")
                    }
                }
                if locked { mutex.withLock { withdraw() } } else { withdraw() }
                group.leave()
            }
            thread.start()
        }
        for _ in 0..<threads { start.signal() }
        group.wait()
        let succeeded = successes.load(ordering: .relaxed)
        return Outcome(finalBalance: account.load(ordering: .relaxed), successes: succeeded, failures: threads - succeeded)
    }
}
