import Foundation
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The README's library examples (Examples/), run as built, their output checked: the code a
/// reader copies compiles and does what the README says.
@Suite("Examples")
struct ExamplesTests {
    @Test("ThreadPool: futures as completed, and map in input order")
    func threadPool() async throws {
        let run = try await ExampleExecutable.run("ThreadPoolExample")
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput == """
            sum of squares, as completed: 55
            squares, in input order: [1, 4, 9, 16, 25]

            """)
    }

    @Test("AsyncMap: file sizes in input order; a missing file is an error naming it")
    func concurrentMap() async throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("spindle-example-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let sizes = [0, 5, 70_000, 3]
        let paths = sizes.enumerated().map { directory.appendingPathComponent("file\($0.offset)").path }
        for (path, size) in zip(paths, sizes) {
            #expect(FileManager.default.createFile(atPath: path, contents: Data(repeating: 0x61, count: size)))
        }

        let run = try await ExampleExecutable.run("AsyncMapExample", paths)
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput == zip(paths, sizes).map { "\($0): \($1) bytes\n" }.joined())

        let missing = directory.appendingPathComponent("missing").path
        let failed = try await ExampleExecutable.run("AsyncMapExample", [paths[0], missing])
        #expect(failed.status == 1)
        #expect(failed.standardOutput.isEmpty)
        #expect(failed.standardError == "error: cannot read \(missing)\n")
    }

    @Test("CommandBatch: a command per item, output in input order; bad input is an error naming it")
    func commandBatch() async throws {
        let run = try await ExampleExecutable.run("CommandBatchExample", ["echo", "item", "{}", ":::", "a", "b", "c"])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput == "item a\nitem b\nitem c\n3 of 3 succeeded\n")

        let failing = try await ExampleExecutable.run("CommandBatchExample", ["sh", "-c", "exit $0", ":::", "0", "3"])
        #expect(failing.status == 0)
        #expect(failing.standardOutput == "1 of 2 succeeded\n")

        let bad = try await ExampleExecutable.run("CommandBatchExample", ["echo", ":::"])
        #expect(bad.status == 64)
        #expect(bad.standardError.contains("`:::` is followed by no item"), "\(bad.standardError)")
    }

    @Test("ProcessPool: a registered job run in worker processes")
    func processPool() async throws {
        let run = try await ExampleExecutable.run("ProcessPoolExample")
        #expect(run.status == 0, "\(run.standardError)")
        #expect(run.standardOutput == """
            2 is prime
            97 is prime
            100 is not prime
            112272535095293 is prime

            """)
    }
}

extension ExamplesTests {
    /// The repository's root, from this file's path.
    static let repository = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    @Test("The README shows each example as it is", arguments: ["ThreadPool", "AsyncMap", "ProcessPool", "CommandBatch"])
    func readmeShowsExample(_ name: String) throws {
        let readme = try String(contentsOf: Self.repository.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(
            contentsOf: Self.repository.appendingPathComponent("Examples/\(name)/main.swift"), encoding: .utf8)
        #expect(readme.contains("```swift\n" + source + "```\n"), "README.md does not show Examples/\(name)/main.swift as it is")
    }
}

/// An example executable, built beside the test bundle, run to its end.
enum ExampleExecutable {
    struct Run {
        var status: Int32
        var standardOutput: String
        var standardError: String
    }

    struct Missing: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the example `name` with `arguments`, killing it (by its PID) if it outlives
    /// `timeout`. Its output goes to files, read once it has exited: no pipe to drain meanwhile.
    static func run(_ name: String, _ arguments: [String] = [], timeout: Duration = .seconds(120)) async throws -> Run {
        let executable = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
            .appendingPathComponent(name)
        guard FileManager.default.isExecutableFile(atPath: executable.path) else {
            throw Missing(description: "no example executable at \(executable.path): build it with `swift build --product \(name)`")
        }
        let directory = FileManager.default.temporaryDirectory
        let outputURL = directory.appendingPathComponent("\(name)-\(UUID().uuidString).out")
        let errorURL = directory.appendingPathComponent("\(name)-\(UUID().uuidString).err")
        defer {
            try? FileManager.default.removeItem(at: outputURL)
            try? FileManager.default.removeItem(at: errorURL)
        }
        guard FileManager.default.createFile(atPath: outputURL.path, contents: nil),
            FileManager.default.createFile(atPath: errorURL.path, contents: nil)
        else {
            throw Missing(description: "cannot create the output files in \(directory.path)")
        }
        let output = try FileHandle(forWritingTo: outputURL)
        let errors = try FileHandle(forWritingTo: errorURL)

        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardInput = FileHandle.nullDevice
        process.standardOutput = output
        process.standardError = errors
        let exited = AsyncStream.makeStream(of: Void.self)
        process.terminationHandler = { _ in exited.continuation.finish() }
        try process.run()
        try output.close()
        try errors.close()
        let pid = process.processIdentifier
        let watchdog = Task {
            try await Task.sleep(for: timeout)
            kill(pid, SIGKILL)
        }
        for await _ in exited.stream {}
        watchdog.cancel()
        return Run(
            status: process.terminationStatus,
            standardOutput: try String(contentsOf: outputURL, encoding: .utf8),
            standardError: try String(contentsOf: errorURL, encoding: .utf8))
    }
}
