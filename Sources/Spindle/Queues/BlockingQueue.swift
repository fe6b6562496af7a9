/// A bounded multi-producer, multi-consumer queue for threads, with the semantics of Python's
/// `queue.Queue`: `put` and `get` that wait (with timeouts) and non-waiting variants, `taskDone`
/// and `join`, and `shutdown` that wakes every waiter.
///
/// It is also a `Sequence` of blocking gets that ends once the queue is shut down and drained:
/// `for item in queue { … }` in a consumer thread.
///
/// Waiters are served first come, first served: a put hands its element straight to the
/// longest-waiting getter, and a get takes the longest-waiting putter's element in. For tasks use
/// ``AsyncQueue``: this one blocks threads.
public final class BlockingQueue<Element: Sendable>: Sendable {
    /// The most elements the queue holds; `put` waits beyond it.
    public let maxSize: Int

    @usableFromInline let storage: BlockingQueueStorage<Element>

    /// Creates a queue that holds at most `maxSize` elements (at least 1).
    public init(maxSize: Int) {
        precondition(maxSize >= 1, "BlockingQueue needs maxSize >= 1, got \(maxSize)")
        self.maxSize = maxSize
        storage = BlockingQueueStorage(maxSize: maxSize)
    }

    /// Elements in the queue now.
    public var count: Int { storage.withMachine { $0.count } }
    /// True when the queue holds no element.
    public var isEmpty: Bool { count == 0 }
    /// True when the queue holds `maxSize` elements.
    public var isFull: Bool { count >= maxSize }

    /// Adds `element`, waiting while the queue is full.
    ///
    /// - Parameter timeout: how long to wait for room; nil waits as long as it takes.
    /// - Throws: ``SpindleError/Code/queueFull`` when the timeout passes;
    ///   ``SpindleError/Code/queueShutDown`` once the queue is shut down (also while waiting).
    @available(*, noasync, message: "blocks a thread: use AsyncQueue.put(_:) in async code")
    @inlinable
    public func put(_ element: Element, timeout: Duration? = nil) throws {
        guard try storage.put(element, timeout: timeout) else {
            throw SpindleError(.queueFull, "the queue stayed full (\(maxSize) elements) for \(timeout!)")
        }
    }

    /// Adds `element` without waiting. Throws ``SpindleError/Code/queueFull`` when full.
    @inlinable
    public func tryPut(_ element: Element) throws {
        guard try storage.put(element, timeout: .zero) else {
            throw SpindleError(.queueFull, "the queue is full (\(maxSize) elements)")
        }
    }

    /// Removes and returns the oldest element, waiting while the queue is empty.
    ///
    /// - Parameter timeout: how long to wait; nil waits as long as it takes.
    /// - Throws: ``SpindleError/Code/queueEmpty`` when the timeout passes;
    ///   ``SpindleError/Code/queueShutDown`` once the queue is shut down and empty.
    @available(*, noasync, message: "blocks a thread: use AsyncQueue.get() in async code")
    @inlinable
    public func get(timeout: Duration? = nil) throws -> Element {
        guard let element = try storage.get(timeout: timeout) else {
            throw SpindleError(.queueEmpty, "the queue stayed empty for \(timeout!)")
        }
        return element
    }

    /// Removes and returns the oldest element without waiting. Throws
    /// ``SpindleError/Code/queueEmpty`` when empty.
    @inlinable
    public func tryGet() throws -> Element {
        guard let element = try storage.get(timeout: .zero) else {
            throw SpindleError(.queueEmpty, "the queue is empty")
        }
        return element
    }

    /// Tells the queue that one element taken with `get` has been processed; ``join(timeout:)``
    /// returns once every element put has been. Throws ``SpindleError/Code/taskDoneOverflow``
    /// when called more times than elements were put.
    public func taskDone() throws {
        try storage.taskDone()
    }

    /// Blocks until every element put has been marked done with ``taskDone()``.
    /// Throws ``SpindleError/Code/timeout`` when the timeout passes first.
    @available(*, noasync, message: "blocks a thread: use AsyncQueue.join() in async code")
    public func join(timeout: Duration? = nil) throws {
        let left = storage.join(timeout: timeout)
        guard left == 0 else {
            throw SpindleError(.timeout, "\(left) queued elements were not marked done within \(timeout!)")
        }
    }

    /// Shuts the queue down: `put` throws from now on, and every waiting `put` wakes and throws.
    /// Getters take what is left, then throw ``SpindleError/Code/queueShutDown``; with
    /// `immediate`, what is left is dropped (and counted as done for `join`) and every getter
    /// throws at once.
    public func shutdown(immediate: Bool = false) {
        storage.shutdown(immediate: immediate)
    }
}
