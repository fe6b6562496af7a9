import Spindle
import SpindleServer

/// The jobs this executable's process-pool workers may run. Nothing else runs in a worker.
enum SpindleJobs {
    static let all: [any ProcessJob.Type] = WebServiceJobs.all + [NoopJob.self]
}

/// Returns its input: the smallest job, for measuring the pool's own cost per task.
enum NoopJob: ProcessJob {
    static let name = "spindle.noop"
    static func run(_ input: Int) throws -> Int { input }
}
