import NIOConcurrencyHelpers

/// A ``BlockingQueue``'s one lock and its state machine. It runs the machine under the lock and
/// performs what the machine returns — parking the calling thread, unparking others — outside it.
@usableFromInline
final class BlockingQueueStorage<Element: Sendable>: @unchecked Sendable {
    // @unchecked Sendable: `machine` is only read or changed while `lock` is held.
    @usableFromInline let lock = NIOLock()
    @usableFromInline var machine: BlockingQueueStateMachine<Element, ThreadParker>

    // No retries before parking: measured, retrying (with or without yielding the CPU) was no
    // faster than parking at once, and slower with 4 producers and 4 consumers.

    @usableFromInline
    init(maxSize: Int) {
        machine = BlockingQueueStateMachine(maxSize: maxSize)
    }

    @inlinable
    func withMachine<T>(_ body: (inout BlockingQueueStateMachine<Element, ThreadParker>) -> T) -> T {
        lock.withLock { body(&machine) }
    }

    /// Adds `element`, waiting up to `timeout` (nil: as long as it takes) for room. Returns false
    /// when the timeout passed first (the element was not added).
    @inlinable
    func put(_ element: Element, timeout: Duration?) throws -> Bool {
        // Parkers cost an allocation: try without one first.
        switch lock.withLock({ machine.put(element, parker: nil) }) {
        case .added(let getter):
            getter?.unpark()
            return true
        case .shutDown:
            throw Self.shutDownError
        case .full, .wait:
            if timeout == .zero { return false }
        }
        let parker = ThreadParker()
        switch lock.withLock({ machine.put(element, parker: parker) }) {
        case .added(let getter):
            getter?.unpark()
            return true
        case .shutDown:
            throw Self.shutDownError
        case .full:
            preconditionFailure("the state machine refused a parker")
        case .wait(let id):
            switch park(parker, id: id, timeout: timeout) {
            case .served: return true
            case .shutDown: throw Self.shutDownError
            case nil: return false
            case .element: preconditionFailure("a putter was handed an element")
            }
        }
    }

    /// Takes the oldest element, waiting up to `timeout` (nil: as long as it takes) for one.
    /// Returns nil when the timeout passed first.
    @inlinable
    func get(timeout: Duration?) throws -> Element? {
        switch lock.withLock({ machine.get(parker: nil) }) {
        case .element(let element, let putter):
            putter?.unpark()
            return element
        case .shutDown:
            throw Self.shutDownError
        case .empty, .wait:
            if timeout == .zero { return nil }
        }
        let parker = ThreadParker()
        switch lock.withLock({ machine.get(parker: parker) }) {
        case .element(let element, let putter):
            putter?.unpark()
            return element
        case .shutDown:
            throw Self.shutDownError
        case .empty:
            preconditionFailure("the state machine refused a parker")
        case .wait(let id):
            switch park(parker, id: id, timeout: timeout) {
            case .element(let element): return element
            case .shutDown: throw Self.shutDownError
            case nil: return nil
            case .served: preconditionFailure("a getter was handed no element")
            }
        }
    }

    /// Marks one element done, unparking the joiners if it was the last.
    @inlinable
    func taskDone() throws {
        switch lock.withLock({ machine.taskDone() }) {
        case .counted(let joiners):
            for joiner in joiners { joiner.unpark() }
        case .overflow:
            throw SpindleError(.taskDoneOverflow, "taskDone() called more times than elements were put")
        }
    }

    /// Waits up to `timeout` for every element put to be marked done. Returns the number still
    /// unfinished when the timeout passed first, else 0.
    @inlinable
    func join(timeout: Duration?) -> Int {
        guard case .pending = lock.withLock({ machine.join(parker: nil) }) else { return 0 }
        let parker = ThreadParker()
        switch lock.withLock({ machine.join(parker: parker) }) {
        case .done:
            return 0
        case .pending:
            preconditionFailure("the state machine refused a parker")
        case .wait(let id):
            if let timeout { _ = parker.park(timeout: timeout) } else { parker.park() }
            return lock.withLock {
                machine.collect(id) == nil ? max(1, machine.unfinishedTasks) : 0
            }
        }
    }

    /// Shuts the queue down and unparks every thread the machine names.
    @inlinable
    func shutdown(immediate: Bool) {
        for parker in lock.withLock({ machine.shutdown(immediate: immediate) }) { parker.unpark() }
    }

    /// Parks until unparked or `timeout` passes, then collects what the thread was handed (nil:
    /// nothing, the timeout won).
    @inlinable
    func park(
        _ parker: ThreadParker, id: Int, timeout: Duration?
    ) -> BlockingQueueStateMachine<Element, ThreadParker>.Outcome? {
        if let timeout { _ = parker.park(timeout: timeout) } else { parker.park() }
        return lock.withLock { machine.collect(id) }
    }

    @inlinable
    static var shutDownError: SpindleError {
        SpindleError(.queueShutDown, "the queue was shut down")
    }
}
