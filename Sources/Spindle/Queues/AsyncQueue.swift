import DequeModule
import NIOConcurrencyHelpers

/// A bounded multi-producer, multi-consumer queue for tasks, with the semantics of Python's
/// `asyncio.Queue`: `put` and `get` that suspend (with timeouts) and non-waiting variants,
/// `taskDone` and `join`, and `shutdown` that wakes every waiter.
///
/// Elements are handed directly from a putter to a waiting getter. A waiter that is cancelled
/// leaves the queue consistent: an element is either received by exactly one getter or stays
/// in the queue; a cancelled putter's element is not added.
public final class AsyncQueue<Element: Sendable>: @unchecked Sendable {
    /// The most elements the queue holds; `put` suspends beyond it.
    public let maxSize: Int

    private struct Getter {
        var id: Int
        var continuation: CheckedContinuation<Element, any Error>
    }

    private struct Putter {
        var id: Int
        var element: Element
        var continuation: CheckedContinuation<Void, any Error>
    }

    private let lock = NIOLock()
    // Protected by `lock`:
    private var buffer = Deque<Element>()
    private var getters = Deque<Getter>()
    private var putters = Deque<Putter>()
    private var joiners: [Int: CheckedContinuation<Void, any Error>] = [:]
    private var unfinishedTasks = 0
    private var isShutDown = false
    private var nextID = 0

    /// Creates a queue that holds at most `maxSize` elements (at least 1).
    public init(maxSize: Int) {
        precondition(maxSize >= 1, "AsyncQueue needs maxSize >= 1, got \(maxSize)")
        self.maxSize = maxSize
    }

    /// Elements in the queue now.
    public var count: Int { lock.withLock { buffer.count } }
    /// True when the queue holds no element.
    public var isEmpty: Bool { count == 0 }
    /// True when the queue holds `maxSize` elements.
    public var isFull: Bool { count >= maxSize }

    /// Adds `element`, suspending while the queue is full.
    ///
    /// - Throws: ``SpindleError/Code/queueShutDown`` once the queue is shut down;
    ///   `CancellationError` if the task is cancelled while waiting (the element is not added).
    public func put(_ element: Element) async throws {
        let id: Int? = try lock.withLock {
            if try putWithoutWaitingLocked(element) { return nil }
            nextID += 1
            return nextID
        }
        guard let id else { return }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.withLockVoid {
                    do {
                        if Task.isCancelled { throw CancellationError() }
                        if try putWithoutWaitingLocked(element) {
                            continuation.resume()
                        } else {
                            putters.append(Putter(id: id, element: element, continuation: continuation))
                        }
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        } onCancel: {
            let putter: Putter? = lock.withLock {
                guard let index = putters.firstIndex(where: { $0.id == id }) else { return nil }
                return putters.remove(at: index)
            }
            putter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Adds `element`, giving up with ``SpindleError/Code/queueFull`` after `timeout`.
    public func put(_ element: Element, timeout: Duration) async throws {
        do {
            try await withDeadline(timeout, label: "put") { try await self.put(element) }
        } catch let error as SpindleError where error.code == .timeout {
            throw SpindleError(.queueFull, "the queue stayed full (\(maxSize) elements) for \(timeout)")
        }
    }

    /// Adds `element` without waiting. Throws ``SpindleError/Code/queueFull`` when full.
    public func tryPut(_ element: Element) throws {
        try lock.withLock {
            guard try putWithoutWaitingLocked(element) else {
                throw SpindleError(.queueFull, "the queue is full (\(maxSize) elements)")
            }
        }
    }

    /// Removes and returns the oldest element, suspending while the queue is empty.
    ///
    /// - Throws: ``SpindleError/Code/queueShutDown`` once the queue is shut down and empty;
    ///   `CancellationError` if the task is cancelled while waiting (no element is taken).
    public func get() async throws -> Element {
        let attempt: Result<Element, any Error>? = lock.withLock {
            do { return try getWithoutWaitingLocked().map { .success($0) } } catch { return .failure(error) }
        }
        if let attempt { return try attempt.get() }
        let id = lock.withLock { nextID += 1; return nextID }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Element, any Error>) in
                lock.withLockVoid {
                    do {
                        if let element = try getWithoutWaitingLocked() {
                            continuation.resume(returning: element)
                        } else if Task.isCancelled {
                            continuation.resume(throwing: CancellationError())
                        } else {
                            getters.append(Getter(id: id, continuation: continuation))
                        }
                    } catch {
                        continuation.resume(throwing: error)
                    }
                }
            }
        } onCancel: {
            let getter: Getter? = lock.withLock {
                guard let index = getters.firstIndex(where: { $0.id == id }) else { return nil }
                return getters.remove(at: index)
            }
            getter?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Removes and returns the oldest element, giving up with ``SpindleError/Code/queueEmpty``
    /// after `timeout`.
    public func get(timeout: Duration) async throws -> Element {
        do {
            return try await withDeadline(timeout, label: "get") { try await self.get() }
        } catch let error as SpindleError where error.code == .timeout {
            throw SpindleError(.queueEmpty, "the queue stayed empty for \(timeout)")
        }
    }

    /// Removes and returns the oldest element without waiting. Throws
    /// ``SpindleError/Code/queueEmpty`` when empty.
    public func tryGet() throws -> Element {
        try lock.withLock {
            guard let element = try getWithoutWaitingLocked() else {
                throw SpindleError(.queueEmpty, "the queue is empty")
            }
            return element
        }
    }

    /// Tells the queue that one element taken with `get` has been processed. Throws
    /// ``SpindleError/Code/taskDoneOverflow`` when called more times than elements were put.
    public func taskDone() throws {
        let waiters: [CheckedContinuation<Void, any Error>] = try lock.withLock {
            guard unfinishedTasks > 0 else {
                throw SpindleError(.taskDoneOverflow, "taskDone() called more times than elements were put")
            }
            unfinishedTasks -= 1
            return takeJoinersIfDoneLocked()
        }
        for waiter in waiters { waiter.resume() }
    }

    /// Suspends until every element put has been marked done with ``taskDone()``.
    public func join() async throws {
        guard lock.withLock({ unfinishedTasks > 0 }) else { return }
        let id = lock.withLock { nextID += 1; return nextID }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                lock.withLockVoid {
                    if unfinishedTasks == 0 {
                        continuation.resume()
                    } else if Task.isCancelled {
                        continuation.resume(throwing: CancellationError())
                    } else {
                        joiners[id] = continuation
                    }
                }
            }
        } onCancel: {
            lock.withLock { joiners.removeValue(forKey: id) }?.resume(throwing: CancellationError())
        }
    }

