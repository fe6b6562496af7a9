import Foundation

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive `flock(2)` on `<state file>-lock`, held while a crawl owns its state file, so a
/// second crawl on the same file is refused with a clear error instead of fighting over leases.
///
/// The kernel drops the lock when the holder's process dies however it dies (SIGKILL included),
/// so a stale lock file never blocks a resume. `flock` locks belong to an open file
/// description, so a second opener in the same process is refused too. The lock file itself
/// is left in place: deleting it would race with a process about to lock it.
final class StateFileLock: @unchecked Sendable {
    /// The path of the lock file.
    let path: String
    // Protected by `lock`.
    private var descriptor: Int32
    private let lock = NSLock()

    /// Takes the lock for `statePath`, or throws if another live crawl holds it.
    ///
    /// - Throws: ``FrontierError`` ``FrontierError/Code/stateInUse`` naming the holder's PID,
    ///   or ``FrontierError/Code/storageFailed`` when the lock file cannot be created.
    init(statePath: String) throws {
        path = statePath + "-lock"
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            throw FrontierError(.storageFailed, "cannot create the lock file \(path): \(String(cString: strerror(errno)))")
        }
        guard flock(descriptor, LOCK_EX | LOCK_NB) == 0 else {
            let reason = errno
            let holder = Self.readHolder(descriptor)
            close(descriptor)
            if reason == EWOULDBLOCK {
                let who = holder.map { "process \($0)" } ?? "another process"
                throw FrontierError(.stateInUse, "the crawl state \(statePath) is in use by \(who); wait for that crawl to finish or stop it, or use another --state file")
            }
            throw FrontierError(.storageFailed, "cannot lock \(path): \(String(cString: strerror(reason)))")
        }
        // Record our PID for the error message a second opener prints; best effort.
        let pid = "\(getpid())\n"
        _ = ftruncate(descriptor, 0)
        _ = pid.withCString { pwrite(descriptor, $0, strlen($0), 0) }
    }

    /// Releases the lock. Releasing twice does nothing.
    func release() {
        lock.lock()
        defer { lock.unlock() }
        guard descriptor >= 0 else { return }
        close(descriptor)
        descriptor = -1
    }

    deinit {
        if descriptor >= 0 { close(descriptor) }
    }

    private static func readHolder(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
