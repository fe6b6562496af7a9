#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import NIOConcurrencyHelpers

/// How a ``ProcessPool`` runs its workers.
public struct ProcessPoolConfiguration: Sendable {
    /// The number of worker processes; default: the number of cores.
    public var maxWorkers: Int
    /// Replace a worker after it ran this many tasks (a chunk counts as one); nil: never.
    public var maxTasksPerWorker: Int?
    /// A task (or a chunk, per item) running longer is failed with a timeout and its worker
    /// killed and replaced; nil: no limit.
    public var taskTimeout: Duration?
    /// The most tasks waiting for a worker; nil: no bound.
    public var queueCapacity: Int?
    /// The worker executable; nil: this executable, which must call
    /// ``ProcessPool/runWorkerIfRequested(jobs:initializer:)`` first thing in `main`.
    public var workerExecutable: String?
    /// Arguments for the worker executable.
    public var workerArguments: [String]
    /// Called (on a pool thread) each time a worker that died or timed out has been reaped and
    /// replaced: a way to watch restarts, and to know one has happened.
    public var onWorkerReplaced: (@Sendable (ProcessPool.WorkerReplacement) -> Void)?

    /// Creates a configuration; see the properties for what each value means.
    public init(
        maxWorkers: Int? = nil,
        maxTasksPerWorker: Int? = nil,
        taskTimeout: Duration? = nil,
        queueCapacity: Int? = nil,
        workerExecutable: String? = nil,
        workerArguments: [String] = [],
        onWorkerReplaced: (@Sendable (ProcessPool.WorkerReplacement) -> Void)? = nil
    ) {
        self.maxWorkers = maxWorkers ?? ProcessInfo.processInfo.activeProcessorCount
        self.maxTasksPerWorker = maxTasksPerWorker
        self.taskTimeout = taskTimeout
        self.queueCapacity = queueCapacity
        self.workerExecutable = workerExecutable
        self.workerArguments = workerArguments
        self.onWorkerReplaced = onWorkerReplaced
    }
}

/// A pool of worker processes for CPU-heavy work that should run in parallel and in isolation:
/// the counterpart of Python's `ProcessPoolExecutor`, without its `BrokenProcessPool`.
///
/// Workers are an executable (by default this one) started again in worker mode; they run only
/// registered ``ProcessJob``s, exchanging length-prefixed frames over pipes. A worker that exits,
/// crashes or is killed mid-task fails only the task it held (``SpindleError/Code/workerDied``),
/// and a replacement starts at once; a task over its timeout has its worker killed and replaced.
/// A worker that dies while idle is noticed at once (a pidfd), reaped and replaced, and a task
/// sent to a worker that died before reading it is sent to another: it never ran, so it does not
/// fail. Workers exit when the pool shuts down, and by themselves when the parent process dies.
// Safe: every stored property is immutable; the mutable bookkeeping is the state machine in
// `state`, behind its lock.
public final class ProcessPool: @unchecked Sendable {
    /// Counters for monitoring.
    public struct Statistics: Sendable {
        /// Tasks waiting for a worker.
        public var queued: Int
        /// Workers running a task now.
        public var busyWorkers: Int
        /// Worker processes alive now.
        public var liveWorkers: Int
        /// Workers replaced after they died or timed out (not counting recycling).
        public var workerRestarts: Int
        /// Tasks answered by a worker.
        public var tasksCompleted: Int
    }

    /// A worker that died or timed out, and the one that replaced it.
    public struct WorkerReplacement: Sendable {
        /// The worker that ended.
        public var pid: pid_t
        /// How it ended, in words ("was killed by signal 9 (SIGKILL)").
        public var ending: String
        /// True when a task was on its way to it or running on it; false when it died idle.
        public var whileBusy: Bool
        /// The replacement; nil when none was started (the pool is shutting down, or workers
        /// keep exiting by themselves: one starts when a task needs it).
        public var replacementPID: pid_t?
    }

