import DequeModule

/// A bounded multi-producer, multi-consumer queue for threads, with the semantics of Python's
/// `queue.Queue`: `put` and `get` that wait (with timeouts) and non-waiting variants, `taskDone`
/// and `join`, and `shutdown` that wakes every waiter.
///
/// For tasks use ``AsyncQueue``: this one blocks threads.
public final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    /// The most elements the queue holds; `put` waits beyond it.
    public let maxSize: Int

    private let lock = ConditionLock()
    private let notEmpty = Condition()
    private let notFull = Condition()
    private let allTasksDone = Condition()
    // Protected by `lock`:
    private var buffer = Deque<Element>()
    private var unfinishedTasks = 0
    private var isShutDown = false
    private var waitingGetters = 0
    private var waitingPutters = 0
    private var waitingJoiners = 0
    // Waiters signalled and not yet awake. Signalling only waiters nobody has signalled yet
    // means a burst of puts wakes one sleeping getter once, not once per element: the getter
    // then finds the whole burst, and the queue moves batches instead of paying a wake-up
    // (a futex system call) per element.
    private var signalledGetters = 0
    private var signalledPutters = 0

    /// Creates a queue that holds at most `maxSize` elements (at least 1).
    public init(maxSize: Int) {
        precondition(maxSize >= 1, "BlockingQueue needs maxSize >= 1, got \(maxSize)")
        self.maxSize = maxSize
        buffer.reserveCapacity(min(maxSize, 1024))
    }

    /// Elements in the queue now.
    public var count: Int { lock.withLock { buffer.count } }
    /// True when the queue holds no element.
    public var isEmpty: Bool { count == 0 }
    /// True when the queue holds `maxSize` elements.
    public var isFull: Bool { count >= maxSize }

    /// Adds `element`, waiting while the queue is full.
    ///
    /// - Parameter timeout: how long to wait for room; nil waits as long as it takes.
    /// - Throws: ``SpindleError/Code/queueFull`` when the timeout passes;
    ///   ``SpindleError/Code/queueShutDown`` once the queue is shut down (also while waiting).
    @available(*, noasync, message: "blocks a thread: use AsyncQueue in async code")
    public func put(_ element: Element, timeout: Duration? = nil) throws {
        let deadline = Deadline.after(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            if isShutDown { throw Self.shutDownError }
            if buffer.count < maxSize { break }
            waitingPutters += 1
            let inTime = notFull.wait(lock, until: deadline)
            waitingPutters -= 1
            if signalledPutters > 0 { signalledPutters -= 1 }
            if !inTime && buffer.count >= maxSize && !isShutDown {
                throw SpindleError(.queueFull, "the queue stayed full (\(maxSize) elements) for \(timeout!)")
            }
        }
        appendLocked(element)
    }

    /// Adds `element` without waiting. Throws ``SpindleError/Code/queueFull`` when full.
    public func tryPut(_ element: Element) throws {
        lock.lock()
        defer { lock.unlock() }
        if isShutDown { throw Self.shutDownError }
        guard buffer.count < maxSize else {
            throw SpindleError(.queueFull, "the queue is full (\(maxSize) elements)")
        }
        appendLocked(element)
    }

    /// Removes and returns the oldest element, waiting while the queue is empty.
    ///
    /// - Parameter timeout: how long to wait; nil waits as long as it takes.
    /// - Throws: ``SpindleError/Code/queueEmpty`` when the timeout passes;
    ///   ``SpindleError/Code/queueShutDown`` once the queue is shut down and empty.
    @available(*, noasync, message: "blocks a thread: use AsyncQueue in async code")
    public func get(timeout: Duration? = nil) throws -> Element {
        let deadline = Deadline.after(timeout)
        lock.lock()
        defer { lock.unlock() }
        while buffer.isEmpty {
            if isShutDown { throw Self.shutDownError }
            waitingGetters += 1
            let inTime = notEmpty.wait(lock, until: deadline)
            waitingGetters -= 1
            if signalledGetters > 0 { signalledGetters -= 1 }
            if !inTime && buffer.isEmpty && !isShutDown {
                throw SpindleError(.queueEmpty, "the queue stayed empty for \(timeout!)")
            }
        }
        return removeFirstLocked()
    }

    /// Removes and returns the oldest element without waiting. Throws
    /// ``SpindleError/Code/queueEmpty`` when empty.
    public func tryGet() throws -> Element {
        lock.lock()
        defer { lock.unlock() }
        if buffer.isEmpty {
            if isShutDown { throw Self.shutDownError }
            throw SpindleError(.queueEmpty, "the queue is empty")
        }
        return removeFirstLocked()
    }

    /// Tells the queue that one element taken with `get` has been processed; ``join(timeout:)``
    /// returns once every element put has been. Throws ``SpindleError/Code/taskDoneOverflow``
    /// when called more times than elements were put.
    public func taskDone() throws {
        lock.lock()
        defer { lock.unlock() }
        guard unfinishedTasks > 0 else {
            throw SpindleError(.taskDoneOverflow, "taskDone() called more times than elements were put")
        }
        unfinishedTasks -= 1
        if unfinishedTasks == 0 && waitingJoiners > 0 { allTasksDone.broadcast() }
    }

    /// Blocks until every element put has been marked done with ``taskDone()``.
    /// Throws ``SpindleError/Code/timeout`` when the timeout passes first.
    @available(*, noasync, message: "blocks a thread: use AsyncQueue in async code")
    public func join(timeout: Duration? = nil) throws {
        let deadline = Deadline.after(timeout)
        lock.lock()
        defer { lock.unlock() }
        while unfinishedTasks > 0 {
            waitingJoiners += 1
            let inTime = allTasksDone.wait(lock, until: deadline)
            waitingJoiners -= 1
            if !inTime && unfinishedTasks > 0 {
                throw SpindleError(.timeout, "\(unfinishedTasks) queued elements were not marked done within \(timeout!)")
            }
        }
    }

    /// Shuts the queue down: `put` throws from now on, and every waiting `put` wakes and throws.
    /// Getters take what is left, then throw ``SpindleError/Code/queueShutDown``; with
    /// `immediate`, what is left is dropped (and counted as done for `join`) and every getter
    /// throws at once.
    public func shutdown(immediate: Bool = false) {
        lock.lock()
        defer { lock.unlock() }
        isShutDown = true
        if immediate {
            unfinishedTasks = max(0, unfinishedTasks - buffer.count)
            buffer.removeAll()
            if unfinishedTasks == 0 { allTasksDone.broadcast() }
        }
        signalledGetters = waitingGetters
        signalledPutters = waitingPutters
        notEmpty.broadcast()
        notFull.broadcast()
    }

    private func appendLocked(_ element: Element) {
        buffer.append(element)
        unfinishedTasks += 1
        wakeGetterLocked()
        // Pass the baton: room is left, so another sleeping putter may go on too.
        if buffer.count < maxSize { wakePutterLocked() }
    }

    private func removeFirstLocked() -> Element {
        let element = buffer.removeFirst()
        wakePutterLocked()
        // Pass the baton: elements are left, so another sleeping getter may take them.
        if !buffer.isEmpty { wakeGetterLocked() }
        return element
    }

    private func wakeGetterLocked() {
        if waitingGetters > signalledGetters {
            signalledGetters += 1
            notEmpty.signal()
        }
    }

    private func wakePutterLocked() {
        if waitingPutters > signalledPutters {
            signalledPutters += 1
            notFull.signal()
        }
    }

    private static var shutDownError: SpindleError {
        SpindleError(.queueShutDown, "the queue was shut down")
    }
}
