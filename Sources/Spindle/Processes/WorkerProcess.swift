#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// One worker process of a ``ProcessPool``: the executable started in worker mode, with a pipe
/// to its standard input and one from its standard output.
final class WorkerProcess: @unchecked Sendable {
    /// Set in a worker's environment: the executable serves jobs instead of running its `main`.
    static let workerEnvironmentKey = "SPINDLE_PROCESS_WORKER"
    /// The parent's pid, so a worker notices its parent is gone.
    static let parentEnvironmentKey = "SPINDLE_PROCESS_PARENT"

    let pid: pid_t
    let channel: FrameChannel
    /// Tasks this worker has answered.
    var tasksDone = 0
    private var reaped = false

    /// Starts `executable` in worker mode.
    init(executable: String, arguments: [String]) throws {
        // Pipes and spawn under one lock, so a worker started by another thread cannot
        // inherit this worker's pipe ends before they are marked close-on-exec.
        Self.spawnLock.lock()
        defer { Self.spawnLock.unlock() }
        let toChild = try Self.makePipe()
        let fromChild: (read: Int32, write: Int32)
        do {
            fromChild = try Self.makePipe()
        } catch {
            Glibc.close(toChild.read)
            Glibc.close(toChild.write)
            throw error
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, toChild.read, 0)
        posix_spawn_file_actions_adddup2(&actions, fromChild.write, 1)

        var environment = ProcessInfo.processInfo.environment
        environment[Self.workerEnvironmentKey] = "1"
        environment[Self.parentEnvironmentKey] = String(getpid())
        let argv = [executable] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }

        var childPID: pid_t = 0
        let rc = withCStrings(argv) { argvPointers in
            withCStrings(envp) { envPointers in
                posix_spawn(&childPID, executable, &actions, nil, argvPointers, envPointers)
            }
        }
        Glibc.close(toChild.read)
        Glibc.close(fromChild.write)
        guard rc == 0 else {
            Glibc.close(toChild.write)
            Glibc.close(fromChild.read)
            throw SpindleError(.workerStartFailed, "cannot start worker '\(executable)': \(String(cString: strerror(rc)))")
        }
        pid = childPID
        channel = FrameChannel(readFD: fromChild.read, writeFD: toChild.write)
    }

    private static let spawnLock = ConditionLock()

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw SpindleError(.workerStartFailed, "cannot create a pipe for a worker: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    /// Kills the worker at once (it hung past its timeout, or the pool is going away).
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Closes the pipes (the worker exits when its input closes) and waits for the process;
    /// returns how it ended, in words.
    @discardableResult
    func close(waitForExit: Bool = true) -> String {
        Glibc.close(channel.writeFD)
        Glibc.close(channel.readFD)
        guard waitForExit, !reaped else { return "closed" }
        return reap()
    }

    /// Waits for the process to end and describes how it did.
    func reap() -> String {
        var status: Int32 = 0
        var rc: pid_t
        repeat { rc = waitpid(pid, &status, 0) } while rc < 0 && errno == EINTR
        reaped = true
        guard rc == pid else { return "ended (status unavailable)" }
        let signal = status & 0x7f
        if signal == 0 { return "exited with status \((status >> 8) & 0xff)" }
        return "was killed by signal \(signal) (\(signalName(signal)))"
    }
}

func signalName(_ signal: Int32) -> String {
    switch signal {
    case SIGKILL: "SIGKILL"
    case SIGTERM: "SIGTERM"
    case SIGSEGV: "SIGSEGV"
    case SIGABRT: "SIGABRT"
    case SIGILL: "SIGILL"
    case SIGTRAP: "SIGTRAP"
    case SIGBUS: "SIGBUS"
    case SIGINT: "SIGINT"
    case SIGFPE: "SIGFPE"
    default: "signal \(signal)"
    }
}

/// Calls `body` with a NULL-terminated C array of the strings.
func withCStrings<R>(_ strings: [String], _ body: ([UnsafeMutablePointer<CChar>?]) -> R) -> R {
    let pointers = strings.map { strdup($0) }
    defer { pointers.forEach { free($0) } }
    return body(pointers + [nil])
}
