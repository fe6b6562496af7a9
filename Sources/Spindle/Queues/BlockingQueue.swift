#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import Synchronization

/// A bounded multi-producer, multi-consumer queue for threads, with the semantics of Python's
/// `queue.Queue`: `put` and `get` that wait (with timeouts) and non-waiting variants, `taskDone`
/// and `join`, and `shutdown` that wakes every waiter.
///
/// Elements move through a lock-free ring (``maxSize`` slots, reserved up front); a thread only
/// takes a lock to go to sleep (after spinning briefly) or to wake a sleeper. For tasks use
/// ``AsyncQueue``: this one blocks threads.
public final class BlockingQueue<Element: Sendable>: @unchecked Sendable {
    /// The most elements the queue holds; `put` waits beyond it.
    public let maxSize: Int

    @usableFromInline let ring: BoundedRing<Element>
    // Counters producers write on every put on one cache line; the ones every put and get
    // only read on another, so reading them does not fight over the producers' line.
    @usableFromInline let atomics = CacheLineAtomics(lines: 2)
    /// `taskDone` calls, plus elements dropped by an immediate shutdown: elements put and not
    /// yet done are the ring's claimed count minus this.
    @inlinable var tasksDone: UnsafeMutablePointer<Atomic<Int>> { atomics[0, 0] }
    /// A `BlockingQueueMode` value.
    @inlinable var shutDownMode: UnsafeMutablePointer<Atomic<Int>> { atomics[1, 0] }
    /// Threads asleep (or about to be) in `get` / `put` / `join`; read without the lock so the
    /// fast path only takes it when someone needs waking.
    @inlinable var sleepingGetters: UnsafeMutablePointer<Atomic<Int>> { atomics[1, 1] }
    @inlinable var sleepingPutters: UnsafeMutablePointer<Atomic<Int>> { atomics[1, 2] }
    @inlinable var sleepingJoiners: UnsafeMutablePointer<Atomic<Int>> { atomics[1, 3] }

    private let lock = ConditionLock()
    private let notEmpty = Condition()
    private let notFull = Condition()
    private let allTasksDone = Condition()
    // Protected by `lock`: sleepers signalled and not yet awake. Signalling only sleepers nobody
    // has signalled yet means a burst of puts wakes a sleeping getter once, not once per element.
    private var signalledGetters = 0
    private var signalledPutters = 0


    /// How often a waiting thread re-checks before it sleeps: a wake-up costs microseconds,
    /// a re-check nanoseconds.
    @inlinable static var spinsBeforeYielding: Int { 100 }
    @inlinable static var yieldsBeforeSleeping: Int { 200 }

    /// Creates a queue that holds at most `maxSize` elements (at least 1; memory for `maxSize`
    /// elements is reserved up front).
    public init(maxSize: Int) {
        precondition(maxSize >= 1, "BlockingQueue needs maxSize >= 1, got \(maxSize)")
        precondition(maxSize <= 1 << 24, "BlockingQueue reserves maxSize slots up front: at most 16,777,216, got \(maxSize)")
        self.maxSize = maxSize
        ring = BoundedRing(capacity: maxSize)
    }

    /// Elements in the queue now.
    public var count: Int { ring.count }
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
    @inlinable
    public func put(_ element: Element, timeout: Duration? = nil) throws {
        if try enqueue(element) { return }
        var spins = 0
        while spins < Self.spinsBeforeYielding + Self.yieldsBeforeSleeping {
            if spins >= Self.spinsBeforeYielding { sched_yield() }
            spins += 1
            if try enqueue(element) { return }
        }
        try putSleeping(element, timeout: timeout)
    }

    /// `put`'s slow path: sleep until there is room, the timeout passes or the queue shuts down.
    @usableFromInline
    func putSleeping(_ element: Element, timeout: Duration?) throws {
        let deadline = Deadline.after(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            sleepingPutters.pointee.add(1, ordering: .sequentiallyConsistent)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            let added: Bool
            do {
                added = try enqueue(element, lockHeld: true)
            } catch {
                sleepingPutters.pointee.subtract(1, ordering: .sequentiallyConsistent)
                throw error
            }
            if added {
                sleepingPutters.pointee.subtract(1, ordering: .sequentiallyConsistent)
                return
            }
            let inTime = notFull.wait(lock, until: deadline)
            sleepingPutters.pointee.subtract(1, ordering: .sequentiallyConsistent)
            if signalledPutters > 0 { signalledPutters -= 1 }
            if !inTime {
                if try enqueue(element, lockHeld: true) { return }
                throw SpindleError(.queueFull, "the queue stayed full (\(maxSize) elements) for \(timeout!)")
            }
        }
    }

