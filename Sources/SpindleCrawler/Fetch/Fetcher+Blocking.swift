import Foundation
import NIOConcurrencyHelpers

extension Fetcher {
    /// Fetches `url` and blocks the calling thread until the fetch is done: the spelling for
    /// the course's thread-based engines (one thread per URL, thread pools), where each worker
    /// is a plain thread.
    ///
    /// The fetch itself runs as a task on Swift's cooperative thread pool while this thread
    /// waits on a semaphore. **Never call it from a task, an actor, or any code already on the
    /// cooperative pool**: each such call takes one of the pool's few threads (one per core)
    /// away from the work it waits for, and enough of them deadlock the process. From async
    /// code, call ``fetch(_:)-(URL)``.
    ///
    /// - Throws: Everything ``fetch(_:)-(URL)`` throws.
    @available(*, noasync, message: "blocks the thread; from async code use fetch(_:)")
    public func fetchBlocking(_ url: URL) throws -> FetchedPage {
        let outcome = BlockingOutcome<FetchedPage>()
        Task.detached {
            do {
                outcome.finish(.success(try await self.fetch(url)))
            } catch {
                outcome.finish(.failure(error))
            }
        }
        return try outcome.wait().get()
    }
}

/// A result one thread waits for while a task produces it.
// Sendable: `result` is written once, before `ready` turns true, and read only after it has.
private final class BlockingOutcome<Value: Sendable>: @unchecked Sendable {
    private let ready = ConditionLock(value: false)
    private var result: Result<Value, any Error>?

    func finish(_ result: Result<Value, any Error>) {
        ready.lock()
        self.result = result
        ready.unlock(withValue: true)
    }

    func wait() -> Result<Value, any Error> {
        ready.lock(whenValue: true)
        defer { ready.unlock() }
        return result!
    }
}
