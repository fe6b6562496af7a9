import ArgumentParser
import AsyncAlgorithms
import Foundation
import Spindle
import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// `spindle exec`: run a command once per item, N at a time (GNU parallel, `xargs -P`).
struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "exec",
        abstract: "Run a command for each input item, several at once, with output kept per job.",
        usage: """
            spindle exec [-j N] [--timeout 30s] [--keep-order] [--input TEXT | --input-file F] -- COMMAND ARGS...
              ... | spindle exec -j 4 -- gzip -k {}
              spindle exec -j 4 -- echo {} ::: a b c
            """,
        discussion: """
            Items come after `:::`, or else from standard input, one a line (blank lines are \
            skipped). `{}` in the arguments is replaced by the item; without `{}` the item is \
            appended as the last argument. Items and arguments are passed as the bytes they \
            are, UTF-8 or not; an item with a NUL byte is a job that does not start. Each job's output is printed whole when it finishes \
            (in input order with --keep-order), never mixed with another job's. A job past \
            --timeout gets SIGTERM, then SIGKILL 2 s later, with every process it started. \
            A closing summary goes to standard error; the exit status is 1 if any job failed, \
            timed out or could not start, 130 after SIGINT and 143 after SIGTERM (the running \
            jobs are terminated, none more started). Killed outright (SIGKILL), spindle exec \
            still takes its running jobs with it: a guardian process kills their groups.
            """
    )

    @Option(name: [.customShort("j"), .customLong("jobs")], help: "Jobs at once; the default is one per core.")
    var jobs = CommandBatch.coreCount

    @Option(help: "Terminate a job that runs longer than this (500ms, 30s, 2m); no limit by default.", transform: DurationArgument.parse)
    var timeout: DurationArgument?

    @Flag(help: "Print results in input order rather than as jobs finish.")
    var keepOrder = false

    @Option(help: "Text written to every job's standard input.")
    var input: String?

    @Option(help: "A file whose contents (at most 64 MiB) are written to every job's standard input.")
    var inputFile: String?

    @Option(help: "Bytes of each job's standard output (and of its standard error) to keep; the rest is dropped with a note.")
    var outputLimit = 1 << 20

    @Argument(parsing: .postTerminator, help: "The command, its arguments, then optionally ::: and the items.")
    var command: [String] = []

    /// The biggest --input-file accepted: it is held in memory once and written to every job.
    static let inputFileLimit = 64 << 20

    func validate() throws {
        guard jobs >= 1 else { throw ValidationError("-j must be at least 1, got \(jobs)") }
        guard outputLimit >= 0 else { throw ValidationError("--output-limit must be 0 or more bytes, got \(outputLimit)") }
        if let timeout, timeout.duration <= .zero { throw ValidationError("--timeout must be positive, got \(timeout)") }
        if input != nil && inputFile != nil { throw ValidationError("give --input or --input-file, not both") }
        guard !command.isEmpty else { throw ValidationError("no command: put it after `--`, e.g. spindle exec -j 4 -- echo {} ::: a b c") }
    }

    func run() async throws {
        let invocation: ExecInvocation
        let batch: CommandBatch
        do {
            invocation = try ExecInvocation.parse(bytes: Self.receivedBytes(of: command))
            batch = try CommandBatch(
                template: invocation.template,
                options: .init(
                    maxConcurrency: jobs, timeout: timeout?.duration, outputLimit: outputLimit,
                    standardInput: try standardInput(), keepOrder: keepOrder))
        } catch let error as CommandBatchError {
            throw ValidationError(error.description)
        }

        let timeoutText = timeout?.description ?? ""
        // The work waits until the signals are trapped: a SIGTERM just after the first job has
        // started must cancel the batch, not kill this process with the default action.
        let (trapped, trapSet) = AsyncStream.makeStream(of: Void.self)
        let work = Task {
            for await _ in trapped {}
            let report: (CommandJobResult) -> Void = { ExecCommand.report($0, timeout: timeoutText) }
            if let items = invocation.itemBytes {
                return try await batch.run(items.async, onResult: report)
            }
            return try await batch.run(StandardInputLines.start(), onResult: report)
        }
        // Ctrl-C or SIGTERM: start no more jobs, terminate the running ones, still summarise.
        let interruption = SignalTrap(signals: [SIGINT, SIGTERM]) { work.cancel() }
        trapSet.finish()
        let summary: CommandBatchSummary
        do {
            summary = try await work.value
        } catch let error as StandardInputLines.LineTooLong {
            throw ValidationError(error.description)
        }
        interruption.cancel()
        FileHandle.standardError.write(Data("\(summary)\n".utf8))
        // 128 + the signal, as a shell reports a process the signal ended: 130, 143.
        if let signal = interruption.received { throw ExitCode(128 + signal) }
        if !summary.allSucceeded { throw ExitCode(1) }
    }

    /// `words` as this process received them: the words after `--` are the last of `argv`, and
    /// each is taken as its raw bytes (which need not be UTF-8) where it matches the decoded word.
    static func receivedBytes(of words: [String]) -> [[UInt8]] {
        let count = Int(CommandLine.argc)
        let first = count - words.count
        return words.enumerated().map { offset, word in
            guard first >= 0, let pointer = CommandLine.unsafeArgv[first + offset] else { return Array(word.utf8) }
            let raw = Array(UnsafeRawBufferPointer(start: pointer, count: strlen(pointer)))
            return String(decoding: raw, as: UTF8.self) == word ? raw : Array(word.utf8)
        }
    }

    private func standardInput() throws -> [UInt8]? {
        if let input { return Array(input.utf8) }
        guard let inputFile else { return nil }
        return try Self.readInputFile(inputFile, limit: Self.inputFileLimit)
    }

    /// The contents of `path`, read up to `limit` bytes. A directory, an unreadable file, or
    /// one longer than the limit (a device like /dev/zero has no end) is an error naming it.
    static func readInputFile(_ path: String, limit: Int) throws -> [UInt8] {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw ValidationError("--input-file \(path) cannot be read: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var info = stat()
        if fstat(descriptor, &info) == 0, (info.st_mode & S_IFMT) == S_IFDIR {
            throw ValidationError("--input-file \(path) is a directory: give a file whose contents each job reads")
        }
        var contents: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
            if count == 0 { return contents }
            if count < 0 {
                if errno == EINTR { continue }
                throw ValidationError("--input-file \(path) cannot be read: \(String(cString: strerror(errno)))")
            }
            guard contents.count + count <= limit else {
                throw ValidationError(
                    "--input-file \(path) holds more than \(limit) bytes, or has no end: at most \(limit) bytes are written to each job")
            }
            contents += chunk[..<count]
        }
    }

    /// Prints one job's output in one piece per stream, then a line on standard error if it
    /// did not succeed. The output is written as the bytes the job wrote, from the pieces it
    /// was captured in (not copied into one buffer first).
    static func report(_ result: CommandJobResult, timeout: String) {
        writeOutput(result.standardOutput, to: STDOUT_FILENO)
        var errorText = ""
        // The command line is made into text only for a job that did not succeed.
        var commandLine: String { result.arguments.joined(separator: " ") }
        if result.timedOut {
            errorText = "spindle exec: timed out after \(timeout), terminated: \(commandLine)\n"
        } else if case .failedToStart(let reason) = result.termination {
            errorText = "spindle exec: \(reason)\n"
        } else if !result.succeeded {
            errorText = "spindle exec: \(result.termination): \(commandLine)\n"
        }
        writeOutput(result.standardError, to: STDERR_FILENO, then: errorText)
    }

    /// Writes the kept bytes, the truncation note if bytes were dropped, then `trailer`.
    private static func writeOutput(_ output: CapturedOutput, to descriptor: Int32, then trailer: String = "") {
        for piece in output.pieces { writeAll(piece, to: descriptor) }
        var tail = ""
        if output.isTruncated {
            tail = (output.endsWithLineBreak ? "" : "\n") + output.truncationNote
        }
        tail += trailer
        if !tail.isEmpty { writeAll(Array(tail.utf8), to: descriptor) }
    }

    private static func writeAll(_ bytes: [UInt8], to descriptor: Int32) {
        bytes.withUnsafeBytes { buffer in
            var offset = 0
            while offset < buffer.count {
                let written = write(descriptor, buffer.baseAddress! + offset, buffer.count - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    return  // A closed pipe (EPIPE; SIGPIPE is ignored): nothing more can be written.
                }
                offset += written
            }
        }
    }
}