    /// Adds `element` without waiting. Throws ``SpindleError/Code/queueFull`` when full.
    @inlinable
    public func tryPut(_ element: Element) throws {
        guard try enqueue(element) else {
            throw SpindleError(.queueFull, "the queue is full (\(maxSize) elements)")
        }
    }

    /// Removes and returns the oldest element, waiting while the queue is empty.
    ///
    /// - Parameter timeout: how long to wait; nil waits as long as it takes.
    /// - Throws: ``SpindleError/Code/queueEmpty`` when the timeout passes;
    ///   ``SpindleError/Code/queueShutDown`` once the queue is shut down and empty.
    @available(*, noasync, message: "blocks a thread: use AsyncQueue in async code")
    @inlinable
    public func get(timeout: Duration? = nil) throws -> Element {
        if let element = try dequeue() { return element }
        var spins = 0
        while spins < Self.spinsBeforeYielding + Self.yieldsBeforeSleeping {
            if spins >= Self.spinsBeforeYielding { sched_yield() }
            spins += 1
            if let element = try dequeue() { return element }
        }
        return try getSleeping(timeout: timeout)
    }

    /// `get`'s slow path: sleep until there is an element, the timeout passes or the queue shuts down.
    @usableFromInline
    func getSleeping(timeout: Duration?) throws -> Element {
        let deadline = Deadline.after(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            sleepingGetters.pointee.add(1, ordering: .sequentiallyConsistent)
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            let element: Element?
            do {
                element = try dequeue(lockHeld: true)
            } catch {
                sleepingGetters.pointee.subtract(1, ordering: .sequentiallyConsistent)
                throw error
            }
            if let element {
                sleepingGetters.pointee.subtract(1, ordering: .sequentiallyConsistent)
                return element
            }
            let inTime = notEmpty.wait(lock, until: deadline)
            sleepingGetters.pointee.subtract(1, ordering: .sequentiallyConsistent)
            if signalledGetters > 0 { signalledGetters -= 1 }
            if !inTime {
                if let element = try dequeue(lockHeld: true) { return element }
                throw SpindleError(.queueEmpty, "the queue stayed empty for \(timeout!)")
            }
        }
    }

    /// Removes and returns the oldest element without waiting. Throws
    /// ``SpindleError/Code/queueEmpty`` when empty.
    @inlinable
    public func tryGet() throws -> Element {
        guard let element = try dequeue() else {
            throw SpindleError(.queueEmpty, "the queue is empty")
        }
        return element
    }

    /// Tells the queue that one element taken with `get` has been processed; ``join(timeout:)``
    /// returns once every element put has been. Throws ``SpindleError/Code/taskDoneOverflow``
    /// when called more times than elements were put.
    public func taskDone() throws {
        var done = tasksDone.pointee.load(ordering: .relaxed)
        while true {
            guard done < ring.claimedCount else {
                throw SpindleError(.taskDoneOverflow, "taskDone() called more times than elements were put")
            }
            let (exchanged, original) = tasksDone.pointee.weakCompareExchange(
                expected: done, desired: done + 1, ordering: .sequentiallyConsistent)
            if exchanged { break }
            done = original
        }
        if done + 1 == ring.claimedCount { wakeJoiners() }
    }

    /// Elements put and not yet marked done.
    private var unfinishedTasks: Int {
        let done = tasksDone.pointee.load(ordering: .sequentiallyConsistent)
        return max(0, ring.claimedCount - done)
    }

    /// Blocks until every element put has been marked done with ``taskDone()``.
    /// Throws ``SpindleError/Code/timeout`` when the timeout passes first.
    @available(*, noasync, message: "blocks a thread: use AsyncQueue in async code")
    public func join(timeout: Duration? = nil) throws {
        let deadline = Deadline.after(timeout)
        lock.lock()
        defer { lock.unlock() }
        while true {
            sleepingJoiners.pointee.add(1, ordering: .sequentiallyConsistent)
            if unfinishedTasks == 0 {
                sleepingJoiners.pointee.subtract(1, ordering: .sequentiallyConsistent)
                return
            }
            let inTime = allTasksDone.wait(lock, until: deadline)
            sleepingJoiners.pointee.subtract(1, ordering: .sequentiallyConsistent)
            if !inTime {
                let left = unfinishedTasks
                if left == 0 { return }
                throw SpindleError(.timeout, "\(left) queued elements were not marked done within \(timeout!)")
            }
        }
    }

