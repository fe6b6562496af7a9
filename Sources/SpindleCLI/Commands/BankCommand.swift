import ArgumentParser
import Foundation
import SpindleServer
import Synchronization

/// `spindle bank`: the course's bank-account race. Two threads each check the balance, wait a
/// moment, then withdraw: without a lock both pass the check and the balance goes negative.
struct BankCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bank",
        abstract: "The bank-account race: threads withdraw from one account, with and without a lock.",
        discussion: """
            Each thread checks that the balance covers the amount, waits --window-ms (the course's \
            sleep(0.1), which makes the race visible every time), then withdraws. Without the \
            lock several threads pass the check and the balance goes negative; with the lock \
            (a Mutex held across check and withdrawal) exactly one withdrawal succeeds.
            """
    )

    @Flag(inversion: .prefixedNo, help: "Hold a Mutex across the check and the withdrawal.")
    var lock = true

    @Option(help: "The starting balance.")
    var balance = 1000

    @Option(help: "What each thread withdraws.")
    var amount = 800

    @Option(help: "How many threads withdraw at once.")
    var threads = 2

    @Option(help: "How long a thread waits between its check and its withdrawal, in milliseconds (at most an hour).")
    var windowMs = 100

    /// The longest window accepted: an hour, far past any demonstration, well within what a
    /// sleep can be asked for.
    static let maximumWindowMs = 3_600_000

    @Flag(help: "Print the outcome as JSON instead of the threads' lines.")
    var json = false

    func validate() throws {
        guard threads >= 1 && threads <= 1000 else { throw ValidationError("--threads must be between 1 and 1000, got \(threads)") }
        guard amount > 0 else { throw ValidationError("--amount must be positive, got \(amount)") }
        guard balance >= 0 else { throw ValidationError("--balance must not be negative, got \(balance)") }
        guard (0...Self.maximumWindowMs).contains(windowMs) else {
            throw ValidationError("--window-ms must be between 0 and \(Self.maximumWindowMs) (an hour), got \(windowMs)")
        }
    }

    /// `{"start_balance": …, "final_balance": …, "successes": …, "failures": …}`.
    private struct JSONOutcome: Encodable {
        var startBalance: Int
        var finalBalance: Int
        var successes: Int
        var failures: Int

        enum CodingKeys: String, CodingKey {
            case startBalance = "start_balance", finalBalance = "final_balance", successes, failures
        }
    }

    func run() throws {
        let outcome = BankRace(balance: balance, amount: amount, threads: threads, window: .milliseconds(windowMs))
            .run(locked: lock) { line in if !json { print(line) } }
        if json {
            print(try PythonJSONEncoder().encode(JSONOutcome(
                startBalance: balance, finalBalance: outcome.finalBalance, successes: outcome.successes, failures: outcome.failures)))
        } else {
            print("final balance: \(outcome.finalBalance) (\(outcome.successes) succeeded, \(outcome.failures) refused)")
        }
    }
}

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
        let mutex = Mutex(())
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
                if locked { mutex.withLock { _ in withdraw() } } else { withdraw() }
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