/// The lines of standard input, as bytes, as an async sequence. A thread of its own does the
/// blocking reads, and hands the lines of each read over at once through an
/// `AsyncThrowingChannel`, which waits for the batch to take them: no more than one read's lines
/// (64 KiB) are held ahead, however long the input, and a short job list costs one hand-over,
/// not one per line.
enum StandardInputLines {
    /// The longest line taken as an item: Linux refuses a longer argument (MAX_ARG_STRLEN).
    static let lineLimit = 128 << 10

    /// A line longer than ``lineLimit``: the input is not a list of items (or has no line breaks).
    struct LineTooLong: Error, CustomStringConvertible {
        var description: String {
            "standard input has a line longer than \(StandardInputLines.lineLimit) bytes, the most an argument can hold: give one item a line"
        }
    }

    static func start() -> some AsyncSequence<[UInt8], any Error> {
        let channel = AsyncThrowingChannel<[[UInt8]], any Error>()
        Thread.detachNewThread {
            var reader = LineReader(descriptor: STDIN_FILENO, lineLimit: lineLimit)
            do {
                while let lines = try reader.nextLines() {
                    let items = lines.filter { !$0.isEmpty }
                    if items.isEmpty { continue }
                    let taken = DispatchSemaphore(value: 0)
                    Task {
                        await channel.send(items)
                        taken.signal()
                    }
                    taken.wait()
                }
                channel.finish()
            } catch {
                channel.fail(error)
            }
        }
        return channel.flatMap { $0.async }
    }

