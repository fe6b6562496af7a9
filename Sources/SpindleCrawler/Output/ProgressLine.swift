import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A crawl's live progress on one line of standard error, redrawn in place (`\r`) a few times a
/// second: pages done of the total, failures, pages per second, and the engine's queue depths.
///
/// It draws only when ``isEnabled`` (by default: standard error is a terminal), so redirected
/// output never fills with progress lines. Anything else written to standard error while it
/// runs goes through ``withLineCleared(_:)``, so messages do not land in the middle of it.
public final class ProgressLine: @unchecked Sendable {
    /// Whether standard error is a terminal (`isatty(2)`).
    public static var standardErrorIsTerminal: Bool { isatty(STDERR_FILENO) == 1 }

    /// Whether the line is drawn at all.
    public let isEnabled: Bool
    private let progress: CrawlProgress
    private let lock = NIOLock()
    // Protected by `lock`:
    private var isShown = false
    private var isStopped = false
    private var ticker: Task<Void, Never>?

    /// A line showing `progress`, drawn only when `enabled`.
    public init(progress: CrawlProgress, enabled: Bool = ProgressLine.standardErrorIsTerminal) {
        self.progress = progress
        self.isEnabled = enabled
    }

    /// Starts redrawing every `interval` until ``stop()``. Does nothing when not enabled.
    public func start(interval: Duration = .milliseconds(200)) {
        guard isEnabled else { return }
        let task = Task.detached { [self] in
            while !Task.isCancelled {
                draw()
                try? await Task.sleep(for: interval)
            }
        }
        lock.withLock { ticker = task }
    }

    /// Stops redrawing and erases the line.
    public func stop() {
        let task: Task<Void, Never>? = lock.withLock {
            isStopped = true
            clearLocked()
            defer { ticker = nil }
            return ticker
        }
        task?.cancel()
    }

    /// Erases the line, runs `body` (which may write to standard error), and lets the next
    /// redraw bring the line back.
    public func withLineCleared<T>(_ body: () throws -> T) rethrows -> T {
        lock.lock()
        defer { lock.unlock() }
        clearLocked()
        return try body()
    }

    /// The text of the line for `snapshot`:
    /// `120/2000 pages · 3 failed · 842.1 pages/s · urls 32/32 · pages 5/32`.
    public static func render(_ snapshot: CrawlProgress.Snapshot) -> String {
        var parts = [
            "\(snapshot.done)/\(snapshot.total) pages",
            "\(snapshot.failed) failed",
            String(format: "%.1f pages/s", snapshot.pagesPerSecond),
        ]
        for queue in snapshot.queues {
            parts.append("\(queue.name) \(queue.count)/\(queue.capacity)")
        }
        return parts.joined(separator: " · ")
    }

    private func draw() {
        let text = Self.render(progress.snapshot())
        lock.withLock {
            guard !isStopped else { return }
            // Carriage return, the line, then erase whatever a longer previous line left.
            writeToStandardError("\r" + text + "\u{1B}[K")
            isShown = true
        }
    }

    private func clearLocked() {
        guard isShown else { return }
        writeToStandardError("\r\u{1B}[K")
        isShown = false
    }

    private func writeToStandardError(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let written = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if written < 0 && errno == EINTR { continue }
                guard written > 0 else { return }
                offset += written
            }
        }
    }
}
