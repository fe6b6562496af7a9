import ArgumentParser

/// A duration on the command line: `500ms`, `60s`, `2m`, `1.5s`, or a plain number of seconds.
///
/// Options take it with `transform:` so a bad value is reported with the reason, for example
/// `The value '5x' is invalid for '--timeout <timeout>': '5x' is not a duration: ...`:
///
/// ```swift
/// @Option(help: "Per-job time limit (500ms, 30s, 2m).", transform: DurationArgument.parse)
/// var timeout: DurationArgument?
/// ```
struct DurationArgument: Sendable, Hashable, CustomStringConvertible, ExpressibleByArgument {
    /// The parsed duration.
    var duration: Duration
    /// The text it was written as (or a canonical one), for help and messages.
    let text: String

    /// Units accepted after the number, and how many milliseconds each is, `ms` first.
    private static let units: [(suffix: String, milliseconds: Double)] = [("ms", 1), ("s", 1000), ("m", 60_000)]
    /// Nothing over a year: a longer value is a typo, and would overflow on the way to nanoseconds.
    private static let maximumSeconds: Double = 366 * 24 * 3600

    /// A duration written as `text`.
    init(_ duration: Duration, text: String) {
        self.duration = duration
        self.text = text
    }

    /// A whole number of seconds, written `Ns`.
    static func seconds(_ seconds: Int) -> DurationArgument {
        DurationArgument(.seconds(seconds), text: "\(seconds)s")
    }

    /// A whole number of milliseconds, written `Nms`.
    static func milliseconds(_ milliseconds: Int) -> DurationArgument {
        DurationArgument(.milliseconds(milliseconds), text: "\(milliseconds)ms")
    }

    init?(argument: String) {
        guard let parsed = try? Self.parse(argument) else { return nil }
        self = parsed
    }

    /// Parses `500ms`, `60s`, `2m`, `1.5s` or `30` (seconds).
    /// - Throws: `ValidationError` saying what is wrong: no number, an unknown unit, a negative
    ///   value or one over a year.
    static func parse(_ argument: String) throws -> DurationArgument {
        let text = argument.trimmingWhitespace()
        // `ms` is tried before `s` and `m`, which it ends with and starts with.
        let unit = units.first { text.hasSuffix($0.suffix) }
        let number = unit.map { String(text.dropLast($0.suffix.count)) } ?? text
        let millisecondsPerUnit = unit?.milliseconds ?? 1000
        guard !number.isEmpty, number.allSatisfy({ $0.isASCII && ($0.isNumber || $0 == ".") }),
            let value = Double(number), value.isFinite
        else {
            throw ValidationError(
                "'\(argument)' is not a duration: write a number followed by ms, s or m (500ms, 60s, 2m); a plain number is seconds")
        }
        let seconds = value * millisecondsPerUnit / 1000
        guard seconds <= maximumSeconds else {
            throw ValidationError("'\(argument)' is longer than a year: give a duration of at most 366 days")
        }
        return DurationArgument(.nanoseconds(Int64((seconds * 1e9).rounded())), text: text)
    }

    var description: String { text }

    var defaultValueDescription: String { text }

    /// The duration in seconds, as a `Double`.
    var seconds: Double { duration.seconds }
}

extension String {
    fileprivate func trimmingWhitespace() -> String {
        var view = Substring(self)
        while view.first?.isWhitespace == true { view.removeFirst() }
        while view.last?.isWhitespace == true { view.removeLast() }
        return String(view)
    }
}
