#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point in time on the monotonic clock, for timed waits.
struct Deadline: Sendable, Comparable {
    /// Nanoseconds on CLOCK_MONOTONIC.
    let nanoseconds: Int64

    static func now() -> Deadline {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Deadline(nanoseconds: Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec))
    }

    /// The deadline `timeout` from now, or nil (wait forever) for a nil timeout.
    static func after(_ timeout: Duration?) -> Deadline? {
        guard let timeout else { return nil }
        let (seconds, attoseconds) = timeout.components
        let ns = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let total = ns.overflow ? Int64.max / 2 : ns.partialValue + attoseconds / 1_000_000_000
        let (sum, overflow) = now().nanoseconds.addingReportingOverflow(max(0, total))
        return Deadline(nanoseconds: overflow ? Int64.max / 2 : sum)
    }

    var hasPassed: Bool { Deadline.now() >= self }

    /// Time left, never negative.
    var remaining: Duration {
        .nanoseconds(max(0, nanoseconds - Deadline.now().nanoseconds))
    }

    var asTimespec: timespec {
        timespec(tv_sec: Int(nanoseconds / 1_000_000_000), tv_nsec: Int(nanoseconds % 1_000_000_000))
    }

    static func < (lhs: Deadline, rhs: Deadline) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
