import Dispatch
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Turns process signals (SIGINT, SIGTERM) into calls of a handler, so a command can stop its
/// work in order instead of dying: `spindle exec` cancels its jobs, `spindle crawl` finishes the
/// pages in flight on the first signal and stops at once on the second.
///
/// While the trap is set, the signals' default action is suspended (each one calls the handler,
/// every time it arrives); ``cancel()`` restores it.
///
/// ```swift
/// let trap = SignalTrap(signals: [SIGINT, SIGTERM]) { work.cancel() }
/// defer { trap.cancel() }
/// ...
/// if let signal = trap.received { exit(128 + signal) }  // 130, 143, as a shell reports them
/// ```
// Unchecked: the sources are set once in init, and dispatch sources may be used from any thread.
public final class SignalTrap: @unchecked Sendable {
    private let sources: [any DispatchSourceSignal]
    private let first = FirstSignal()
    private let signals: [Int32]

    /// The first signal's number (0 before any), in a class so the handlers can share it.
    private final class FirstSignal: Sendable {
        let number = Atomic<Int32>(0)
    }

    /// Calls `handler` with the signal's number each time one of `signals` arrives, on a
    /// dispatch queue (not in a signal handler: any code may run in it).
    public init(signals: [Int32], onSignal handler: @escaping @Sendable (Int32) -> Void) {
        self.signals = signals
        var sources: [any DispatchSourceSignal] = []
        for number in signals {
            signal(number, SIG_IGN)
            sources.append(DispatchSource.makeSignalSource(signal: number, queue: .global()))
        }
        self.sources = sources
        for (source, number) in zip(sources, signals) {
            source.setEventHandler { [first, source] in
                _ = first.number.compareExchange(expected: 0, desired: number, ordering: .relaxed)
                // Signals that arrive before the handler runs are coalesced into one event;
                // `data` counts them, and each still calls the handler (a quick second Ctrl-C).
                let count = max(1, Int(clamping: source.data))
                for _ in 0..<count { handler(number) }
            }
            source.resume()
        }
    }

    /// Calls `handler` each time one of `signals` arrives.
    public convenience init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        self.init(signals: signals, onSignal: { _ in handler() })
    }

    /// The first of the signals received, if any.
    public var received: Int32? {
        let number = first.number.load(ordering: .relaxed)
        return number == 0 ? nil : number
    }

    /// Stops handling the signals and restores their default action.
    public func cancel() {
        for source in sources {
            source.cancel()
            source.setEventHandler(handler: nil)  // the handler holds its source
        }
        for number in signals { signal(number, SIG_DFL) }
    }
}