    /// Splits what a descriptor yields into lines, without their `\n` (or `\r\n`).
    struct LineReader {
        let descriptor: Int32
        let lineLimit: Int
        private var buffer: [UInt8] = []
        /// Where the next line starts in `buffer`; the lines before were handed out.
        private var start = 0
        /// Where to look for the next `\n`: the bytes before hold none.
        private var searchFrom = 0
        private var ended = false

        init(descriptor: Int32, lineLimit: Int) {
            self.descriptor = descriptor
            self.lineLimit = lineLimit
        }

        /// The next line, and every further whole line already read, `nil` at the end of the
        /// input (a read error ends it too).
        /// - Throws: ``LineTooLong`` for a line longer than `lineLimit`.
        mutating func nextLines() throws -> [[UInt8]]? {
            guard let first = try next() else { return nil }
            var lines = [first]
            while let line = bufferedLine() { lines.append(line) }
            return lines
        }

        /// The next line, `nil` at the end of the input (a read error ends it too).
        /// - Throws: ``LineTooLong`` for a line longer than `lineLimit`.
        mutating func next() throws -> [UInt8]? {
            while true {
                if let line = bufferedLine() { return line }
                guard buffer.count - start <= lineLimit else { throw LineTooLong() }
                if ended {
                    guard start < buffer.count else { return nil }
                    defer { start = buffer.count }
                    return Self.withoutCarriageReturn(buffer[start...])
                }
                // The lines handed out go before more is read, not one by one (which would
                // move the rest of the buffer for every line).
                buffer.removeSubrange(..<start)
                searchFrom -= start
                start = 0
                var chunk = [UInt8](repeating: 0, count: 1 << 16)
                let count = chunk.withUnsafeMutableBytes { read(descriptor, $0.baseAddress, $0.count) }
                if count < 0 && errno == EINTR { continue }
                if count <= 0 {
                    ended = true
                } else {
                    buffer += chunk[..<count]
                }
            }
        }

        /// The next whole line in what was read so far, without reading more.
        private mutating func bufferedLine() -> [UInt8]? {
            guard let newline = buffer[searchFrom...].firstIndex(of: UInt8(ascii: "\n")) else {
                searchFrom = buffer.count
                return nil
            }
            defer { start = newline + 1; searchFrom = start }
            return Self.withoutCarriageReturn(buffer[start..<newline])
        }

        private static func withoutCarriageReturn(_ line: ArraySlice<UInt8>) -> [UInt8] {
            Array(line.last == UInt8(ascii: "\r") ? line.dropLast() : line)
        }
    }
}
