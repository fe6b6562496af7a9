#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Foundation

/// The pool's monitor: one thread that polls every worker's pidfd, so a worker that dies while
/// idle (the OOM killer, `kill -9`) is reaped and replaced at once instead of failing the next
/// task sent to it. Deaths of workers a driver holds are left to that driver, which sees its
/// pipe close.
extension ProcessPool {
    func startMonitor() {
        let reference = WeakPoolReference(self)
        let wake = monitorWake
        let thread = Thread { Self.runMonitor(reference, wake: wake) }
        thread.name = "spindle-procmon"
        thread.start()
    }

    private static func runMonitor(_ reference: WeakPoolReference, wake: WakePipe) {
        while true {
            // No strong reference is held while polling: the pool may go away meanwhile.
            guard let watched = reference.pool?.watchedWorkers() else { return }
            var fds = watched.map { pollfd(fd: $0.exitFD, events: Int16(POLLIN), revents: 0) }
            fds.append(pollfd(fd: wake.readFD, events: Int16(POLLIN), revents: 0))
            let rc = poll(&fds, nfds_t(fds.count), -1)
            if rc < 0 {
                if errno == EINTR { continue }
                return
            }
            if fds[fds.count - 1].revents != 0 { wake.drain() }
            let ended = zip(watched, fds).filter { $0.1.revents != 0 }.map(\.0)
            guard !ended.isEmpty, let pool = reference.pool else { continue }
            for worker in ended { pool.workerEnded(worker) }
        }
    }

    /// The workers to watch; nil once the pool has shut down.
    private func watchedWorkers() -> [WorkerProcess]? {
        state.withLockedValue { $0.watched }
    }

    /// Handles a worker the monitor saw end: replaces it if it was idle; otherwise marks it for
    /// the driver holding it.
    private func workerEnded(_ worker: WorkerProcess) {
        let wasIdle = state.withLockedValue { $0.workerEnded(worker) }
        guard wasIdle else { return }
        worker.close()
        _ = replacementAfter(worker, ending: worker.reap(), whileBusy: false)
    }

    /// Takes a reaped worker out of the pool, starts its replacement when one is due, and
    /// reports the replacement; returns true if a replacement joined the pool.
    func replacementAfter(_ worker: WorkerProcess, ending: WorkerProcess.Ending, whileBusy: Bool) -> Bool {
        let misconfigured = ending == .exited(WorkerProcess.notAWorkerStatus)
        let facts = ProcessPoolStateMachine<WorkerProcess>.Ending(
            whileBusy: whileBusy, tasksDone: worker.tasksDone, exitedByItself: ending.isExit, misconfigured: misconfigured)
        let startNow = state.withLockedValue {
            $0.replacementDue(for: worker, ending: facts, brokenError: Self.notAWorkerError(pid: worker.pid, executable: executableDescription))
        }
        let replacement = startNow ? try? WorkerProcess(executable: executable, arguments: configuration.workerArguments) : nil
        let added = replacement.map { replacement in state.withLockedValue { $0.replacementStarted(replacement) } } ?? false
        if !added { replacement?.close() }
        configuration.onWorkerReplaced?(WorkerReplacement(
            pid: worker.pid, ending: ending.description, whileBusy: whileBusy,
            replacementPID: added ? replacement?.pid : nil))
        return added
    }
}

/// Lets the monitor thread reach its pool without keeping it alive.
// Safe: `pool` is written only by `init`; Swift's weak references are read atomically.
private final class WeakPoolReference: @unchecked Sendable {
    weak var pool: ProcessPool?
    init(_ pool: ProcessPool) { self.pool = pool }
}

/// A non-blocking pipe whose readability wakes a thread blocked in `poll`.
final class WakePipe: Sendable {
    let readFD: Int32
    let writeFD: Int32

    init() throws {
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw SpindleError(.workerStartFailed, "cannot create the process pool's wake pipe: \(String(cString: strerror(errno)))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        (readFD, writeFD) = (fds[0], fds[1])
    }

    func wake() {
        var byte: UInt8 = 1
        _ = write(writeFD, &byte, 1)
    }

    func drain() {
        var buffer = [UInt8](repeating: 0, count: 64)
        while read(readFD, &buffer, buffer.count) > 0 {}
    }

    deinit {
        close(readFD)
        close(writeFD)
    }
}
