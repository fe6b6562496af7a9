import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sends signals to the process group of one running job, and never after the job has been
/// reaped: once ``finish()`` has run, the group ID may belong to someone else, so every signal
/// is sent under the same lock that `finish()` takes.
///
/// A timeout or a cancellation calls ``terminate()`` (SIGTERM to the whole group), then
/// ``kill()`` after the grace period (SIGKILL). `finish()` also sends SIGKILL to a group that
/// was told to terminate, so a grandchild that ignored SIGTERM does not outlive its job.
final class ProcessGroupSignaller: Sendable {
    private enum State {
        /// The process is not started yet; `terminate()` was called before it was.
        case notStarted(terminateRequested: Bool)
        /// The process runs as the leader of group `groupID`.
        case running(groupID: pid_t, terminated: Bool)
        /// The process has exited and is about to be reaped: no more signals.
        case finished
    }

    /// Protected by its own lock.
    private let state = NIOLockedValueBox(State.notStarted(terminateRequested: false))

    init() {}

    /// Records the group of the started process. Returns `true` when a termination was
    /// requested before it started, in which case SIGTERM has just been sent.
    @discardableResult
    func attach(groupID: pid_t) -> Bool {
        state.withLockedValue { state in
            guard case .notStarted(let requested) = state else { return false }
            state = .running(groupID: groupID, terminated: requested)
            if requested { signalGroup(groupID, SIGTERM) }
            return requested
        }
    }

    /// Whether SIGTERM was sent (or requested before the start).
    var wasTerminated: Bool {
        state.withLockedValue { state in
            switch state {
            case .notStarted(let requested): return requested
            case .running(_, let terminated): return terminated
            case .finished: return false
            }
        }
    }

    /// Sends SIGTERM to the group (or asks for it at start).
    func terminate() {
        state.withLockedValue { state in
            switch state {
            case .notStarted:
                state = .notStarted(terminateRequested: true)
            case .running(let groupID, _):
                state = .running(groupID: groupID, terminated: true)
                signalGroup(groupID, SIGTERM)
            case .finished:
                break
            }
        }
    }

    /// Sends SIGKILL to the group, if it still runs.
    func kill() {
        state.withLockedValue { state in
            if case .running(let groupID, _) = state {
                signalGroup(groupID, SIGKILL)
            }
        }
    }

    /// The job's process has exited: kill what is left of a terminated group, then stop
    /// signalling for good. Returns the group the process led, if it was started.
    @discardableResult
    func finish() -> pid_t? {
        state.withLockedValue { state in
            var group: pid_t?
            if case .running(let groupID, let terminated) = state {
                group = groupID
                if terminated { signalGroup(groupID, SIGKILL) }
            }
            state = .finished
            return group
        }
    }
}

/// Sends `signal` to every process of the group (`kill(-groupID, signal)`). A group that is
/// already gone (ESRCH) is not an error: that is the outcome wanted.
private func signalGroup(_ groupID: pid_t, _ signal: Int32) {
    #if canImport(Glibc)
    _ = Glibc.kill(-groupID, signal)
    #else
    _ = Darwin.kill(-groupID, signal)
    #endif
}
