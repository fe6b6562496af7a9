#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

extension ProcessPool {
    /// Turns this process into a pool worker if it was started as one, and never returns then;
    /// otherwise returns at once. Call it first thing in `main`: it is the counterpart of
    /// Python's `if __name__ == "__main__":` guard.
    ///
    /// - Parameters:
    ///   - jobs: the only jobs this worker will run.
    ///   - initializer: runs once when the worker starts; if it throws, the worker exits with
    ///     status 3 and its task fails with ``SpindleError/Code/workerDied``.
    public static func runWorkerIfRequested(
        jobs: [any ProcessJob.Type],
        initializer: (@Sendable () throws -> Void)? = nil
    ) {
        let environment = ProcessInfo.processInfo.environment
        guard environment[WorkerProcess.workerEnvironmentKey] == "1" else { return }
        let parent = environment[WorkerProcess.parentEnvironmentKey].flatMap { pid_t($0) }
        // A pool a job creates is a pool of its own, not a sign of a missing call (see below).
        unsetenv(WorkerProcess.workerEnvironmentKey)
        runWorker(jobs: jobs, initializer: initializer, parent: parent)
    }

    /// Stops a process started as a worker that is creating a pool instead of serving jobs:
    /// its `main` does not call ``runWorkerIfRequested(jobs:initializer:)`` first, so every
    /// worker would run `main` and start workers of its own. The parent sees the exit status
    /// and fails its tasks with ``notAWorkerError(pid:executable:)``.
    static func refuseInsideWorker() {
        guard let flag = getenv(WorkerProcess.workerEnvironmentKey), String(cString: flag) == "1" else { return }
        let message = "spindle: this process was started as a ProcessPool worker but is creating a ProcessPool: "
            + "call ProcessPool.runWorkerIfRequested(jobs:) first thing in main (process \(getpid()) stops here)\n"
        FileHandle.standardError.write(Data(message.utf8))
        exit(WorkerProcess.notAWorkerStatus)
    }

    /// The error of every task of a pool whose worker executable does not serve jobs.
    static func notAWorkerError(pid: pid_t, executable: String) -> SpindleError {
        SpindleError(
            .workerStartFailed,
            "worker \(pid) ('\(executable)') ran its main and created a ProcessPool instead of serving jobs: "
                + "call ProcessPool.runWorkerIfRequested(jobs:) first thing in main")
    }

    private static func runWorker(
        jobs: [any ProcessJob.Type],
        initializer: (@Sendable () throws -> Void)?,
        parent: pid_t?
    ) -> Never {
        // Workers run in a process group of their own, so a terminal's Ctrl-C reaches only the
        // parent, which decides when they stop; a signal sent to a worker itself ends it.
        signal(SIGPIPE, SIG_IGN)
        Thread.current.name = WorkerProcess.processName
        // Frames go to a private copy of stdout; anything a job prints goes to stderr.
        let framesOut = dup(1)
        dup2(2, 1)
        if let parent { watchParent(parent) }

        if let initializer {
            do {
                try initializer()
            } catch {
                FileHandle.standardError.write(Data("spindle worker \(getpid()): initializer failed: \(error)\n".utf8))
                exit(3)
            }
        }
        var registry: [String: any ProcessJob.Type] = [:]
        for job in jobs { registry[job.name] = job }

        let channel = FrameChannel(readFD: 0, writeFD: framesOut)
        while true {
            let frame: [UInt8]?
            do { frame = try channel.read() } catch { exit(2) }
            guard let frame else { exit(0) }  // the pool closed our input: shut down
            guard let request = try? WorkerRequest(decoding: frame) else { exit(2) }
            var response: WorkerResponse
            if let job = registry[request.job] {
                response = job.runChunk(request.inputs, count: request.count)
            } else {
                response = WorkerResponse(
                    taskID: 0, statuses: Array(repeating: JobStatus.unknownJob.rawValue, count: request.count),
                    outputs: [], messages: Array(repeating: "unknown job '\(request.job)'", count: request.count))
            }
            response.taskID = request.taskID
            do {
                try channel.write(response.encoded())
            } catch {
                exit(0)  // the parent is gone
            }
        }
    }

    /// Exits when the parent process is gone, even in the middle of a long job.
    private static func watchParent(_ parent: pid_t) {
        if getppid() != parent { exit(0) }
        let thread = Thread {
            while true {
                usleep(200_000)
                if getppid() != parent { _exit(0) }
            }
        }
        thread.start()
    }
}
