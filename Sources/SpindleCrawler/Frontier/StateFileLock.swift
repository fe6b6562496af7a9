import Foundation
import NIOConcurrencyHelpers

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An exclusive lock on `<state file>-lock`, held while a crawl owns its state file, so a
/// second crawl on the same file is refused with a clear error instead of fighting over leases.
///
/// A POSIX record lock (`fcntl(F_SETLK)`): the kernel drops it when the holder's process dies
/// however it dies (SIGKILL included), so a stale lock file never blocks a resume, and, unlike
/// `flock`, a child being forked at that moment does not share it (an `flock` stays held until
/// such a child execs, so a close-then-reopen could be refused). Record locks do not conflict
/// inside one process, so openers in this process are refused through a registry of held paths.
/// The lock file itself is left in place: deleting it would race with a process about to lock it.
final class StateFileLock: @unchecked Sendable {
    /// The path of the lock file.
    let path: String
    /// `path` resolved: the key in `heldHere`.
    private let key: String
    /// Lock files this process holds.
    private static let heldHere = NIOLockedValueBox<Set<String>>([])
    // Protected by `lock`.
    private var descriptor: Int32
    private let lock = NIOLock()

    /// Takes the lock for `statePath`, or throws if another live crawl holds it.
    ///
    /// - Throws: ``FrontierError`` ``FrontierError/Code/stateInUse`` naming the holder's PID,
    ///   or ``FrontierError/Code/storageFailed`` when the lock file cannot be created.
    init(statePath: String) throws {
        path = statePath + "-lock"
        let key = URL(fileURLWithPath: path).standardizedFileURL.resolvingSymlinksInPath().path
        self.key = key
        func inUse(by holder: Int32?) -> FrontierError {
            let who = holder.map { "process \($0)" } ?? "another process"
            return FrontierError(.stateInUse, "the crawl state \(statePath) is in use by \(who); wait for that crawl to finish or stop it, or use another --state file")
        }
        // Checked before opening: closing any descriptor of the file would drop our own lock.
        guard Self.heldHere.withLockedValue({ $0.insert(key).inserted }) else { throw inUse(by: getpid()) }
        descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            let reason = errno
            Self.heldHere.withLockedValue { _ = $0.remove(key) }
            throw FrontierError(.storageFailed, "cannot create the lock file \(path): \(String(cString: strerror(reason)))")
        }
        var request = flock()
        request.l_type = Int16(F_WRLCK)
        request.l_whence = Int16(SEEK_SET)
        guard fcntl(descriptor, F_SETLK, &request) == 0 else {
            let reason = errno
            let holder = Self.readHolder(descriptor)
            close(descriptor)
            Self.heldHere.withLockedValue { _ = $0.remove(key) }
            if reason == EAGAIN || reason == EACCES { throw inUse(by: holder) }
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
        Self.heldHere.withLockedValue { _ = $0.remove(key) }
    }

    deinit {
        release()
    }

    private static func readHolder(_ descriptor: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let count = buffer.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines))
    }
}
