import Foundation
import Spindle
import SpindleServer

/// The jobs this executable's process-pool workers may run. Nothing else runs in a worker.
enum SpindleJobs {
    static let all: [any ProcessJob.Type] = WebServiceJobs.all + [NoopJob.self, PauseJob.self]
}

/// Returns its input: the smallest job, for measuring the pool's own cost per task.
enum NoopJob: ProcessJob {
    static let name = "spindle.noop"
    static func run(_ input: Int) throws -> Int { input }
}

/// Sleeps, then notes its run in a log file: the fault benchmarks' short job, so a job that
/// ran twice shows in the log.
enum PauseJob: ProcessJob {
    struct Input: Codable, Sendable {
        var id: Int
        var microseconds: UInt32
        var runLog: String
    }

    static let name = "spindle.pause"
    static func run(_ input: Input) throws -> Int {
        usleep(input.microseconds)
        let fd = open(input.runLog, O_WRONLY | O_APPEND | O_CREAT, 0o644)
        guard fd >= 0 else { throw SpindleError(.jobFailed, "cannot open \(input.runLog)") }
        defer { close(fd) }
        let line = Array("\(input.id)\n".utf8)
        _ = line.withUnsafeBytes { write(fd, $0.baseAddress!, $0.count) }
        return input.id
    }
}
