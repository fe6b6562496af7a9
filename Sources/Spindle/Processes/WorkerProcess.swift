#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation
import NIOConcurrencyHelpers

/// One worker process of a ``ProcessPool``: the executable started in worker mode, with a pipe
/// to its standard input and one from its standard output.
// Safe: its mutable fields (the request in flight, `tasksDone`) are used only by the one driver
// thread that has the worker checked out; the pool hands a worker to one driver at a time.
final class WorkerProcess: @unchecked Sendable {
    /// Set in a worker's environment: the executable serves jobs instead of running its `main`.
    static let workerEnvironmentKey = "SPINDLE_PROCESS_WORKER"
    /// The parent's pid, so a worker notices its parent is gone.
    static let parentEnvironmentKey = "SPINDLE_PROCESS_PARENT"
    /// What workers are called in `ps`: their argv[0] and their thread name.
    static let processName = "spindle-worker"
    /// The status a worker exits with when its executable's `main` created a ``ProcessPool``
    /// without calling ``ProcessPool/runWorkerIfRequested(jobs:initializer:)`` first (EX_CONFIG).
    static let notAWorkerStatus: Int32 = 78

    let pid: pid_t
    let channel: FrameChannel
    /// Readable once the process has ended (a pidfd): how the pool notices a death at once.
    let exitFD: Int32
    /// Our copy of the read end of the worker's input: what the worker has not read yet stays
    /// countable after it dies, so a request it never took can be sent to another worker.
    private let requestProbeFD: Int32
    /// Bytes of the current request written to the worker's input.
    private var requestBytesSent = 0
    /// Tasks this worker has answered.
    var tasksDone = 0
    private var ending: Ending?

    /// How a worker process ended.
    enum Ending: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signaled(Int32)
        case unknown

        var description: String {
            switch self {
            case .exited(let status): "exited with status \(status)"
            case .signaled(let signal): "was killed by signal \(signal) (\(signalName(signal)))"
            case .unknown: "ended (status unavailable)"
            }
        }

