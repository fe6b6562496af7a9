import ArgumentParser
import Foundation
import NIOConcurrencyHelpers

/// `spindle tour`: every program of the course, in the course's order, run on this machine.
struct TourCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tour",
        abstract: "Run every seed program's Spindle counterpart, with explanations and measured times.",
        discussion: """
            Sections run in the course's order, against servers the tour starts itself on free \
            loopback ports and stops. It ends with the course's decision chart (CPU-bound → \
            processes or threads, I/O-bound → async), filled in with this run's measurements. \
            Exit status is non-zero if any section failed. Build in release mode for figures \
            worth quoting.
            """
    )

    @Flag(help: "Smaller workloads: the whole tour in well under a minute.")
    var quick = false

    @Option(help: "Run only the sections whose title contains this text (case-insensitive).")
    var only: String?

    func run() async throws {
        let tour = TourContext(quick: quick)
        let sections = TourSections.all.filter { section in
            guard let only else { return true }
            return section.title.lowercased().contains(only.lowercased())
        }
        var failed: [String] = []
        let start = ContinuousClock.now
        for (index, section) in sections.enumerated() {
            tour.heading("\(index + 1). \(section.title)")
            do {
                try await section.run(tour)
                tour.line("✓ \(section.title)")
            } catch {
                failed.append(section.title)
                tour.line("✗ \(section.title) failed: \(error)")
            }
        }
        let elapsed = ContinuousClock.now - start
        tour.heading("Summary")
        tour.line("\(sections.count - failed.count) of \(sections.count) sections succeeded in \(tour.format(elapsed)).")
        if !failed.isEmpty {
            tour.line("Failed: \(failed.joined(separator: ", "))")
            throw ExitCode(1)
        }
    }
}

/// One section of the tour: a title and a body that explains, runs and measures.
struct TourSection: Sendable {
    var title: String
    var run: @Sendable (TourContext) async throws -> Void
}

/// What sections share: the size of the run, printing, and the measurements the closing
/// decision chart is filled in with.
final class TourContext: @unchecked Sendable {
    /// Smaller workloads.
    let quick: Bool
    private let lock = NIOLock()
    private var measurements: [String: Double] = [:]

    init(quick: Bool) { self.quick = quick }

    func heading(_ text: String) {
        print("\n== \(text) ==")
    }

    /// A paragraph of explanation, wrapped at 96 columns.
    func say(_ text: String) {
        print(wrap(text, width: 96))
    }

    func line(_ text: String) {
        print(text)
        fflush(nil)
    }

    /// Stores a figure for the closing decision chart.
    func record(_ key: String, _ value: Double) {
        lock.withLock { measurements[key] = value }
    }

    func measurement(_ key: String) -> Double? {
        lock.withLock { measurements[key] }
    }

    /// Runs `body` and returns how long it took.
    func time<T>(_ body: () async throws -> T) async rethrows -> (T, Duration) {
        let start = ContinuousClock.now
        let value = try await body()
        return (value, ContinuousClock.now - start)
    }

    func format(_ duration: Duration) -> String {
        let seconds = duration.seconds
        if seconds >= 1 { return String(format: "%.2f s", seconds) }
        if seconds >= 0.001 { return String(format: "%.1f ms", seconds * 1000) }
        return String(format: "%.1f µs", seconds * 1_000_000)
    }

    private func wrap(_ text: String, width: Int) -> String {
        var lines: [String] = []
        var current = ""
        for word in text.split(separator: " ", omittingEmptySubsequences: true) {
            if current.count + word.count + 1 > width, !current.isEmpty {
                lines.append(current)
                current = ""
            }
            current += current.isEmpty ? String(word) : " " + word
        }
        if !current.isEmpty { lines.append(current) }
        return lines.joined(separator: "\n")
    }
}

/// A section failed its own check (for example a race that did not show).
struct TourCheckFailed: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
