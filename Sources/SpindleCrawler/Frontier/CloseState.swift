import Foundation
import NIOConcurrencyHelpers

/// Whether a frontier was closed, shared by its calls.
package final class CloseState: @unchecked Sendable {
    // Protected by `lock`.
    private var isClosed = false
    private let lock = NIOLock()

    package init() {}

    /// Marks the frontier closed; returns false if it already was.
    package func markClosed() -> Bool {
        lock.lock()
        defer { lock.unlock() }
        defer { isClosed = true }
        return !isClosed
    }

    /// Throws ``FrontierError/Code/closed`` once the frontier was closed; `path` names it.
    package func checkOpen(_ path: String) throws {
        lock.lock()
        defer { lock.unlock() }
        if isClosed { throw FrontierError(.closed, "the frontier of \(path) was closed") }
    }
}
