import Foundation

/// Runs blocking code on a thread of its own and awaits its result, so tests written as async
/// functions can exercise the blocking APIs without blocking the cooperative pool.
func onThread<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
    try await withCheckedThrowingContinuation { continuation in
        Thread.detachNewThread {
            continuation.resume(with: Result { try body() })
        }
    }
}
