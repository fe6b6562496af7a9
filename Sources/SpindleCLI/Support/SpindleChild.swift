import Foundation

/// This `spindle` executable run again as a child process, for the tour and the benchmarks that
/// show what several processes do together (workers sharing a crawl, a crawl stopped and
/// resumed). Its end is awaited without blocking a thread: the site it talks to often runs in
/// this process, on the same threads.
final class SpindleChild: Sendable {
    /// The child's arguments, for messages.
    let arguments: [String]
    private let process: Process
    private let exited: AsyncStream<Void>

    /// Starts `spindle arguments`; its standard output and error go to `outputPath` (created or
    /// truncated) or are discarded.
    init(_ arguments: [String], outputPath: String? = nil) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: Self.executablePath)
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        if let outputPath {
            // FileHandle's open below reports a file that could not be created.
            _ = FileManager.default.createFile(atPath: outputPath, contents: nil)
            let log = try FileHandle(forWritingTo: URL(fileURLWithPath: outputPath))
            process.standardOutput = log
            process.standardError = log
        } else {
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
        }
        let (stream, continuation) = AsyncStream.makeStream(of: Void.self)
        process.terminationHandler = { _ in continuation.finish() }
        try process.run()
        self.arguments = arguments
        self.process = process
        exited = stream
    }

    /// The path of the running executable.
    static var executablePath: String {
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    }

    var isRunning: Bool { process.isRunning }

    /// Sends `signal` to the child.
    func signal(_ signal: Int32) {
        _ = kill(process.processIdentifier, signal)
    }

    /// Waits for the child's end: its exit status, or the number of the signal that ended it.
    func exitStatus() async -> Int32 {
        for await _ in exited {}
        // The handler can run a moment before the status is recorded; this wait is that moment.
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// Runs `spindle arguments` to its end; returns its exit status.
    static func run(_ arguments: [String], outputPath: String? = nil) async throws -> Int32 {
        try await SpindleChild(arguments, outputPath: outputPath).exitStatus()
    }
}
