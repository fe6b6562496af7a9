import NIOConcurrencyHelpers

extension ThreadPoolExecutor {
    /// Runs `transform` over `items` on the pool and returns the results in input order, as they
    /// become available: the counterpart of Python's `executor.map`.
    ///
    /// Every item is submitted at once (waiting while a bounded queue is full). Iterate the
    /// result with `for try await` from a task, or with ``FutureResults/next()`` from a thread.
    /// An error surfaces at its item's position; after an error or a timeout the items not yet
    /// started are cancelled.
    ///
    /// - Parameter timeout: counted from this call for the whole iteration, as in Python.
    @available(*, noasync, renamed: "map(_:timeout:_:)", message: "submitting may block while the queue is full: use `try await pool.map(...)`")
    public func map<S: Sequence, T: Sendable>(
        _ items: S,
        timeout: Duration? = nil,
        _ transform: @escaping @Sendable (S.Element) throws -> T
    ) throws -> FutureResults<T> where S.Element: Sendable {
        let deadline = Deadline.after(timeout)
        var futures: [Future<T>] = []
        futures.reserveCapacity(items.underestimatedCount)
        do {
            for item in items {
                futures.append(try submit { try transform(item) })
            }
        } catch {
            for future in futures { future.cancel() }
            throw error
        }
        return FutureResults(futures, deadline: deadline, timeout: timeout)
    }

    /// Runs `transform` over `items` on the pool, as the blocking ``map(_:timeout:_:)-(_,_,_)``
    /// does, but suspends (without blocking a thread) while a bounded queue is full. Iterate the
    /// result with `for try await`.
    public func map<S: Sequence, T: Sendable>(
        _ items: S,
        timeout: Duration? = nil,
        _ transform: @escaping @Sendable (S.Element) throws -> T
    ) async throws -> FutureResults<T> where S.Element: Sendable {
        let deadline = Deadline.after(timeout)
        var futures: [Future<T>] = []
        futures.reserveCapacity(items.underestimatedCount)
        do {
            for item in items {
                futures.append(try await submit { try transform(item) })
            }
        } catch {
            for future in futures { future.cancel() }
            throw error
        }
        return FutureResults(futures, deadline: deadline, timeout: timeout)
    }
}

/// The results of futures in their order, as they become available: what
/// ``ThreadPoolExecutor/map(_:timeout:_:)`` and ``ProcessPool/map(_:_:chunkSize:timeout:)`` return.
///
/// Iterate with `for try await value in results` from a task; from a thread, call ``next()`` or
/// ``collect()`` (which block), or iterate ``outcomes`` with `for` (a `Sequence` cannot throw an
/// item's error, so it yields `Result`s). It is single-pass.
// Safe: `position`, the only mutable field, is read and written only under `lock`.
public final class FutureResults<T: Sendable>: AsyncSequence, @unchecked Sendable {
    public typealias Element = T

    /// Where the results come from: a future per item, or a future per chunk of items (so a
    /// chunked map costs one future per message, not one per item).
    enum Source {
        case items([Future<T>])
        case chunks([Future<[Result<T, any Error>]>], chunkSize: Int, count: Int)
    }

    let source: Source
    private let deadline: Deadline?
    private let lock = NIOLock()
    private var position = 0  // protected by lock

    init(_ futures: [Future<T>], deadline: Deadline?, timeout: Duration?) {
        self.source = .items(futures)
        self.deadline = deadline
    }

    init(chunks: [Future<[Result<T, any Error>]>], chunkSize: Int, count: Int, deadline: Deadline?) {
        self.source = .chunks(chunks, chunkSize: chunkSize, count: count)
        self.deadline = deadline
    }

    /// How many results there are.
    public var count: Int {
        switch source {
        case .items(let futures): futures.count
        case .chunks(_, _, let count): count
        }
    }

    /// The next result in input order, blocking until it is ready; nil after the last.
    /// Throws the item's error, or ``SpindleError/Code/timeout`` once the timeout has passed.
    @available(*, noasync, message: "blocks a thread: iterate with `for try await` in async code")
    public func next() throws -> T? {
        try nextBlocking()
    }

    private func nextBlocking() throws -> T? {
        guard let index = take() else { return nil }
        do {
            switch source {
            case .items(let futures):
                return try futures[index].result(timeout: deadline?.remaining ?? nil)
            case .chunks(let chunks, let size, _):
                return try chunks[index / size].result(timeout: deadline?.remaining ?? nil)[index % size].get()
            }
        } catch {
            cancelRest()
            throw error
        }
    }

