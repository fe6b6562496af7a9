import Foundation
import SpindleServer

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
            do {
                Swift.print(try jsonText())
            } catch {
                FileHandle.standardError.write(Data("cannot write the \(suite) report as JSON: \(error)\n".utf8))
            }
        } else {
            Swift.print(table())
        }
    }

    /// `{"suite": "executors", "cores": 2, "figures": [{"name": …, "unit": …, "value": …, "baseline": …,
    /// "baseline_value": …, "speedup": …, extras…}, …]}`, the format the README documents.
    func jsonText() throws -> String {
        try PythonJSONEncoder().encode(JSONReport(suite: suite, cores: ProcessInfo.processInfo.activeProcessorCount, figures: figures))
    }

    private struct JSONReport: Encodable {
        var suite: String
        var cores: Int
        var figures: [BenchFigure]
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

extension BenchFigure: Encodable {
    /// The fields in the README's order, then the extras in theirs.
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: FieldName.self)
        try container.encode(name, forKey: "name")
        try container.encode(unit, forKey: "unit")
        try container.encode(ReportNumber(value), forKey: "value")
        try container.encodeIfPresent(baseline, forKey: "baseline")
        try container.encodeIfPresent(baselineValue.map(ReportNumber.init), forKey: "baseline_value")
        try container.encodeIfPresent(speedup.map(ReportNumber.init), forKey: "speedup")
        for (name, value) in extra {
            try container.encode(ReportNumber(value), forKey: FieldName(stringValue: name))
        }
    }

    private struct FieldName: CodingKey, ExpressibleByStringLiteral {
        var stringValue: String
        init(stringValue: String) { self.stringValue = stringValue }
        init(stringLiteral value: String) { self.stringValue = value }
        var intValue: Int? { nil }
        init?(intValue: Int) { nil }
    }
}

/// A number with about four significant digits, for tables.
func formatNumber(_ v: Double) -> String {
    guard v.isFinite else { return "-" }
    if abs(v) >= 1000 { return String(format: "%.0f", v) }
    if abs(v) >= 100 { return String(format: "%.1f", v) }
    if abs(v) >= 1 { return String(format: "%.2f", v) }
    return String(format: "%.4g", v)
}
