/// An error from one of Spindle's pools or primitives.
///
/// Match on ``code``; ``description`` says in words what happened and names the job, worker or
/// limit involved.
public struct SpindleError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure this is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }
        public var description: String { name }

        /// A wait ran past its timeout.
        public static let timeout = Code("timeout")
        /// The work was cancelled before it started.
        public static let cancelled = Code("cancelled")
        /// The pool was shut down: no new work is accepted.
        public static let shutDown = Code("shut down")
        /// A pool's initializer threw: the pool cannot run work.
        public static let brokenPool = Code("broken pool")
        /// A bounded queue is full and the call would not wait.
        public static let queueFull = Code("queue full")
        /// A queue is empty and the call would not wait.
        public static let queueEmpty = Code("queue empty")
        /// The queue was shut down.
        public static let queueShutDown = Code("queue shut down")
        /// `taskDone()` was called more times than items were put.
        public static let taskDoneOverflow = Code("task done overflow")
        /// A process-pool worker exited, crashed or was killed while it held the task.
        public static let workerDied = Code("worker died")
        /// A process-pool job threw; the description carries the job's error.
        public static let jobFailed = Code("job failed")
        /// No job is registered under that name in the worker.
        public static let unknownJob = Code("unknown job")
        /// The input or output of a job could not be encoded or decoded.
        public static let codingFailed = Code("coding failed")
        /// A process-pool worker could not be started.
        public static let workerStartFailed = Code("worker start failed")
    }

    /// What kind of failure this is.
    public let code: Code
    /// A sentence that says what happened.
    public let message: String

    /// Creates an error; `message` should name the job, worker or limit involved.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { message }
}
