import Foundation
import Synchronization

/// The driver of a ``FrontierCrawl`` sleeps on this until a page reports back, a stop is asked
/// for, or a deadline passes; pages and the stop signal post to it from any task.
final class CrawlWakeup: Sendable {
    private struct State {
        var reports: [Result<FrontierPageWork.Report, any Error>] = []
        var poked = false
        var waiter: CheckedContinuation<Void, Never>?

        mutating func takeWaiter() -> CheckedContinuation<Void, Never>? {
            guard let waiter else { return nil }
            self.waiter = nil
            poked = false
            return waiter
        }
    }

    private let state = Mutex(State())

    /// Posts a page's report (or the error that stopped it) and wakes the driver.
    func post(_ report: Result<FrontierPageWork.Report, any Error>) {
        let waiter = state.withLock { state in
            state.reports.append(report)
            return state.takeWaiter()
        }
        waiter?.resume()
    }

    /// Wakes the driver with nothing to report.
    func poke() {
        let waiter = state.withLock { state in
            state.poked = true
            return state.takeWaiter()
        }
        waiter?.resume()
    }

    /// The reports posted since the last call.
    func takeReports() -> [Result<FrontierPageWork.Report, any Error>] {
        state.withLock { state in
            defer { state.reports = [] }
            return state.reports
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
            let ready = state.withLock { state in
                if state.poked || !state.reports.isEmpty {
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