    /// The results in order as a `Sequence` for a `for` loop on a thread: each step blocks until
    /// its item is ready. After a failure (or the timeout) the iteration ends, as Python's map
    /// stops at the first error, and the items not started are cancelled.
    public var outcomes: Outcomes { Outcomes(results: self) }

    /// The `Sequence` of ``outcomes``.
    public struct Outcomes: Sequence, IteratorProtocol, Sendable {
        let results: FutureResults<T>

        public mutating func next() -> Result<T, any Error>? {
            do {
                return try results.nextBlocking().map { .success($0) }
            } catch {
                return .failure(error)
            }
        }
    }

    /// Every result in order, waiting without blocking a thread.
    public func collect() async throws -> [T] {
        var values: [T] = []
        values.reserveCapacity(count)
        for try await value in self { values.append(value) }
        return values
    }

    /// Every result in order, blocking until all are ready.
    @available(*, noasync, renamed: "collect()", message: "blocks a thread: use `try await results.collect()` in async code")
    public func collect() throws -> [T] {
        var values: [T] = []
        values.reserveCapacity(count)
        guard case .chunks(let chunks, let size, let total) = source else {
            while let value = try nextBlocking() { values.append(value) }
            return values
        }
        // A chunk at a time: one wait per chunk, not one per item.
        let start = lock.withLock { () -> Int in
            defer { position = total }
            return position
        }
        var chunkIndex = start / size
        do {
            while chunkIndex < chunks.count {
                let results = try chunks[chunkIndex].result(timeout: deadline?.remaining ?? nil)
                let first = chunkIndex == start / size ? start % size : 0
                for result in results[first...] { values.append(try result.get()) }
                chunkIndex += 1
            }
        } catch {
            for future in chunks[Swift.min(chunkIndex + 1, chunks.count)...] { future.cancel() }
            throw error
        }
        return values
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let results: FutureResults<T>

        public mutating func next() async throws -> T? {
            guard let index = results.take() else { return nil }
            do {
                let timeout = results.deadline?.remaining
                switch results.source {
                case .items(let futures):
                    return try await futures[index].value(timeout: timeout)
                case .chunks(let chunks, let size, _):
                    return try await chunks[index / size].value(timeout: timeout)[index % size].get()
                }
            } catch {
                results.cancelRest()
                throw error
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(results: self) }

    private func take() -> Int? {
        lock.withLock {
            guard position < count else { return nil }
            defer { position += 1 }
            return position
        }
    }

    /// Cancels the work not started yet, after an error or a timeout (as Python's map does).
    private func cancelRest() {
        let next = lock.withLock {
            defer { position = count }
            return position
        }
        switch source {
        case .items(let futures):
            for future in futures[Swift.min(next, futures.count)...] { future.cancel() }
        case .chunks(let chunks, let size, _):
            for future in chunks[Swift.min((next + size - 1) / size, chunks.count)...] { future.cancel() }
        }
    }
}

/// Creates a ``ThreadPoolExecutor``, runs `body` with it, and always shuts it down (waiting for
/// running work) — also when `body` throws.
@available(*, noasync, renamed: "withThreadPool(maxWorkers:threadNamePrefix:queueCapacity:initializer:_:)", message: "shutdown blocks: use the async withThreadPool in async code")
public func withThreadPool<R>(
    maxWorkers: Int? = nil,
    threadNamePrefix: String = "spindle-pool",
    queueCapacity: Int? = nil,
    initializer: (@Sendable () throws -> Void)? = nil,
    _ body: (ThreadPoolExecutor) throws -> R
) rethrows -> R {
    let pool = ThreadPoolExecutor(
        maxWorkers: maxWorkers, threadNamePrefix: threadNamePrefix,
        queueCapacity: queueCapacity, initializer: initializer)
    defer { pool.shutdown(wait: true) }
    return try body(pool)
}

/// Creates a ``ThreadPoolExecutor``, runs `body` with it, and always shuts it down, waiting for
/// running work without blocking a cooperative thread — also when `body` throws.
public func withThreadPool<R>(
    maxWorkers: Int? = nil,
    threadNamePrefix: String = "spindle-pool",
    queueCapacity: Int? = nil,
    initializer: (@Sendable () throws -> Void)? = nil,
    _ body: (ThreadPoolExecutor) async throws -> R
) async rethrows -> R {
    let pool = ThreadPoolExecutor(
        maxWorkers: maxWorkers, threadNamePrefix: threadNamePrefix,
        queueCapacity: queueCapacity, initializer: initializer)
    do {
        let result = try await body(pool)
        await pool.shutdownGracefully()
        return result
    } catch {
        await pool.shutdownGracefully(cancelPending: true)
        throw error
    }
}
