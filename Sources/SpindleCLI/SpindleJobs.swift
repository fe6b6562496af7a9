import Spindle

/// The jobs this executable's process-pool workers may run. Nothing else runs in a worker.
enum SpindleJobs {
    static let all: [any ProcessJob.Type] = []
}
