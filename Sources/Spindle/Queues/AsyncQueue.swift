/// A bounded multi-producer, multi-consumer queue for tasks, with the semantics of Python's
/// `asyncio.Queue`: `put` and `get` that suspend (with timeouts) and non-waiting variants,
/// `taskDone` and `join`, and `shutdown` that wakes every waiter.
///
/// It is also an `AsyncSequence` of gets that ends once the queue is shut down and drained:
/// `for await item in queue { … }` in a consumer task.
///
/// Elements are handed directly from a putter to a waiting getter. A waiter that is cancelled
/// leaves the queue consistent: an element is either received by exactly one getter or stays
/// in the queue; a cancelled putter's element is not added.
public final class AsyncQueue<Element: Sendable>: Sendable {
    /// The most elements the queue holds; `put` suspends beyond it.
    public let maxSize: Int

    let storage: AsyncQueueStorage<Element>

    /// Creates a queue that holds at most `maxSize` elements (at least 1).
    public init(maxSize: Int) {
        precondition(maxSize >= 1, "AsyncQueue needs maxSize >= 1, got \(maxSize)")
        self.maxSize = maxSize
        storage = AsyncQueueStorage(maxSize: maxSize)
    }

    /// Elements in the queue now.
    public var count: Int { storage.withMachine { $0.count } }
    /// True when the queue holds no element.
    public var isEmpty: Bool { count == 0 }
    /// True when the queue holds `maxSize` elements.
    public var isFull: Bool { count >= maxSize }

    /// Adds `element`, suspending while the queue is full.
    ///
    /// - Throws: ``SpindleError/Code/queueShutDown`` once the queue is shut down;
    ///   `CancellationError` if the task is cancelled while waiting (the element is not added).
    public func put(_ element: Element) async throws {
        try await storage.put(element)
    }

    /// Adds `element`, giving up with ``SpindleError/Code/queueFull`` after `timeout`.
    public func put(_ element: Element, timeout: Duration) async throws {
        try await put(element, timeout: timeout, clock: ContinuousClock())
    }

    /// `put(_:timeout:)` with the time measured on `clock`.
    func put<C: Clock>(_ element: Element, timeout: Duration, clock: C) async throws where C.Duration == Duration {
        do {
            try await withDeadline(timeout, clock: clock, label: "put") { try await self.put(element) }
        } catch let error as SpindleError where error.code == .timeout {
            throw SpindleError(.queueFull, "the queue stayed full (\(maxSize) elements) for \(timeout)")
        }
    }

    /// Adds `element` without waiting. Throws ``SpindleError/Code/queueFull`` when full.
    public func tryPut(_ element: Element) throws {
        switch storage.withMachine({ $0.put(element) }) {
        case .added(let getter):
            getter?.resume(returning: element)
        case .full, .cancelled:
            throw SpindleError(.queueFull, "the queue is full (\(maxSize) elements)")
        case .shutDown:
            throw AsyncQueueStorage<Element>.shutDownError
        }
    }

    /// Removes and returns the oldest element, suspending while the queue is empty.
    ///
    /// - Throws: ``SpindleError/Code/queueShutDown`` once the queue is shut down and empty;
    ///   `CancellationError` if the task is cancelled while waiting (no element is taken).
    public func get() async throws -> Element {
        try await storage.get()
    }

    /// Removes and returns the oldest element, giving up with ``SpindleError/Code/queueEmpty``
    /// after `timeout`.
    public func get(timeout: Duration) async throws -> Element {
        try await get(timeout: timeout, clock: ContinuousClock())
    }

    /// `get(timeout:)` with the time measured on `clock`.
    func get<C: Clock>(timeout: Duration, clock: C) async throws -> Element where C.Duration == Duration {
        do {
            return try await withDeadline(timeout, clock: clock, label: "get") { try await self.get() }
        } catch let error as SpindleError where error.code == .timeout {
            throw SpindleError(.queueEmpty, "the queue stayed empty for \(timeout)")
        }
    }

    /// Removes and returns the oldest element without waiting. Throws
    /// ``SpindleError/Code/queueEmpty`` when empty.
    public func tryGet() throws -> Element {
        switch storage.withMachine({ $0.get() }) {
        case .element(let element, let putter):
            putter?.resume()
            return element
        case .empty, .cancelled:
            throw SpindleError(.queueEmpty, "the queue is empty")
        case .shutDown:
            throw AsyncQueueStorage<Element>.shutDownError
        }
    }

    /// Tells the queue that one element taken with `get` has been processed. Throws
    /// ``SpindleError/Code/taskDoneOverflow`` when called more times than elements were put.
    public func taskDone() throws {
        switch storage.withMachine({ $0.taskDone() }) {
        case .counted(let joiners):
            for joiner in joiners { joiner.resume() }
        case .overflow:
            throw SpindleError(.taskDoneOverflow, "taskDone() called more times than elements were put")
        }
    }

    /// Suspends until every element put has been marked done with ``taskDone()``.
    /// - Throws: `CancellationError` if the task is cancelled while waiting.
    public func join() async throws {
        try await storage.join()
    }

    /// Shuts the queue down: `put` throws from now on, and every waiting `put` wakes and throws.
    /// Getters take what is left, then throw ``SpindleError/Code/queueShutDown``; with
    /// `immediate`, what is left is dropped (and counted as done for `join`) and every getter
    /// throws at once.
    public func shutdown(immediate: Bool = false) {
        let woken = storage.withMachine { $0.shutdown(immediate: immediate) }
        for putter in woken.putters { putter.resume(throwing: AsyncQueueStorage<Element>.shutDownError) }
        for getter in woken.getters { getter.resume(throwing: AsyncQueueStorage<Element>.shutDownError) }
        for joiner in woken.joiners { joiner.resume() }
    }
}

extension AsyncQueue: AsyncSequence {
    /// Gets, one per `next()`, until the queue is shut down and drained (or the task is cancelled).
    public struct AsyncIterator: AsyncIteratorProtocol {
        let queue: AsyncQueue

        /// The oldest element, suspending while the queue is empty; nil once it is shut down and
        /// empty, or when the task is cancelled while waiting (no element is taken then).
        public mutating func next() async -> Element? {
            try? await queue.get()
        }
    }

    /// Iterates by taking elements: each one is removed from the queue, as by ``get()``.
    public func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(queue: self)
    }
}
