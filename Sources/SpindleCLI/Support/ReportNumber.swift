import Foundation

/// A measured number as the JSON reports write it: whole numbers without a fraction, others
/// to four significant digits (all of them when that would need an exponent), and `null` for
/// a number that is not finite.
struct ReportNumber: Encodable {
    var value: Double

    init(_ value: Double) { self.value = value }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        guard value.isFinite else { return try container.encodeNil() }
        if value == value.rounded(), abs(value) < 1e15 { return try container.encode(Int64(value)) }
        let fourDigits = String(format: "%.4g", value)
        try container.encode(fourDigits.contains("e") ? value : Double(fourDigits) ?? value)
    }
}
