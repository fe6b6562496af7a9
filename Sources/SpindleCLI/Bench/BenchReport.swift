import Foundation

/// One measured figure of a benchmark suite, with the baseline it was measured against in the same run.
struct BenchFigure: Sendable {
    /// Whether a larger or a smaller value is better: a rate or a time.
    enum Direction: Sendable { case higherIsBetter, lowerIsBetter }

    var name: String
    var unit: String
    var value: Double
    var direction: Direction
    var baseline: String?
    var baselineValue: Double?
    /// Extra fields printed beside the figure (for example `p99_ms`).
    var extra: [(String, Double)] = []

    /// How many times better than the baseline: baseline ÷ value for a time, value ÷ baseline for a rate.
    var speedup: Double? {
        guard let baselineValue, baselineValue > 0, value > 0 else { return nil }
        switch direction {
        case .higherIsBetter: return value / baselineValue
        case .lowerIsBetter: return baselineValue / value
        }
    }
}

/// The figures of one suite, printed as a table or as JSON in the format documented in the README.
struct BenchReport: Sendable {
    var suite: String
    var figures: [BenchFigure] = []
    var notes: [String] = []

    init(suite: String) { self.suite = suite }

    mutating func add(_ figure: BenchFigure) { figures.append(figure) }

    func print(json: Bool) {
        if json {
            Swift.print(jsonText())
        } else {
            Swift.print(table())
        }
    }

    func jsonText() -> String {
        var parts: [String] = []
        for f in figures {
            var fields = [
                "\"name\": \(jsonString(f.name))",
                "\"unit\": \(jsonString(f.unit))",
                "\"value\": \(jsonNumber(f.value))",
            ]
            if let b = f.baseline { fields.append("\"baseline\": \(jsonString(b))") }
            if let bv = f.baselineValue { fields.append("\"baseline_value\": \(jsonNumber(bv))") }
            if let s = f.speedup { fields.append("\"speedup\": \(jsonNumber(s))") }
            for (k, v) in f.extra { fields.append("\(jsonString(k)): \(jsonNumber(v))") }
            parts.append("{" + fields.joined(separator: ", ") + "}")
        }
        return "{\"suite\": \(jsonString(suite)), \"cores\": \(ProcessInfo.processInfo.activeProcessorCount), \"figures\": [\n  "
            + parts.joined(separator: ",\n  ") + "]}"
    }

    func table() -> String {
        var rows: [[String]] = [["figure", "value", "unit", "baseline", "baseline value", "speedup"]]
        for f in figures {
            var name = f.name
            if !f.extra.isEmpty {
                name += " (" + f.extra.map { "\($0.0)=\(formatNumber($0.1))" }.joined(separator: ", ") + ")"
            }
            rows.append([
                name, formatNumber(f.value), f.unit, f.baseline ?? "-",
                f.baselineValue.map(formatNumber) ?? "-", f.speedup.map { String(format: "%.2fx", $0) } ?? "-",
            ])
        }
        var out = "\(suite) — \(ProcessInfo.processInfo.activeProcessorCount) cores\n" + TextTable(rows).render()
        for note in notes { out += "\n" + note }
        return out
    }
}

func jsonString(_ s: String) -> String {
    let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
    let text = String(decoding: data, as: UTF8.self)
    return String(text.dropFirst().dropLast())
}

func jsonNumber(_ v: Double) -> String {
    guard v.isFinite else { return "null" }
    if v == v.rounded() && abs(v) < 1e15 { return String(Int64(v)) }
    return String(format: "%.4g", v).contains("e") ? String(v) : String(format: "%.4g", v)
}

/// A number with about four significant digits, for tables.
func formatNumber(_ v: Double) -> String {
    guard v.isFinite else { return "-" }
    if abs(v) >= 1000 { return String(format: "%.0f", v) }
    if abs(v) >= 100 { return String(format: "%.1f", v) }
    if abs(v) >= 1 { return String(format: "%.2f", v) }
    return String(format: "%.4g", v)
}
