import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Writing records failed: the output could not be opened or written. The description names the
/// output and the system's reason.
public struct RecordOutputError: Error, Sendable, CustomStringConvertible {
    /// The file written, or `standard output`.
    public var path: String
    /// The system's reason, such as `No space left on device`.
    public var reason: String

    /// An error for `path`.
    public init(path: String, reason: String) {
        self.path = path
        self.reason = reason
    }

    /// `cannot write 'out.csv': Permission denied`.
    public var description: String { "cannot write '\(path)': \(reason)" }
}

/// A file descriptor with a write buffer: bytes are collected and written with one `write(2)`
/// per ``bufferSize`` or so, never more than that held in memory.
///
/// Safe to use from several threads; each ``write(_:)`` is written whole, never interleaved
/// with another.
public final class BufferedOutput: @unchecked Sendable {
    /// How many bytes are collected before they are written.
    public static let bufferSize = 64 * 1024

    /// The file's path, or `-` for standard output.
    public let path: String
    private let descriptor: Int32
    private let closesDescriptor: Bool
    private let lock = NIOLock()
    // Protected by `lock`:
    private var buffer: [UInt8] = []
    private var closed = false

    /// Standard output (left open by ``close()``).
    public static func standardOutput() -> BufferedOutput {
        BufferedOutput(path: "-", descriptor: STDOUT_FILENO, closesDescriptor: false)
    }

    /// Creates or truncates the file at `path` for writing (mode 0644 before the umask).
    ///
    /// - Throws: ``RecordOutputError`` naming the path and why it cannot be opened.
    public convenience init(path: String) throws(RecordOutputError) {
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw RecordOutputError(path: path, reason: String(cString: strerror(errno)))
        }
        self.init(path: path, descriptor: descriptor, closesDescriptor: true)
    }

    private init(path: String, descriptor: Int32, closesDescriptor: Bool) {
        self.path = path
        self.descriptor = descriptor
        self.closesDescriptor = closesDescriptor
        buffer.reserveCapacity(Self.bufferSize)
    }

    deinit {
        if closesDescriptor && !closed {
            _ = systemClose(descriptor)
        }
    }

    /// Appends `text`'s UTF-8, writing out the buffer once it holds ``bufferSize`` bytes.
    ///
    /// - Throws: ``RecordOutputError`` when writing fails or the output is closed.
    public func write(_ text: String) throws(RecordOutputError) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { throw RecordOutputError(path: displayPath, reason: "the output is already closed") }
        buffer.append(contentsOf: text.utf8)
        if buffer.count >= Self.bufferSize {
            try flushLocked()
        }
    }

    /// Writes out everything buffered.
    public func flush() throws(RecordOutputError) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        try flushLocked()
    }

    /// Writes out everything buffered and closes the file (standard output stays open).
    /// Closing twice does nothing.
    public func close() throws(RecordOutputError) {
        lock.lock()
        defer { lock.unlock() }
        guard !closed else { return }
        defer {
            closed = true
            if closesDescriptor { _ = systemClose(descriptor) }
        }
        try flushLocked()
    }

    private var displayPath: String { path == "-" ? "standard output" : path }

    private func flushLocked() throws(RecordOutputError) {
        var written = 0
        while written < buffer.count {
            let result = buffer.withUnsafeBytes { bytes in
                systemWrite(descriptor, bytes.baseAddress! + written, bytes.count - written)
            }
            if result < 0 {
                if errno == EINTR { continue }
                let reason = String(cString: strerror(errno))
                buffer.removeAll(keepingCapacity: true)
                throw RecordOutputError(path: displayPath, reason: reason)
            }
            written += result
        }
        buffer.removeAll(keepingCapacity: true)
    }
}

// The methods above are named `write` and `close`, which hide the C functions inside the class.
private func systemWrite(_ descriptor: Int32, _ bytes: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, bytes, count)
}

private func systemClose(_ descriptor: Int32) -> Int32 {
    close(descriptor)
}