    /// Shuts the queue down: `put` throws from now on, and every waiting `put` wakes and throws.
    /// Getters take what is left, then throw ``SpindleError/Code/queueShutDown``; with
    /// `immediate`, what is left is dropped (and counted as done for `join`) and every getter
    /// throws at once.
    public func shutdown(immediate: Bool = false) {
        let (wokenPutters, wokenGetters, wokenJoiners) = lock.withLock {
            isShutDown = true
            if immediate {
                unfinishedTasks = max(0, unfinishedTasks - buffer.count)
                buffer.removeAll()
            }
            let p = putters
            putters.removeAll()
            // Getters wait only while the buffer is empty, so every one of them is done for.
            let g = getters
            getters.removeAll()
            return (p, g, takeJoinersIfDoneLocked())
        }
        for putter in wokenPutters { putter.continuation.resume(throwing: Self.shutDownError) }
        for getter in wokenGetters { getter.continuation.resume(throwing: Self.shutDownError) }
        for joiner in wokenJoiners { joiner.resume() }
    }

    // MARK: - Internals

    /// Adds the element if it can go in at once (to a waiting getter or the buffer).
    private func putWithoutWaitingLocked(_ element: Element) throws -> Bool {
        if isShutDown { throw Self.shutDownError }
        if let getter = getters.popFirst() {
            unfinishedTasks += 1
            getter.continuation.resume(returning: element)
            return true
        }
        guard buffer.count < maxSize else { return false }
        buffer.append(element)
        unfinishedTasks += 1
        return true
    }

    /// Takes the oldest element if there is one, refilling the buffer from a waiting putter.
    private func getWithoutWaitingLocked() throws -> Element? {
        guard let element = buffer.popFirst() else {
            if isShutDown { throw Self.shutDownError }
            return nil
        }
        if let putter = putters.popFirst() {
            buffer.append(putter.element)
            unfinishedTasks += 1
            putter.continuation.resume()
        }
        return element
    }

    private func takeJoinersIfDoneLocked() -> [CheckedContinuation<Void, any Error>] {
        guard unfinishedTasks == 0, !joiners.isEmpty else { return [] }
        let waiters = Array(joiners.values)
        joiners.removeAll()
        return waiters
    }

    private static var shutDownError: SpindleError {
        SpindleError(.queueShutDown, "the queue was shut down")
    }
}