        /// True when the worker ended by itself with a status: a replacement would most likely do the same.
        var isExit: Bool {
            if case .exited = self { return true }
            return false
        }
    }

    /// Starts `executable` in worker mode.
    init(executable: String, arguments: [String]) throws {
        // Pipes and spawn under one lock, so a worker started by another thread cannot
        // inherit this worker's pipe ends before they are marked close-on-exec.
        Self.spawnLock.lock()
        defer { Self.spawnLock.unlock() }
        guard let pidfdOpen = Self.pidfdOpen else {
            throw SpindleError(.workerStartFailed, "cannot start a worker: this system has no pidfd_open (Linux 5.3 and glibc 2.36 or later are needed)")
        }
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

        // The spawning thread may block signals (Dispatch's threads block most) or ignore some:
        // a worker starts with none blocked and every disposition at its default, so `kill`
        // stops it. Its own process group keeps a terminal's Ctrl-C for the parent, which
        // decides when workers stop (by closing their input).
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setpgroup(&attributes, 0)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP))

        var environment = ProcessInfo.processInfo.environment
        environment[Self.workerEnvironmentKey] = "1"
        environment[Self.parentEnvironmentKey] = String(getpid())
        let argv = [Self.processName] + arguments
        let envp = environment.map { "\($0.key)=\($0.value)" }

        var childPID: pid_t = 0
        let rc = withCStrings(argv) { argvPointers in
            withCStrings(envp) { envPointers in
                posix_spawn(&childPID, executable, &actions, &attributes, argvPointers, envPointers)
            }
        }
        Glibc.close(fromChild.write)
        guard rc == 0 else {
            Glibc.close(toChild.read)
            Glibc.close(toChild.write)
            Glibc.close(fromChild.read)
            throw SpindleError(.workerStartFailed, "cannot start worker '\(executable)': \(String(cString: strerror(rc)))")
        }
        let exitFD = pidfdOpen(childPID, 0)
        guard exitFD >= 0 else {
            let reason = String(cString: strerror(errno))
            _ = Glibc.kill(childPID, SIGKILL)
            var status: Int32 = 0
            while waitpid(childPID, &status, 0) < 0 && errno == EINTR {}
            Glibc.close(toChild.read)
            Glibc.close(toChild.write)
            Glibc.close(fromChild.read)
            throw SpindleError(.workerStartFailed, "cannot watch worker '\(executable)' (pidfd_open): \(reason)")
        }
        // Writes never block on a worker that stopped reading: a full pipe is waited on with poll.
        _ = fcntl(toChild.write, F_SETFL, fcntl(toChild.write, F_GETFL) | O_NONBLOCK)
        pid = childPID
        self.exitFD = exitFD
        requestProbeFD = toChild.read
        channel = FrameChannel(readFD: fromChild.read, writeFD: toChild.write)
    }

    deinit {
        // Closed last, not in close(): the pool's monitor may still be polling it.
        Glibc.close(exitFD)
    }

    private static let spawnLock = NIOLock()

    /// glibc's `pidfd_open`, looked up at run time: Swift's Glibc module does not export it.
    private static let pidfdOpen: (@convention(c) (pid_t, UInt32) -> Int32)? = {
        guard let symbol = dlsym(nil, "pidfd_open") else { return nil }
        return unsafeBitCast(symbol, to: (@convention(c) (pid_t, UInt32) -> Int32).self)
    }()

    private static func makePipe() throws -> (read: Int32, write: Int32) {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw SpindleError(.workerStartFailed, "cannot create a pipe for a worker: \(String(cString: strerror(errno)))")
        }
        _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
        return (fds[0], fds[1])
    }

    // MARK: - Requests

    /// Writes a request frame to the worker's input. Throws `.closed` if the worker ends
    /// first, `.timedOut` past `deadline`.
    func send(_ payload: [UInt8], until deadline: Deadline?) throws {
        let frame = try FrameChannel.frame(payload)
        requestBytesSent = 0
        try frame.withUnsafeBytes { raw in
            while requestBytesSent < raw.count {
                let n = Glibc.write(channel.writeFD, raw.baseAddress! + requestBytesSent, raw.count - requestBytesSent)
                if n >= 0 {
                    requestBytesSent += n
                    continue
                }
                if errno == EINTR { continue }
                guard errno == EAGAIN else { throw FrameChannel.Failure.system("write", errno) }
                try waitWritable(until: deadline)
            }
        }
    }

    private func waitWritable(until deadline: Deadline?) throws {
        var fds = [
            pollfd(fd: channel.writeFD, events: Int16(POLLOUT), revents: 0),
            pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let remaining = deadline.nanoseconds - Deadline.now().nanoseconds
                if remaining <= 0 { throw FrameChannel.Failure.timedOut }
                timeout = Int32(min(Int64(Int32.max), (remaining + 999_999) / 1_000_000))
            }
            let rc = poll(&fds, 2, timeout)
            if rc < 0 {
                if errno == EINTR { continue }
                throw FrameChannel.Failure.system("poll", errno)
            }
            if fds[1].revents != 0 { throw FrameChannel.Failure.closed }
            if fds[0].revents != 0 { return }
        }
    }

    /// True when the worker has read none of the request last sent: it never took the task.
    var requestUntaken: Bool {
        var unread: Int32 = 0
        guard ioctl(requestProbeFD, UInt(FIONREAD), &unread) == 0 else { return false }
        return Int(unread) == requestBytesSent
    }

    // MARK: - Ending

    /// Kills the worker at once (it hung past its timeout, or the pool is going away).
    func kill() {
        _ = Glibc.kill(pid, SIGKILL)
    }

    /// Ends a worker that failed mid-task and returns how it ended, and whether it had read
    /// none of its request. With `waitForExit` (its output closed: it is exiting) it gets up to
    /// `grace` to finish ending by itself; a worker still alive after that, or without
    /// `waitForExit`, is killed, unless it had already ended.
    func end(waitForExit: Bool, grace: Duration = .seconds(2)) -> (ending: Ending, requestUntaken: Bool) {
        if waitForExit { _ = waitForEnd(until: Deadline.after(grace)) }
        if !hasEnded {
            kill()
            _ = waitForEnd(until: nil)
        }
        // Counted once it is gone, so it cannot read on after the count.
        let untaken = requestUntaken
        close()
        return (ending ?? .unknown, untaken)
    }

    /// Waits until the process has ended or `deadline` passes; true if it ended.
    private func waitForEnd(until deadline: Deadline?) -> Bool {
        var pfd = pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)
        while true {
            var timeout: Int32 = -1
            if let deadline {
                let remaining = deadline.nanoseconds - Deadline.now().nanoseconds
                if remaining <= 0 { return false }
                timeout = Int32(min(Int64(Int32.max), (remaining + 999_999) / 1_000_000))
            }
            let rc = poll(&pfd, 1, timeout)
            if rc > 0 { return true }
            if rc < 0 && errno != EINTR { return false }
        }
    }

    /// True once the process has ended (it may not be reaped yet).
    var hasEnded: Bool {
        var pfd = pollfd(fd: exitFD, events: Int16(POLLIN), revents: 0)
        return poll(&pfd, 1, 0) > 0
    }

    /// Closes the pipes (the worker exits when its input closes) and waits for the process;
    /// returns how it ended, in words.
    @discardableResult
    func close(waitForExit: Bool = true) -> String {
        Glibc.close(channel.writeFD)
        Glibc.close(channel.readFD)
        Glibc.close(requestProbeFD)
        guard waitForExit else { return "closed" }
        return reap().description
    }

    /// Waits for the process to end (once) and returns how it did.
    @discardableResult
    func reap() -> Ending {
        if let ending { return ending }
        var status: Int32 = 0
        var rc: pid_t
        repeat { rc = waitpid(pid, &status, 0) } while rc < 0 && errno == EINTR
        let result: Ending
        if rc != pid {
            result = .unknown
        } else if status & 0x7f == 0 {
            result = .exited((status >> 8) & 0xff)
        } else {
            result = .signaled(status & 0x7f)
        }
        ending = result
        return result
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
