import Foundation

/// Runs the Python programs the benchmarks compare against (`bench/python/*.py`), installing the
/// pip packages they need where missing. Each script prints one JSON object on its last line.
enum PythonPeer {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// The repository's `bench/python` folder: found from the executable's location (it lives in
    /// `.build/<config>/`) or the current directory, or named by `SPINDLE_ROOT`.
    static func scriptsDirectory() throws -> URL {
        var candidates: [URL] = []
        if let root = ProcessInfo.processInfo.environment["SPINDLE_ROOT"] {
            candidates.append(URL(fileURLWithPath: root))
        }
        var dir = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath().deletingLastPathComponent()
        for _ in 0..<6 {
            candidates.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        dir = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
        for _ in 0..<4 {
            candidates.append(dir)
            dir = dir.deletingLastPathComponent()
        }
        for c in candidates {
            let scripts = c.appendingPathComponent("bench/python")
            if FileManager.default.fileExists(atPath: scripts.appendingPathComponent("executors.py").path) {
                return scripts
            }
        }
        throw Failure(description: "cannot find bench/python/ (run from the Spindle checkout, or set SPINDLE_ROOT to it)")
    }

    /// Makes sure `modules` import in python3, installing `packages` with pip when they do not.
    static func ensure(modules: [String], packages: [String]) throws {
        guard !modules.isEmpty else { return }
        let check = modules.map { "import \($0)" }.joined(separator: "; ")
        if (try? run(["python3", "-c", check])) != nil { return }
        _ = try run(["python3", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"] + packages)
    }

    /// Runs `bench/python/<script>` with `arguments` and decodes the JSON object on its last line.
    static func run(script: String, arguments: [String] = [], modules: [String] = [], packages: [String] = []) throws -> [String: Any] {
        try ensure(modules: modules, packages: packages)
        let path = try scriptsDirectory().appendingPathComponent(script).path
        let output = try run(["python3", path] + arguments)
        guard let last = output.split(separator: "\n").last,
            let object = try JSONSerialization.jsonObject(with: Data(last.utf8)) as? [String: Any]
        else {
            throw Failure(description: "\(script) printed no JSON object: \(output.suffix(500))")
        }
        return object
    }

    /// Runs a command to completion and returns its standard output; a non-zero exit is an error
    /// carrying the end of its standard error.
    @discardableResult
    static func run(_ argv: [String]) throws -> String {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = argv
        let out = Pipe()
        let err = Pipe()
        process.standardOutput = out
        process.standardError = err
        try process.run()
        let errData = ReadInBackground(err.fileHandleForReading)
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        let errText = String(decoding: errData.finish(), as: UTF8.self)
        guard process.terminationStatus == 0 else {
            throw Failure(description: "\(argv.joined(separator: " ")) exited with \(process.terminationStatus): \(errText.suffix(800))")
        }
        return String(decoding: data, as: UTF8.self)
    }
}

/// Drains a pipe on a background thread so a chatty child cannot block on a full pipe.
// Sendable: `data` is written by the reader thread before `done.signal()` and read only after `done.wait()`.
final class ReadInBackground: @unchecked Sendable {
    private var data = Data()
    private let done = DispatchSemaphore(value: 0)

    init(_ handle: FileHandle) {
        Thread.detachNewThread { [self] in
            data = handle.readDataToEndOfFile()
            done.signal()
        }
    }

    func finish() -> Data {
        done.wait()
        return data
    }
}
