import Foundation
import NIOConcurrencyHelpers

/// Parses the `Retry-After` header (RFC 9110 section 10.2.3): delay-seconds, or an HTTP-date in
/// any of the three formats recipients must accept.
public enum RetryAfter {
    /// How long `value` asks to wait, measured from `now`.
    ///
    /// - Returns: The wait (zero for a date already past), or `nil` when `value` is neither a
    ///   non-negative whole number of seconds nor an HTTP date.
    public static func parse(_ value: String, now: Date = Date()) -> Duration? {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        if !trimmed.isEmpty, trimmed.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "9")).contains($0) }) {
            // Absurdly long numbers are still a valid header: saturate instead of failing.
            return .seconds(Int64(trimmed) ?? .max)
        }
        guard let date = httpDate(trimmed) else { return nil }
        let seconds = date.timeIntervalSince(now)
        return seconds > 0 ? .milliseconds(Int64(seconds * 1000)) : .zero
    }

    /// The date of an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), an obsolete RFC 850 date
    /// (`Sunday, 06-Nov-94 08:49:37 GMT`) or an asctime date (`Sun Nov  6 08:49:37 1994`).
    public static func httpDate(_ text: String) -> Date? {
        formatters.withLock { formatters in
            // asctime pads single-digit days with a space; collapse runs of spaces for the formatter.
            let collapsed = text.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
            for formatter in formatters {
                if let date = formatter.date(from: collapsed) { return date }
            }
            return nil
        }
    }

    // DateFormatter is not documented as thread-safe everywhere Spindle runs: one lock guards
    // the fixed set.
    private static let formatters = LockedFormatters([
        "EEE, dd MMM yyyy HH:mm:ss 'GMT'",
        "EEEE, dd-MMM-yy HH:mm:ss 'GMT'",
        "EEE MMM d HH:mm:ss yyyy",
    ])
}

/// Fixed `en_US_POSIX`, GMT date formatters behind a lock.
final class LockedFormatters: @unchecked Sendable {
    // Protected by `lock`.
    private let formatters: [DateFormatter]
    private let lock = NIOLock()

    init(_ formats: [String]) {
        formatters = formats.map { format in
            let formatter = DateFormatter()
            formatter.locale = Locale(identifier: "en_US_POSIX")
            formatter.timeZone = TimeZone(identifier: "GMT")
            formatter.dateFormat = format
            formatter.isLenient = false
            return formatter
        }
    }

    func withLock<T>(_ body: ([DateFormatter]) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(formatters)
    }
}