    /// The configuration the pool was created with.
    public let configuration: ProcessPoolConfiguration
    let executable: String
    /// The worker executable for messages: this executable's path rather than /proc/self/exe.
    let executableDescription: String
    /// Runs one driver thread per worker; its bounded queue is the pool's queue.
    private let drivers: ThreadPoolExecutor
    /// The workers' bookkeeping, under the pool's one lock.
    let state: NIOLockedValueBox<ProcessPoolStateMachine<WorkerProcess>>
    /// Wakes the monitor thread when workers join the pool or the pool shuts down.
    let monitorWake: WakePipe

    /// A task is sent again at most this many times when its worker died before reading it.
    static let maxResends = 3

    /// Starts `configuration.maxWorkers` worker processes.
    /// - Throws: ``SpindleError/Code/workerStartFailed`` if a worker cannot be started.
    public init(configuration: ProcessPoolConfiguration = .init()) throws {
        Self.refuseInsideWorker()
        precondition(configuration.maxWorkers >= 1, "ProcessPool needs maxWorkers >= 1, got \(configuration.maxWorkers)")
        self.configuration = configuration
        executable = configuration.workerExecutable ?? "/proc/self/exe"
        executableDescription = configuration.workerExecutable
            ?? (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        guard access(executable, X_OK) == 0 else {
            throw SpindleError(.workerStartFailed, "the worker executable '\(executable)' does not exist or is not executable")
        }
        // Writing to a pipe nobody reads must be an error, not SIGPIPE. (The pool keeps the read
        // end of each worker's input, so a dead worker's input takes writes until it is full.)
        signal(SIGPIPE, SIG_IGN)
        monitorWake = try WakePipe()
        drivers = ThreadPoolExecutor(
            maxWorkers: configuration.maxWorkers, threadNamePrefix: "spindle-procpool",
            queueCapacity: configuration.queueCapacity)
        var workers: [WorkerProcess] = []
        do {
            for _ in 0..<configuration.maxWorkers {
                workers.append(try WorkerProcess(executable: executable, arguments: configuration.workerArguments))
            }
        } catch {
            for worker in workers { worker.close() }
            throw error
        }
        state = NIOLockedValueBox(ProcessPoolStateMachine(workers: workers, maxWorkers: configuration.maxWorkers))
        startMonitor()
    }

    /// The pids of the worker processes in the pool now (idle or running a task).
    public var workerPIDs: [pid_t] {
        state.withLockedValue { $0.idle.map(\.pid) + $0.busy.map(\.pid) }
    }

    /// Counters for monitoring.
    public var statistics: Statistics {
        let queued = drivers.pendingCount
        return state.withLockedValue {
            Statistics(
                queued: queued, busyWorkers: $0.busy.count, liveWorkers: $0.idle.count + $0.busy.count,
                workerRestarts: $0.restarts, tasksCompleted: $0.completed)
        }
    }

    // MARK: - Submitting

    /// Submits one run of `job` and returns its future; waits while the queue is full.
    /// - Throws: ``SpindleError/Code/shutDown`` after shutdown. Failures of the job itself
    ///   (its error, its worker dying, a timeout, an unknown job) fail the future instead.
    @available(*, noasync, renamed: "submit(_:_:)", message: "may block while the queue is full: use `try await pool.submit(...)`")
    public func submit<J: ProcessJob>(_ job: J.Type, _ input: J.Input) throws -> Future<J.Output> {
        let bytes = try encode([input], job: J.name)
        return try drivers.submit { try self.runOne(J.self, bytes) }
    }

    /// Submits one run of `job` and returns its future, suspending (not blocking a thread) while
    /// the queue is full. Throws as the blocking ``submit(_:_:)-(_,_)`` does.
    public func submit<J: ProcessJob>(_ job: J.Type, _ input: J.Input) async throws -> Future<J.Output> {
        let bytes = try encode([input], job: J.name)
        return try await drivers.submit { try self.runOne(J.self, bytes) }
    }

    /// Submits one run of `job` without waiting: throws ``SpindleError/Code/queueFull`` when
    /// the bounded queue is full.
    public func trySubmit<J: ProcessJob>(_ job: J.Type, _ input: J.Input) throws -> Future<J.Output> {
        let bytes = try encode([input], job: J.name)
        return try drivers.trySubmit { try self.runOne(J.self, bytes) }
    }

    /// Runs `job` on a worker and returns its output, suspending while the queue is full.
    /// Cancelling the task before the job starts cancels it.
    public func run<J: ProcessJob>(_ job: J.Type, _ input: J.Input) async throws -> J.Output {
        let bytes = try encode([input], job: J.name)
        return try await drivers.run { try self.runOne(J.self, bytes) }
    }

    /// Runs `job` over `inputs`, `chunkSize` items per message, and returns the results in input
    /// order as they become available (see ``FutureResults``). An item's error surfaces at its
    /// position; the other items of its chunk still succeed unless its worker died.
    @available(*, noasync, renamed: "map(_:_:chunkSize:timeout:)", message: "may block while the queue is full: use `try await pool.map(...)`")
    public func map<J: ProcessJob>(
        _ job: J.Type, _ inputs: [J.Input], chunkSize: Int = 1, timeout: Duration? = nil
    ) throws -> FutureResults<J.Output> {
        let deadline = Deadline.after(timeout)
        var chunks: [Future<[Result<J.Output, any Error>]>] = []
        do {
            for chunk in try encodeChunks(J.self, inputs, chunkSize: chunkSize) {
                chunks.append(try drivers.submit { try self.runChunk(J.self, chunk.bytes, count: chunk.count) })
            }
        } catch {
            for chunk in chunks { chunk.cancel() }
            throw error
        }
        return FutureResults(chunks: chunks, chunkSize: chunkSize, count: inputs.count, deadline: deadline)
    }

    /// Runs `job` over `inputs`, `chunkSize` items per message, as the blocking
    /// ``map(_:_:chunkSize:timeout:)-(_,_,_,_)`` does, but suspends (without blocking a thread)
    /// while the queue is full. Iterate the result with `for try await`.
    public func map<J: ProcessJob>(
        _ job: J.Type, _ inputs: [J.Input], chunkSize: Int = 1, timeout: Duration? = nil
    ) async throws -> FutureResults<J.Output> {
        let deadline = Deadline.after(timeout)
        var chunks: [Future<[Result<J.Output, any Error>]>] = []
        do {
            for chunk in try encodeChunks(J.self, inputs, chunkSize: chunkSize) {
                chunks.append(try await drivers.submit { try self.runChunk(J.self, chunk.bytes, count: chunk.count) })
            }
        } catch {
            for chunk in chunks { chunk.cancel() }
            throw error
        }
        return FutureResults(chunks: chunks, chunkSize: chunkSize, count: inputs.count, deadline: deadline)
    }

    /// `inputs` split into encoded chunks of at most `chunkSize` items.
    private func encodeChunks<J: ProcessJob>(
        _ job: J.Type, _ inputs: [J.Input], chunkSize: Int
    ) throws -> [(bytes: [UInt8], count: Int)] {
        precondition(chunkSize >= 1, "chunkSize must be at least 1, got \(chunkSize)")
        return try stride(from: 0, to: inputs.count, by: chunkSize).map { start in
            let range = start..<min(start + chunkSize, inputs.count)
            return (try encode(Array(inputs[range]), job: J.name), range.count)
        }
    }

    // MARK: - Shutting down

    /// Stops accepting work, then stops the workers once the queue is drained (or at once for
    /// work not started, with `cancelPending`). With `wait`, returns when every worker has exited.
    @available(*, noasync, renamed: "shutdownGracefully(cancelPending:)", message: "blocks: use `await pool.shutdownGracefully()` in async code")
    public func shutdown(wait: Bool = true, cancelPending: Bool = false) {
        drivers.shutdown(wait: wait, cancelPending: cancelPending)
        if wait { closeIdleWorkers() }
    }

    /// Shuts down without blocking the calling task's thread.
    public func shutdownGracefully(cancelPending: Bool = false) async {
        await drivers.shutdownGracefully(cancelPending: cancelPending)
        closeIdleWorkers()
    }

    deinit {
        // Without a shutdown the driver threads keep the pool alive; this only runs after one.
        closeIdleWorkers()
    }

    private func closeIdleWorkers() {
        let workers = state.withLockedValue { $0.shutdown() }
        monitorWake.wake()
        for worker in workers { worker.close() }
    }

    // MARK: - Running on a worker (on a driver thread)

    private func runOne<J: ProcessJob>(_ job: J.Type, _ input: [UInt8]) throws -> J.Output {
        try runChunk(job, input, count: 1)[0].get()
    }

    private func runChunk<J: ProcessJob>(_ job: J.Type, _ inputs: [UInt8], count: Int) throws -> [Result<J.Output, any Error>] {
        let taskID = state.withLockedValue { $0.takeTaskID() }
        let request = WorkerRequest(taskID: taskID, job: J.name, count: count, inputs: inputs).encoded()
        var resends = 0
        while true {
            let worker = try checkOut()
            let deadline = configuration.taskTimeout.map { Deadline.after($0 * count)! }
            let response: WorkerResponse
            do {
                try worker.send(request, until: deadline)
                guard let frame = try worker.channel.read(until: deadline) else { throw FrameChannel.Failure.closed }
                response = try WorkerResponse(decoding: frame)
                guard response.taskID == taskID, response.statuses.count == count else { throw MalformedFrame() }
            } catch {
                let failure = replace(worker, after: error, job: J.name)
                // A worker that died (or stalled) before reading the request never ran it: send
                // it to another. One that exited by itself would likely do so again: fail.
                if failure.untaken, !failure.exitedByItself, resends < Self.maxResends {
                    resends += 1
                    continue
                }
                throw failure.error
            }
            checkIn(worker)
            return decodeResults(J.self, response, pid: worker.pid)
        }
    }

    /// Matches a response's statuses with its outputs and messages, in order.
    private func decodeResults<J: ProcessJob>(_ job: J.Type, _ response: WorkerResponse, pid: pid_t) -> [Result<J.Output, any Error>] {
        var outputs: [J.Output] = []
        var outputError: (any Error)?
        if response.statuses.contains(JobStatus.ok.rawValue) {
            do {
                outputs = try WireCoding.decode([J.Output].self, from: response.outputs)
            } catch {
                outputError = SpindleError(.codingFailed, "cannot decode the output of job '\(J.name)' from worker \(pid): \(error)")
            }
        }
        var nextOutput = outputs.makeIterator()
        var nextMessage = response.messages.makeIterator()
        return response.statuses.map { status -> Result<J.Output, any Error> in
            if status == JobStatus.ok.rawValue {
                if let outputError { return .failure(outputError) }
                guard let output = nextOutput.next() else {
                    return .failure(SpindleError(.codingFailed, "worker \(pid) sent fewer outputs than results for job '\(J.name)'"))
                }
                return .success(output)
            }
            let text = nextMessage.next() ?? ""
            switch JobStatus(rawValue: status) {
            case .jobThrew:
                return .failure(SpindleError(.jobFailed, "job '\(J.name)' failed in worker \(pid): \(text)"))
            case .unknownJob:
                return .failure(SpindleError(.unknownJob, "no job named '\(J.name)' is registered in worker \(pid) (\(executableDescription))"))
            case .badInput, .badOutput:
                return .failure(SpindleError(.codingFailed, "job '\(J.name)' in worker \(pid): \(text)"))
            case .ok, nil:
                return .failure(SpindleError(.codingFailed, "job '\(J.name)': worker \(pid) sent an unknown status \(status)"))
            }
        }
    }

    private func checkOut() throws -> WorkerProcess {
        // There is one driver thread per worker, so a driver finds one idle unless a worker
        // was not replaced (it failed to start, or kept exiting as it started).
        switch state.withLockedValue({ $0.checkOut() }) {
        case .worker(let worker):
            return worker
        case .broken(let error):
            throw error
        case .startFresh:
            let fresh = try WorkerProcess(executable: executable, arguments: configuration.workerArguments)
            state.withLockedValue { $0.checkedOut(fresh: fresh) }
            monitorWake.wake()
            return fresh
        }
    }

    private func checkIn(_ worker: WorkerProcess) {
        worker.tasksDone += 1
        if let limit = configuration.maxTasksPerWorker, worker.tasksDone >= limit {
            worker.close()
            let fresh = try? WorkerProcess(executable: executable, arguments: configuration.workerArguments)
            let kept = state.withLockedValue { $0.recycled(worker, fresh: fresh) }
            if kept { monitorWake.wake() } else { fresh?.close() }
            return
        }
        switch state.withLockedValue({ $0.checkIn(worker) }) {
        case .idle: break
        case .close: worker.close()
        case .replace: _ = replace(worker, after: FrameChannel.Failure.closed, job: nil)
        }
    }

    /// What became of a task whose worker failed.
    struct WorkerFailure {
        /// The task's error, if it is not sent again.
        var error: SpindleError
        /// The worker never read the task's request.
        var untaken: Bool
        /// The worker exited with a status of its own (not by a signal).
        var exitedByItself: Bool
    }

    /// Ends a worker that failed mid-task (or died after answering, `job` nil), starts its
    /// replacement, and returns what the task it held should see.
    private func replace(_ worker: WorkerProcess, after failure: any Error, job: String?) -> WorkerFailure {
        let timedOut: Bool
        let closed: Bool
        switch failure {
        case FrameChannel.Failure.timedOut: (timedOut, closed) = (true, false)
        case FrameChannel.Failure.closed: (timedOut, closed) = (false, true)
        default: (timedOut, closed) = (false, false)
        }
        // A timed-out or misbehaving worker is killed; one whose output closed is ending by itself.
        let (ending, untaken) = worker.end(waitForExit: closed)
        let task = job.map { "job '\($0)'" } ?? "a task"
        let error: SpindleError
        if ending == .exited(WorkerProcess.notAWorkerStatus) {
            error = Self.notAWorkerError(pid: worker.pid, executable: executableDescription)
        } else if timedOut {
            error = SpindleError(.timeout, "\(task) ran past its timeout of \(configuration.taskTimeout!) in worker \(worker.pid), which was killed and replaced")
        } else if closed {
            error = SpindleError(.workerDied, "worker \(worker.pid) \(ending) while running \(task); it was replaced")
        } else {
            error = SpindleError(.workerDied, "worker \(worker.pid) sent \(Self.describe(failure)) for \(task); it was killed and replaced")
        }
        let replacement = replacementAfter(worker, ending: ending, whileBusy: true)
        if replacement { monitorWake.wake() }
        return WorkerFailure(error: error, untaken: untaken, exitedByItself: ending.isExit)
    }

    /// What a worker did wrong, for a task's error: the pool killed it for this.
    private static func describe(_ failure: any Error) -> String {
        switch failure {
        case FrameChannel.Failure.tooLarge(let length): "a frame of \(length) bytes, over the limit of \(FrameChannel.maxFrameSize)"
        case FrameChannel.Failure.system(let call, let code): "nothing readable (\(call): \(String(cString: strerror(code))))"
        default: "a malformed response frame"
        }
    }

    private func encode<T: Encodable>(_ input: T, job: String) throws -> [UInt8] {
        do {
            return try WireCoding.encode(input)
        } catch {
            throw SpindleError(.codingFailed, "cannot encode the input of job '\(job)': \(error)")
        }
    }
}

/// Creates a ``ProcessPool``, runs `body` with it, and always shuts it down — also when `body` throws.
public func withProcessPool<R>(
    configuration: ProcessPoolConfiguration = .init(),
    _ body: (ProcessPool) async throws -> R
) async throws -> R {
    let pool = try ProcessPool(configuration: configuration)
    do {
        let result = try await body(pool)
        await pool.shutdownGracefully()
        return result
    } catch {
        await pool.shutdownGracefully(cancelPending: true)
        throw error
    }
}
