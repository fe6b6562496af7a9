import Foundation
import Subprocess

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(System)
import System
#else
import SystemPackage
#endif

extension CommandBatch {
    /// What every job of a batch starts with: this process's environment, read once, and,
    /// when the command is the same for all jobs, where it was found on PATH.
    ///
    /// swift-subprocess's `Environment.inherit` reads and parses the whole environment into a
    /// dictionary for every process it starts, then formats it back; for short jobs that was one of
    /// the largest parts of `spindle exec`'s own CPU time. The snapshot hands it the rows as they
    /// are, as bytes, so a value that is not UTF-8 reaches the job unchanged.
    struct PreparedLaunch: Sendable {
        /// The executable every job runs, when it was found on PATH in advance.
        var executable: Executable?
        var environment: Environment
        /// Kills the jobs' groups if this process dies without reaping them.
        var guardian: JobGroupGuardian

        init(executablePath: [UInt8]?, guardian: JobGroupGuardian) {
            self.executable = executablePath.map { .path(CommandBatch.filePath($0)) }
            self.guardian = guardian
            var rows: [[UInt8]] = []
            var row: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = environ
            while let entry = row?.pointee {
                // `KEY=value` with the NUL terminator swift-subprocess copies it up to.
                rows.append(Array(UnsafeRawBufferPointer(start: entry, count: strlen(entry) + 1)))
                row = row?.successor()
            }
            self.environment = .custom(rows)
        }
    }

    /// Runs one command to its end and reports what it did. Never throws: a command that cannot
    /// start is a result with ``JobTermination/failedToStart(_:)``, and so is an item with a NUL
    /// byte. `launch` holds the environment and, if it was looked up in advance, where
    /// `arguments[0]` was found on PATH.
    static func runJob(
        index: Int, item: [UInt8], arguments: [[UInt8]], launch: PreparedLaunch, options: Options
    ) async -> CommandJobResult {
        let start = ContinuousClock.now
        let signaller = ProcessGroupSignaller()
        var result = CommandJobResult(
            index: index, itemBytes: item, argumentBytes: arguments, termination: .failedToStart(""),
            standardOutput: CapturedOutput(limit: options.outputLimit),
            standardError: CapturedOutput(limit: options.outputLimit),
            duration: .zero, timedOut: false, processID: nil
        )
        // A C string ends at its first NUL: the job would get a shorter item than it was given.
        if item.contains(0) {
            result.termination = .failedToStart(
                "the item \(CommandBytes.quoted(item)) contains a NUL byte, which no argument can hold")
            return result
        }

        let (ended, timedOut) = await withTaskCancellationHandler {
            guard options.timeout != nil else {
                // No timeout, no watchdog: the process runs in this task, with no group around it.
                return (await spawnCatchingErrors(arguments: arguments, launch: launch, options: options, signaller: signaller), false)
            }
            return await runWithWatchdog(arguments: arguments, launch: launch, options: options, signaller: signaller)
        } onCancel: {
            // SIGTERM to the group now; swift-subprocess's teardown sends SIGKILL to the leader
            // after the grace period, and `finish()` below to what is left of the group.
            signaller.terminate()
        }
        // After the reap: kills leftovers of a terminated group, then no more signals.
        if let group = signaller.finish() { launch.guardian.ended(group: group) }

        result.timedOut = timedOut
        result.duration = ContinuousClock.now - start
        switch ended {
        case .success(let run):
            result.processID = run.processID
            result.standardOutput = run.streams.standardOutput
            result.standardError = run.streams.standardError
            switch run.status {
            case .exited(let code): result.termination = .exited(code)
            case .signaled(let signal): result.termination = .signaled(signal)
            }
        case .failure(let error):
            result.termination = .failedToStart(Self.describeStartFailure(error, command: CommandBytes.text(arguments[0])))
        }
        return result
    }

    /// What a finished process left behind.
    private struct FinishedRun: Sendable {
        var status: TerminationStatus
        var processID: Int32
        var streams: CapturedStreams
    }

    private struct CapturedStreams: Sendable {
        var standardOutput: CapturedOutput
        var standardError: CapturedOutput
    }

    private enum JobEvent: Sendable {
        case ended(Result<FinishedRun, any Error>)
        case watchdog(fired: Bool)
    }

    /// Runs the process beside a watchdog that terminates its group at the timeout. The watchdog
    /// is stopped only once `Subprocess.run` has returned, that is once the process has exited,
    /// so a job that closes its output early and keeps running is still timed.
    private static func runWithWatchdog(
        arguments: [[UInt8]], launch: PreparedLaunch, options: Options, signaller: ProcessGroupSignaller
    ) async -> (Result<FinishedRun, any Error>, timedOut: Bool) {
        await withTaskGroup(of: JobEvent.self) { group in
            group.addTask {
                .ended(await spawnCatchingErrors(arguments: arguments, launch: launch, options: options, signaller: signaller))
            }
            if let timeout = options.timeout {
                let grace = options.terminationGracePeriod
                group.addTask {
                    do { try await Task.sleep(for: timeout) } catch { return .watchdog(fired: false) }
                    signaller.terminate()
                    do {
                        try await Task.sleep(for: grace)
                        signaller.kill()
                    } catch {
                        // The process exited within the grace period.
                    }
                    return .watchdog(fired: true)
                }
            }
            var ended: Result<FinishedRun, any Error>?
            var timedOut = false
            for await event in group {
                switch event {
                case .ended(let result):
                    ended = result
                    group.cancelAll()
                case .watchdog(let fired):
                    timedOut = fired
                }
            }
            return (ended!, timedOut)
        }
    }

