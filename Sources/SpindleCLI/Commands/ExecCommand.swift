import ArgumentParser
import AsyncAlgorithms
import Foundation
import Spindle

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
            appended as the last argument. Each job's output is printed whole when it finishes \
            (in input order with --keep-order), never mixed with another job's. A job past \
            --timeout gets SIGTERM, then SIGKILL 2 s later, with every process it started. \
            A closing summary goes to standard error; the exit status is 1 if any job failed, \
            timed out or could not start.
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

    @Option(help: "A file whose contents are written to every job's standard input.")
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
            invocation = try ExecInvocation.parse(command)
            batch = try CommandBatch(
                template: invocation.template,
                options: .init(
                    maxConcurrency: jobs, timeout: timeout?.duration, outputLimit: outputLimit,
                    standardInput: try standardInput(), keepOrder: keepOrder))
        } catch let error as CommandBatchError {
            throw ValidationError(error.description)
        }

        let timeoutText = timeout?.description ?? ""
        let work = Task {
            let report: (CommandJobResult) -> Void = { ExecCommand.report($0, timeout: timeoutText) }
            if let items = invocation.items {
                return try await batch.run(items.async, onResult: report)
            }
            return try await batch.run(StandardInputLines.start(), onResult: report)
        }
        // Ctrl-C or SIGTERM: start no more jobs, terminate the running ones, still summarise.
        let interruption = SignalTrap(signals: [SIGINT, SIGTERM]) { work.cancel() }
        let summary = try await work.value
        interruption.cancel()
        FileHandle.standardError.write(Data("\(summary)\n".utf8))
        if work.isCancelled { throw ExitCode(130) }
        if !summary.allSucceeded { throw ExitCode(1) }
    }

    private func standardInput() throws -> [UInt8]? {
        if let input { return Array(input.utf8) }
        guard let inputFile else { return nil }
        let url = URL(fileURLWithPath: inputFile)
        let size = (try? FileManager.default.attributesOfItem(atPath: inputFile)[.size] as? Int) ?? nil
        guard let size else { throw ValidationError("--input-file \(inputFile): no such file, or it cannot be read") }
        guard size <= Self.inputFileLimit else {
            throw ValidationError("--input-file \(inputFile) is \(size) bytes: at most \(Self.inputFileLimit) are written to each job")
        }
        do {
            return Array(try Data(contentsOf: url))
        } catch {
            throw ValidationError("--input-file \(inputFile) cannot be read: \(error.localizedDescription)")
        }
    }

    /// Prints one job's output in one piece per stream, then a line on standard error if it
    /// did not succeed.
    static func report(_ result: CommandJobResult, timeout: String) {
        if !result.standardOutput.bytes.isEmpty || result.standardOutput.isTruncated {
            FileHandle.standardOutput.write(Data(result.standardOutput.text.utf8))
        }
        var errorText = result.standardError.bytes.isEmpty && !result.standardError.isTruncated ? "" : result.standardError.text
        let commandLine = result.arguments.joined(separator: " ")
        if result.timedOut {
            errorText += "spindle exec: timed out after \(timeout), terminated: \(commandLine)\n"
        } else if case .failedToStart(let reason) = result.termination {
            errorText += "spindle exec: \(reason)\n"
        } else if !result.succeeded {
            errorText += "spindle exec: \(result.termination): \(commandLine)\n"
        }
        if !errorText.isEmpty {
            FileHandle.standardError.write(Data(errorText.utf8))
        }
    }
}

/// The lines of standard input as an async sequence. A thread of its own does the blocking
/// reads, and hands each line over through an `AsyncChannel`, which waits for the batch to take
/// it: no more than one line is read ahead, however long the input.
enum StandardInputLines {
    static func start() -> AsyncChannel<String> {
        let channel = AsyncChannel<String>()
        Thread.detachNewThread {
            while let line = readLine(strippingNewline: true) {
                if line.isEmpty { continue }
                let taken = DispatchSemaphore(value: 0)
                Task {
                    await channel.send(line)
                    taken.signal()
                }
                taken.wait()
            }
            channel.finish()
        }
        return channel
    }
}

/// Runs `handler` on the first of `signals` received (their default action is suspended while
/// the trap is set).
final class SignalTrap {
    private let sources: [any DispatchSourceSignal]

    init(signals: [Int32], handler: @escaping @Sendable () -> Void) {
        sources = signals.map { number in
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler(handler: handler)
            source.resume()
            return source
        }
    }

    func cancel() {
        for source in sources { source.cancel() }
    }
}