    /// Shuts the queue down: `put` throws from now on, and every waiting `put` wakes and throws.
    /// Getters take what is left, then throw ``SpindleError/Code/queueShutDown``; with
    /// `immediate`, what is left is dropped (and counted as done for `join`) and every getter
    /// throws at once.
    public func shutdown(immediate: Bool = false) {
        shutDownMode.pointee.store(immediate ? BlockingQueueMode.shutDownImmediately : BlockingQueueMode.shutDown, ordering: .sequentiallyConsistent)
        ring.close()
        if immediate {
            // Drop everything, including puts that claimed a slot before the close and are
            // still writing their element (a few instructions away).
            var dropped = 0
            while !ring.isDrained {
                if ring.tryDequeue() != nil { dropped += 1 } else { sched_yield() }
            }
            if dropped > 0 {
                tasksDone.pointee.add(dropped, ordering: .sequentiallyConsistent)
                if unfinishedTasks == 0 { wakeJoiners() }
            }
        }
        lock.withLock {
            signalledGetters = sleepingGetters.pointee.load(ordering: .sequentiallyConsistent)
            signalledPutters = sleepingPutters.pointee.load(ordering: .sequentiallyConsistent)
            notEmpty.broadcast()
            notFull.broadcast()
        }
    }

    // MARK: - Internals

    /// Adds `element` if there is room and wakes a sleeping getter; false when full.
    @inlinable @inline(__always)
    func enqueue(_ element: Element, lockHeld: Bool = false) throws -> Bool {
        switch ring.tryEnqueue(element) {
        case .added:
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            if sleepingGetters.pointee.load(ordering: .sequentiallyConsistent) > 0 { wakeGetter(lockHeld: lockHeld) }
            return true
        case .full:
            return false
        case .closed:
            throw Self.shutDownError
        }
    }

    /// Takes the oldest element and wakes a sleeping putter; nil when empty and still open.
    @inlinable @inline(__always)
    func dequeue(lockHeld: Bool = false) throws -> Element? {
        if let element = ring.tryDequeue() {
            atomicMemoryFence(ordering: .sequentiallyConsistent)
            if sleepingPutters.pointee.load(ordering: .sequentiallyConsistent) > 0 { wakePutter(lockHeld: lockHeld) }
            // One of the last elements of a shut-down queue: getters that went to sleep waiting
            // for it (a put was still writing it) must wake to see the queue drained.
            if shutDownMode.pointee.load(ordering: .sequentiallyConsistent) != BlockingQueueMode.open
                && sleepingGetters.pointee.load(ordering: .sequentiallyConsistent) > 0 {
                wakeAllGetters(lockHeld: lockHeld)
            }
            return element
        }
        let mode = shutDownMode.pointee.load(ordering: .sequentiallyConsistent)
        if mode == BlockingQueueMode.shutDownImmediately { throw Self.shutDownError }
        // Shut down and drained: nothing is left and nothing more can come. (Not drained: a put
        // claimed a slot before the shutdown and is writing it; it wakes us when done.)
        if mode == BlockingQueueMode.shutDown && ring.isDrained { throw Self.shutDownError }
        return nil
    }

    @usableFromInline
    func wakeGetter(lockHeld: Bool) {
        if lockHeld { wakeGetterLocked() } else { lock.withLock { wakeGetterLocked() } }
    }

    @usableFromInline
    func wakeAllGetters(lockHeld: Bool) {
        func wake() {
            signalledGetters = sleepingGetters.pointee.load(ordering: .sequentiallyConsistent)
            notEmpty.broadcast()
        }
        if lockHeld { wake() } else { lock.withLock { wake() } }
    }

    @usableFromInline
    func wakePutter(lockHeld: Bool) {
        if lockHeld { wakePutterLocked() } else { lock.withLock { wakePutterLocked() } }
    }

    private func wakeGetterLocked() {
        if sleepingGetters.pointee.load(ordering: .sequentiallyConsistent) > signalledGetters {
            signalledGetters += 1
            notEmpty.signal()
        }
    }

    private func wakePutterLocked() {
        if sleepingPutters.pointee.load(ordering: .sequentiallyConsistent) > signalledPutters {
            signalledPutters += 1
            notFull.signal()
        }
    }

    private func wakeJoiners() {
        if sleepingJoiners.pointee.load(ordering: .sequentiallyConsistent) > 0 {
            lock.withLock { allTasksDone.broadcast() }
        }
    }

    @usableFromInline
    static var shutDownError: SpindleError {
        SpindleError(.queueShutDown, "the queue was shut down")
    }
}

/// A ``BlockingQueue``'s shutdown state, as stored in an atomic.
@usableFromInline
enum BlockingQueueMode {
    @inlinable static var open: Int { 0 }
    @inlinable static var shutDown: Int { 1 }
    @inlinable static var shutDownImmediately: Int { 2 }
}
