/// How one job of a ``CommandBatch`` ended.
public enum JobTermination: Sendable, Hashable, CustomStringConvertible {
    /// The process exited with this status.
    case exited(Int32)
    /// The process was ended by this signal (for example after its timeout).
    case signaled(Int32)
    /// The process could not be started: the executable does not exist, is not executable, ...
    case failedToStart(String)

    /// Whether the process exited with status 0.
    public var isSuccess: Bool { self == .exited(0) }

    /// `exit 3`, `signal 9`, or `not started: <reason>`.
    public var description: String {
        switch self {
        case .exited(let status): return "exit \(status)"
        case .signaled(let signal): return "signal \(signal)"
        case .failedToStart(let reason): return "not started: \(reason)"
        }
    }
}

/// Up to a limit of the bytes a job wrote to one of its output streams. The rest is read and
/// dropped as it arrives, so a chatty job costs at most the limit in memory.
///
/// The kept bytes are held in pieces of at most ``pieceSize`` bytes, each allocated at its final
/// size: an array grown by doubling would hold up to twice the limit, and three times while it
/// moves to a bigger buffer.
public struct CapturedOutput: Sendable, Hashable {
    /// The largest piece the kept bytes are held in.
    public static let pieceSize = 64 << 10

    /// The kept bytes in pieces of at most ``pieceSize``, in order. Write them out one by one
    /// rather than joining them into ``bytes``, which copies them.
    public private(set) var pieces: [[UInt8]] = []
    /// How many bytes the job wrote in all.
    public private(set) var totalByteCount = 0
    /// How many bytes are kept.
    public private(set) var keptByteCount = 0
    /// The limit this output was captured with.
    public let limit: Int

    /// An empty capture that keeps at most `limit` bytes.
    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// The first bytes written, at most the batch's output limit (a copy of ``pieces`` joined).
    public var bytes: [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(keptByteCount)
        for piece in pieces { bytes += piece }
        return bytes
    }

    /// Whether bytes were dropped because the limit was reached.
    public var isTruncated: Bool { totalByteCount > keptByteCount }

    /// The bytes kept, as UTF-8 text (invalid sequences repaired), followed by
    /// ``truncationNote`` when bytes were dropped.
    public var text: String {
        var text = String(decoding: bytes, as: UTF8.self)
        if isTruncated {
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            text += truncationNote
        }
        return text
    }

    /// `[output truncated after N bytes]` and a line break.
    public var truncationNote: String { "[output truncated after \(limit) bytes]\n" }

    /// Whether the kept bytes end with a line break (or none are kept).
    public var endsWithLineBreak: Bool { pieces.last?.last.map { $0 == UInt8(ascii: "\n") } ?? true }

    /// Appends what fits under the limit and counts the rest.
    public mutating func append(contentsOf chunk: UnsafeRawBufferPointer) {
        totalByteCount += chunk.count
        var rest = chunk[...].prefix(max(0, limit - keptByteCount))
        while !rest.isEmpty {
            if pieces.isEmpty || pieces[pieces.count - 1].count == Self.pieceSize {
                var piece: [UInt8] = []
                piece.reserveCapacity(min(Self.pieceSize, limit - keptByteCount))
                pieces.append(piece)
            }
            let last = pieces.count - 1
            let taken = rest.prefix(Self.pieceSize - pieces[last].count)
            pieces[last].append(contentsOf: taken)
            keptByteCount += taken.count
            rest = rest.dropFirst(taken.count)
        }
    }

    public static func == (left: CapturedOutput, right: CapturedOutput) -> Bool {
        left.limit == right.limit && left.totalByteCount == right.totalByteCount
            && left.pieces.joined().elementsEqual(right.pieces.joined())
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(limit)
        hasher.combine(totalByteCount)
        for piece in pieces { for byte in piece { hasher.combine(byte) } }
    }
}

