import Foundation
import NIOConcurrencyHelpers

/// What the tasks of a ``FrontierCrawl`` tell its driver.
enum CrawlMessage: Sendable {
    /// A page ended: what the scheduler learns, or the error that stopped it.
    case page(Result<FrontierPageWork.Report, any Error>)
    /// A lease asked for while `saturated` hosts were skipped came back.
    case leased(Result<[LeasedURL], any Error>, saturated: Set<String>)
}

/// The driver of a ``FrontierCrawl`` sleeps on this until a page reports back, a stop is asked
/// for, or a deadline passes; pages and the stop signal post to it from any task.
final class CrawlWakeup: Sendable {
    private struct State {
        var messages: [CrawlMessage] = []
        var poked = false
        var waiter: CheckedContinuation<Void, Never>?

        mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
            guard let waiter else { return nil }
            self.waiter = nil
            poked = false
            return waiter
        }
    }

    private let state = NIOLockedValueBox(State())

    /// Posts a message (a page's report, a lease's answer) and wakes the driver.
    func post(_ message: CrawlMessage) {
        let waiter = state.withLockedValue { state in
            state.messages.append(message)
            return state.takeWaiter()
        }
        waiter?.resume()
    }

    /// Wakes the driver with nothing to report.
    func poke() {
        let waiter = state.withLockedValue { state in
            state.poked = true
            return state.takeWaiter()
        }
        waiter?.resume()
    }

    /// The messages posted since the last call.
    func takeMessages() -> [CrawlMessage] {
        state.withLockedValue { state in
            defer { state.messages = [] }
            return state.messages
        }
    }

    /// Returns when something was posted or poked since the last wait, or at `deadline`.
    func wait(until deadline: ContinuousClock.Instant?) async {
        let timer = deadline.map { deadline in
            Task { [weak self] in
                guard (try? await Task.sleep(until: deadline, clock: .continuous)) != nil else { return }
                self?.poke()
            }
        }
        defer { timer?.cancel() }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLockedValue { state in
                if state.poked || !state.messages.isEmpty {
                    state.poked = false
                    return true
                }
                state.waiter = continuation
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
