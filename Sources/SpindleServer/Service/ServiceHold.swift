import Foundation
import NIOConcurrencyHelpers

/// For tests: holds the service's slow work until the test opens it, so a test keeps requests
/// in flight for as long as it needs instead of hoping a delay is long enough on a busy machine.
///
/// With a hold, each read of `GET /` waits for ``open()`` after its delay, and
/// `GET /debug/hold` runs ``HoldJob`` on the CPU pool, which holds its worker (a process or a
/// thread) until ``gateFile`` exists; ``open()`` creates it. Pass one to
/// `buildApplication(configuration:logger:hold:onServerRunning:)` or
/// `WebService.start(_:logger:hold:)`.
final class ServiceHold: Sendable {
    /// The file whose existence releases ``HoldJob``s, in the temporary directory.
    let gateFile: String
    private let state = NIOLockedValueBox(State())

    private struct State {
        var isOpen = false
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    init() {
        gateFile = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-hold-\(UUID().uuidString)").path
    }

    deinit {
        try? FileManager.default.removeItem(atPath: gateFile)
    }

    /// Returns once the hold is open (at once if it is).
    func wait() async {
        await withCheckedContinuation { continuation in
            let isOpen = state.withLockedValue { state in
                if !state.isOpen { state.waiters.append(continuation) }
                return state.isOpen
            }
            if isOpen { continuation.resume() }
        }
    }

    /// Releases everything held now and everything that waits later.
    func open() {
        _ = FileManager.default.createFile(atPath: gateFile, contents: nil)
        let waiters = state.withLockedValue { state in
            state.isOpen = true
            defer { state.waiters = [] }
            return state.waiters
        }
        for waiter in waiters { waiter.resume() }
    }
}
