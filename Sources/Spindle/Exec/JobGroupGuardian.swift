import Subprocess

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

#if canImport(System)
import System
#else
import SystemPackage
#endif

/// Kills the process groups of a batch's jobs if the process running the batch dies without
/// reaping them, even by SIGKILL, which no handler sees.
///
/// A small `sh` process, started once per batch, reads `+GROUP` when a job starts and `-GROUP`
/// when it has been reaped from a pipe whose only writer is this process. When this process
/// ends, however it ends, the kernel closes that pipe: the guardian reads the end of its input
/// and sends SIGKILL to every group still listed, the job and whatever it started.
///
/// The parent-death signal (`PR_SET_PDEATHSIG`) would do it per child, but it must be set in
/// the child between fork and exec: swift-subprocess spawns with `posix_spawn` on Linux and
/// offers no hook there, and a trampoline executable per job costs an exec per job.
final class JobGroupGuardian: Sendable {
    /// The guardian: builtins only, so a job costs it two short reads and no process.
    private static let script = """
        trap '' INT TERM HUP
        live=' '
        while read -r line; do
          case $line in
            +*) live="$live${line#+} " ;;
            -*) g=${line#-}
                case $live in *" $g "*) live="${live%% $g *} ${live#* $g }" ;; esac ;;
          esac
        done
        for g in $live; do kill -s KILL -- "-$g" 2>/dev/null; done
        """

    /// The write end of the guardian's standard input, or -1 when it could not be made.
    private let writeEnd: Int32
    private let guardian: Task<Void, Never>?

    /// Starts the guardian. If it cannot start, jobs still run, unguarded.
    init() {
        var ends: [Int32] = [-1, -1]
        // Close-on-exec, so no other child this process starts holds the pipe open (Glibc's
        // module does not export pipe2).
        guard pipe(&ends) == 0, fcntl(ends[0], F_SETFD, FD_CLOEXEC) == 0, fcntl(ends[1], F_SETFD, FD_CLOEXEC) == 0 else {
            for end in ends where end >= 0 { close(end) }
            writeEnd = -1
            guardian = nil
            return
        }
        writeEnd = ends[1]
        let readEnd = ends[0]
        guardian = Task {
            _ = try? await Subprocess.run(
                .path(FilePath("/bin/sh")),
                arguments: ["-c", Self.script],
                input: .fileDescriptor(FileDescriptor(rawValue: readEnd), closeAfterSpawningProcess: true),
                output: .discarded,
                error: .discarded
            )
        }
    }

    /// A job leads the process group `group` from now on.
    func started(group: pid_t) { send("+\(group)\n") }

    /// The job that led `group` has been reaped: its group is no longer this batch's to kill.
    func ended(group: pid_t) { send("-\(group)\n") }

    /// The batch is over, every job reaped: the guardian reads the end of its input, finds no
    /// group left, and exits.
    func finish() async {
        if writeEnd >= 0 { close(writeEnd) }
        await guardian?.value
    }

    /// One line in one `write`, which a pipe keeps whole (it is shorter than PIPE_BUF). A
    /// guardian that is gone makes it fail with EPIPE (SIGPIPE is ignored): nothing to do then.
    private func send(_ line: String) {
        guard writeEnd >= 0 else { return }
        var line = line
        line.withUTF8 { bytes in
            while write(writeEnd, bytes.baseAddress, bytes.count) < 0 && errno == EINTR {}
        }
    }
}
