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
            (a lock held across check and withdrawal) exactly one withdrawal succeeds.
            """
    )

    @Flag(inversion: .prefixedNo, help: "Hold a lock across the check and the withdrawal.")
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
