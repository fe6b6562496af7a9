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
public struct CapturedOutput: Sendable, Hashable {
    /// The first bytes written, at most the batch's output limit.
    public private(set) var bytes: [UInt8] = []
    /// How many bytes the job wrote in all.
    public private(set) var totalByteCount = 0
    /// The limit this output was captured with.
    public let limit: Int

    /// An empty capture that keeps at most `limit` bytes.
    public init(limit: Int) {
        self.limit = max(0, limit)
    }

    /// Whether bytes were dropped because the limit was reached.
    public var isTruncated: Bool { totalByteCount > bytes.count }

    /// The bytes kept, as UTF-8 text (invalid sequences repaired), followed by
    /// `[output truncated after N bytes]` on its own line when bytes were dropped.
    public var text: String {
        var text = String(decoding: bytes, as: UTF8.self)
        if isTruncated {
            if !text.isEmpty && !text.hasSuffix("\n") { text += "\n" }
            text += "[output truncated after \(limit) bytes]\n"
        }
        return text
    }

    /// Appends what fits under the limit and counts the rest.
    public mutating func append(contentsOf chunk: UnsafeRawBufferPointer) {
        totalByteCount += chunk.count
        let room = limit - bytes.count
        if room > 0 {
            bytes.append(contentsOf: chunk.prefix(room))
        }
    }
}

/// What one job of a ``CommandBatch`` did.
public struct CommandJobResult: Sendable {
    /// The position of the job's item in the input, from 0.
    public var index: Int
    /// The item the command was made from.
    public var item: String
    /// The command line that was run (after `{}` substitution).
    public var arguments: [String]
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

    /// Creates a result; ``CommandBatch`` makes these, tests and custom reporters may too.
    public init(
        index: Int, item: String, arguments: [String], termination: JobTermination,
        standardOutput: CapturedOutput, standardError: CapturedOutput,
        duration: Duration, timedOut: Bool, processID: Int32?
    ) {
        self.index = index
        self.item = item
        self.arguments = arguments
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
