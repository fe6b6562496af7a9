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
    @available(*, noasync, message: "submitting may block while the queue is full: use `items.concurrentMap` or `pool.run`")
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
}

/// The results of futures in their order, as they become available: what
/// ``ThreadPoolExecutor/map(_:timeout:_:)`` returns.
///
/// Iterate with `for try await value in results` from a task, or call ``next()`` (which
/// blocks) from a thread. It is single-pass.
public final class FutureResults<T: Sendable>: AsyncSequence, @unchecked Sendable {
    public typealias Element = T

    /// The futures, in input order.
    public let futures: [Future<T>]
    private let deadline: Deadline?
    private let timeout: Duration?
    private let lock = ConditionLock()
    private var position = 0  // protected by lock

    init(_ futures: [Future<T>], deadline: Deadline?, timeout: Duration?) {
        self.futures = futures
        self.deadline = deadline
        self.timeout = timeout
    }

    /// The next result in input order, blocking until it is ready; nil after the last.
    /// Throws the item's error, or ``SpindleError/Code/timeout`` once the timeout has passed.
    @available(*, noasync, message: "blocks a thread: iterate with `for try await` in async code")
    public func next() throws -> T? {
        guard let future = take() else { return nil }
        do {
            return try future.result(timeout: deadline?.remaining ?? nil)
        } catch {
            cancelRest()
            throw error
        }
    }

    /// Every result in order, blocking until all are ready.
    @available(*, noasync, message: "blocks a thread: iterate with `for try await` in async code")
    public func collect() throws -> [T] {
        var values: [T] = []
        values.reserveCapacity(futures.count)
        while let value = try next() { values.append(value) }
        return values
    }

    public struct AsyncIterator: AsyncIteratorProtocol {
        let results: FutureResults<T>

        public mutating func next() async throws -> T? {
            guard let future = results.take() else { return nil }
            do {
                if let deadline = results.deadline {
                    return try await future.value(timeout: deadline.remaining)
                }
                return try await future.value
            } catch {
                results.cancelRest()
                throw error
            }
        }
    }

    public func makeAsyncIterator() -> AsyncIterator { AsyncIterator(results: self) }

    private func take() -> Future<T>? {
        lock.withLock {
            guard position < futures.count else { return nil }
            defer { position += 1 }
            return futures[position]
        }
    }

    private func cancelRest() {
        let rest = lock.withLock {
            defer { position = futures.count }
            return futures[position...]
        }
        for future in rest { future.cancel() }
    }
}

/// Creates a ``ThreadPoolExecutor``, runs `body` with it, and always shuts it down (waiting for
/// running work) — also when `body` throws.
@available(*, noasync, message: "shutdown blocks: use the async withThreadPool in async code")
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
