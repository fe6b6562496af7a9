import Dispatch
import Foundation
import SpindleCrawler
import Synchronization

/// SIGINT and SIGTERM for a frontier crawl: the first asks for a graceful stop (pages in flight
/// finish, the state stays resumable), the second for an immediate one. While installed, the
/// signals do not kill the process; ``cancel()`` restores their default action.
final class CrawlStopSignals {
    private let sources: [any DispatchSourceSignal]
    /// The first signal received, if any (SIGINT or SIGTERM), for the exit status.
    var received: Int32? { first.number.withLock { $0 } }
    private let first = FirstSignal()

    private final class FirstSignal: Sendable {
        let number = Mutex<Int32?>(nil)
    }

    init(stop: CrawlStopSignal, onStop: @escaping @Sendable (CrawlStopSignal.Level, Int32) -> Void) {
        var sources: [any DispatchSourceSignal] = []
        for number in [SIGINT, SIGTERM] {
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            sources.append(source)
        }
        self.sources = sources
        for (source, number) in zip(sources, [SIGINT, SIGTERM]) {
            source.setEventHandler { [first] in
                first.number.withLock { if $0 == nil { $0 = number } }
                onStop(stop.requestStop(), number)
            }
            source.resume()
        }
    }

    /// Stops handling the signals and restores their default action.
    func cancel() {
        for source in sources { source.cancel() }
        signal(SIGINT, SIG_DFL)
        signal(SIGTERM, SIG_DFL)
    }
}