/// What one job of a ``CommandBatch`` did.
public struct CommandJobResult: Sendable {
    /// The position of the job's item in the input, from 0.
    public var index: Int
    /// The item the command was made from, as bytes.
    public var itemBytes: [UInt8]
    /// The command line that was run (after `{}` substitution), as bytes.
    public var argumentBytes: [[UInt8]]
    /// How it ended.
    public var termination: JobTermination
    /// Its standard output, up to the limit.
    public var standardOutput: CapturedOutput
    /// Its standard error, up to the limit.
    public var standardError: CapturedOutput
    /// From start to the end of its output and its exit.
    public var duration: Duration
    /// Whether it was still running at its timeout and was terminated for it.
    public var timedOut: Bool
    /// The process ID it ran as; `nil` when it could not be started.
    public var processID: Int32?

    /// The item as text (bytes that are not UTF-8 shown as U+FFFD).
    public var item: String { CommandBytes.text(itemBytes) }
    /// The command line that was run, as text.
    public var arguments: [String] { argumentBytes.map(CommandBytes.text) }

    /// Creates a result; ``CommandBatch`` makes these, tests and custom reporters may too.
    public init(
        index: Int, item: String, arguments: [String], termination: JobTermination,
        standardOutput: CapturedOutput, standardError: CapturedOutput,
        duration: Duration, timedOut: Bool, processID: Int32?
    ) {
        self.init(
            index: index, itemBytes: Array(item.utf8), argumentBytes: arguments.map { Array($0.utf8) },
            termination: termination, standardOutput: standardOutput, standardError: standardError,
            duration: duration, timedOut: timedOut, processID: processID)
    }

    /// Creates a result with the item and the command line as bytes.
    public init(
        index: Int, itemBytes: [UInt8], argumentBytes: [[UInt8]], termination: JobTermination,
        standardOutput: CapturedOutput, standardError: CapturedOutput,
        duration: Duration, timedOut: Bool, processID: Int32?
    ) {
        self.index = index
        self.itemBytes = itemBytes
        self.argumentBytes = argumentBytes
        self.termination = termination
        self.standardOutput = standardOutput
        self.standardError = standardError
        self.duration = duration
        self.timedOut = timedOut
        self.processID = processID
    }

    /// Whether the job exited with status 0 within its time.
    public var succeeded: Bool { termination.isSuccess && !timedOut }
}

/// The counts behind the closing line of `spindle exec`:
/// `12 jobs: 11 succeeded, 1 failed (exit 3: 1), 0 timed out`.
public struct CommandBatchSummary: Sendable, Hashable, CustomStringConvertible {
    /// Jobs that ran or tried to.
    public private(set) var total = 0
    /// Jobs that exited with status 0 in time.
    public private(set) var succeeded = 0
    /// Jobs killed at their timeout (not counted in `failed`).
    public private(set) var timedOut = 0
    /// Failed jobs by how they ended (`exit 3`, `signal 9`, `not started`).
    public private(set) var failures: [String: Int] = [:]

    /// An empty summary.
    public init() {}

    /// Jobs that exited non-zero, died of a signal, or could not start.
    public var failed: Int { failures.values.reduce(0, +) }

    /// Whether every job succeeded.
    public var allSucceeded: Bool { succeeded == total }

    /// Counts one result.
    public mutating func add(_ result: CommandJobResult) {
        total += 1
        if result.succeeded {
            succeeded += 1
        } else if result.timedOut {
            timedOut += 1
        } else {
            let key: String
            switch result.termination {
            case .failedToStart: key = "not started"
            default: key = result.termination.description
            }
            failures[key, default: 0] += 1
        }
    }

    /// `12 jobs: 11 succeeded, 1 failed (exit 3: 1), 0 timed out`.
    public var description: String {
        var text = "\(total) job\(total == 1 ? "" : "s"): \(succeeded) succeeded, \(failed) failed"
        if !failures.isEmpty {
            let parts = failures.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }
            text += " (" + parts.joined(separator: ", ") + ")"
        }
        return text + ", \(timedOut) timed out"
    }
}