    private static func spawnCatchingErrors(
        arguments: [[UInt8]], launch: PreparedLaunch, options: Options, signaller: ProcessGroupSignaller
    ) async -> Result<FinishedRun, any Error> {
        do {
            return .success(try await spawn(arguments: arguments, launch: launch, options: options, signaller: signaller))
        } catch {
            return .failure(error)
        }
    }

    private static func spawn(
        arguments: [[UInt8]], launch: PreparedLaunch, options: Options, signaller: ProcessGroupSignaller
    ) async throws -> FinishedRun {
        let command = arguments[0]
        let executable: Executable
        if let prepared = launch.executable {
            executable = prepared
        } else if command.contains(UInt8(ascii: "/")) {
            executable = .path(filePath(command))
        } else {
            executable = .name(CommandBytes.text(command))
        }
        var platformOptions = PlatformOptions()
        // Group ID 0: the child leads a new group whose ID is its PID, so a signal to the group
        // reaches its children too, and the terminal's Ctrl-C reaches only `spindle`.
        platformOptions.processGroupID = 0
        platformOptions.teardownSequence = [
            .gracefulShutDown(toProcessGroup: true, allowedDurationToNextStep: options.terminationGracePeriod)
        ]
        let configuration = Configuration(
            executable: executable,
            // argv[0] as the user wrote it, whatever path it was found at; each argument with
            // the NUL terminator swift-subprocess copies it up to.
            arguments: Arguments(
                executablePathOverride: command + [0], remainingValues: arguments.dropFirst().map { $0 + [0] }),
            environment: launch.environment,
            platformOptions: platformOptions)
        let limit = options.outputLimit
        let outcome: ExecutionResult<CapturedStreams, SequenceOutput, SequenceOutput>
        if let input = options.standardInput, !input.isEmpty {
            outcome = try await Subprocess.run(configuration, input: .inputWriter, output: .sequence, error: .sequence) {
                execution in
                await captureStreams(of: execution, limit: limit, launch: launch, signaller: signaller) {
                    let writer = execution.standardInputWriter
                    // A child that exits without reading its input makes this fail (EPIPE): the
                    // job's exit status tells what happened, not this write.
                    _ = try? await writer.write(input)
                    try? await writer.finish()
                }
            }
        } else {
            // /dev/null: an empty input without a pipe, or a writer, to set up per job.
            outcome = try await Subprocess.run(configuration, input: .none, output: .sequence, error: .sequence) {
                execution in
                await captureStreams(of: execution, limit: limit, launch: launch, signaller: signaller) {}
            }
        }
        return FinishedRun(
            status: outcome.terminationStatus,
            processID: outcome.processIdentifier.value,
            streams: outcome.closureResult
        )
    }

    /// Records the started process's group, then drains both pipes at once (a child blocked on
    /// a full stderr pipe would never finish its stdout) while `writeInput` runs beside them.
    private static func captureStreams<Input: InputProtocol>(
        of execution: Execution<Input, SequenceOutput, SequenceOutput>, limit: Int,
        launch: PreparedLaunch, signaller: ProcessGroupSignaller, beside writeInput: () async -> Void
    ) async -> CapturedStreams {
        signaller.attach(groupID: execution.processIdentifier.value)
        launch.guardian.started(group: execution.processIdentifier.value)
        async let standardOutput = capture(execution.standardOutput, limit: limit)
        async let standardError = capture(execution.standardError, limit: limit)
        await writeInput()
        return CapturedStreams(standardOutput: await standardOutput, standardError: await standardError)
    }

    /// Reads a stream to its end, keeping at most `limit` bytes.
    private static func capture(_ stream: SubprocessOutputSequence, limit: Int) async -> CapturedOutput {
        var captured = CapturedOutput(limit: limit)
        do {
            for try await buffer in stream {
                buffer.withUnsafeBytes { captured.append(contentsOf: $0) }
            }
        } catch {
            // A read error ends the capture; the exit status still says how the job ended.
        }
        return captured
    }

    /// The first executable regular file named `command` in the absolute directories of PATH,
    /// or `nil` (for a command that contains `/`, or is not found: swift-subprocess then reports
    /// the failure per job).
    static func searchPath(for command: [UInt8]) -> [UInt8]? {
        guard !command.isEmpty, !command.contains(UInt8(ascii: "/")), let path = getenv("PATH") else {
            return nil
        }
        let directories = UnsafeRawBufferPointer(start: path, count: strlen(path)).split(separator: UInt8(ascii: ":"))
        for directory in directories where directory.first == UInt8(ascii: "/") {
            var candidate = Array(directory)
            if candidate.last != UInt8(ascii: "/") { candidate.append(UInt8(ascii: "/")) }
            candidate += command
            candidate.append(0)
            var info = stat()
            let found = candidate.withUnsafeBufferPointer { buffer in
                buffer.withMemoryRebound(to: CChar.self) { name in
                    stat(name.baseAddress!, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG
                        && access(name.baseAddress!, X_OK) == 0
                }
            }
            if found { return candidate.dropLast() }
        }
        return nil
    }

    /// A file path made of `bytes` as they are.
    fileprivate static func filePath(_ bytes: [UInt8]) -> FilePath {
        (bytes + [0]).withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { FilePath(platformString: $0.baseAddress!) }
        }
    }

    private static func describeStartFailure(_ error: any Error, command: String) -> String {
        guard let error = error as? SubprocessError else { return "\(error)" }
        switch error.code {
        case .executableNotFound:
            return "command not found or not executable: \(command)"
        default:
            return "\(command): \(error)"
        }
    }
}
