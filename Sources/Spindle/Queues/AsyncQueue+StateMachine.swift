import DequeModule

/// The logic of an ``AsyncQueue``, without tasks, locks or clocks: each method changes the state
/// and returns what the caller must do (resume these continuations, and with what).
///
/// `Getter` resumes one suspended `get` with an element or an error; `Waiter` resumes one
/// suspended `put` or `join` (continuations in the queue; plain values in tests). A task about to
/// suspend takes an id (``makeID()``) so that its cancellation can find it.
///
/// Invariants: getters wait only while the buffer is empty; putters wait only while it is full;
/// joiners wait only while some element put is not yet marked done. Waiters are served first
/// come, first served.
struct AsyncQueueStateMachine<Element, Getter, Waiter> {
    enum PutAction {
        /// The element went in, or to this waiting getter (resume it with the element).
        case added(resumeGetter: Getter?)
        /// Full: nothing changed (or, for a suspending put, its waiter is queued).
        case full
        case shutDown
        /// The task was cancelled before it waited: nothing changed.
        case cancelled
    }

    enum GetAction {
        /// The oldest element; a waiting putter whose element went in in its place, to resume.
        case element(Element, resumePutter: Waiter?)
        /// Empty: nothing changed (or, for a suspending get, its getter is queued).
        case empty
        /// Shut down, and nothing is left to take.
        case shutDown
        /// The task was cancelled before it waited: nothing changed.
        case cancelled
    }

    enum JoinAction {
        /// Every element put has been marked done.
        case done
        /// Some are not (for a suspending join, its waiter is queued).
        case pending
        /// The task was cancelled before it waited.
        case cancelled
    }

    enum TaskDoneAction {
        /// Counted; the joiners to resume (those waiting for this last task).
        case counted(resumeJoiners: [Waiter])
        /// More `taskDone` calls than elements put: nothing changed.
        case overflow
    }

    /// Who a shutdown wakes, all to fail with `queueShutDown` but the joiners, to resume.
    struct ShutdownAction {
        var putters: [Waiter] = []
        var getters: [Getter] = []
        var joiners: [Waiter] = []
    }

    private var buffer = Deque<Element>()
    private var getters = Deque<(id: Int, getter: Getter)>()
    private var putters = Deque<(id: Int, element: Element, waiter: Waiter)>()
    private var joiners: [(id: Int, waiter: Waiter)] = []
    let maxSize: Int
    /// Elements put (or handed over) and not yet marked done.
    private(set) var unfinishedTasks = 0
    private(set) var isShutDown = false
    private var nextID = 0

    init(maxSize: Int) {
        self.maxSize = maxSize
    }

    var count: Int { buffer.count }
    var waitingGetters: Int { getters.count }
    var waitingPutters: Int { putters.count }
    var waitingJoiners: Int { joiners.count }

    mutating func makeID() -> Int {
        nextID += 1
        return nextID
    }

    /// Adds `element` if it can go in at once (to the longest-waiting getter, or the buffer).
    mutating func put(_ element: Element) -> PutAction {
        if isShutDown { return .shutDown }
        if let first = getters.popFirst() {
            unfinishedTasks += 1
            return .added(resumeGetter: first.getter)
        }
        guard buffer.count < maxSize else { return .full }
        buffer.append(element)
        unfinishedTasks += 1
        return .added(resumeGetter: nil)
    }

    /// `put` for a task about to suspend: adds `element` if it can go in at once, else queues
    /// `waiter` (`.full`), unless the task is cancelled.
    mutating func put(_ element: Element, id: Int, waiter: Waiter, isCancelled: Bool) -> PutAction {
        if isCancelled { return .cancelled }
        let action = put(element)
        if case .full = action { putters.append((id, element, waiter)) }
        return action
    }

    /// Takes the oldest element if there is one; a waiting putter's element takes its place.
    mutating func get() -> GetAction {
        guard let element = buffer.popFirst() else { return isShutDown ? .shutDown : .empty }
        guard let putter = putters.popFirst() else { return .element(element, resumePutter: nil) }
        buffer.append(putter.element)
        unfinishedTasks += 1
        return .element(element, resumePutter: putter.waiter)
    }

    /// `get` for a task about to suspend: takes an element if there is one, else queues `getter`
    /// (`.empty`), unless the task is cancelled.
    mutating func get(id: Int, getter: Getter, isCancelled: Bool) -> GetAction {
        let action = get()
        guard case .empty = action else { return action }
        if isCancelled { return .cancelled }
        getters.append((id, getter))
        return .empty
    }

    /// `.done` when every element put has been marked done; else `.pending`.
    func join() -> JoinAction {
        unfinishedTasks == 0 ? .done : .pending
    }

    /// `join` for a task about to suspend: queues `waiter` while elements are unfinished.
    mutating func join(id: Int, waiter: Waiter, isCancelled: Bool) -> JoinAction {
        if unfinishedTasks == 0 { return .done }
        if isCancelled { return .cancelled }
        joiners.append((id, waiter))
        return .pending
    }

    /// Marks one element done; the last one releases the joiners.
    mutating func taskDone() -> TaskDoneAction {
        guard unfinishedTasks > 0 else { return .overflow }
        unfinishedTasks -= 1
        return .counted(resumeJoiners: takeJoinersIfDone())
    }

    /// Removes the getter `id` if it still waits (nil: it was served or failed already).
    mutating func cancelGet(_ id: Int) -> Getter? {
        guard let index = getters.firstIndex(where: { $0.id == id }) else { return nil }
        return getters.remove(at: index).getter
    }

    /// Removes the putter `id` if it still waits (its element is not added).
    mutating func cancelPut(_ id: Int) -> Waiter? {
        guard let index = putters.firstIndex(where: { $0.id == id }) else { return nil }
        return putters.remove(at: index).waiter
    }

    /// Removes the joiner `id` if it still waits.
    mutating func cancelJoin(_ id: Int) -> Waiter? {
        guard let index = joiners.firstIndex(where: { $0.id == id }) else { return nil }
        return joiners.remove(at: index).waiter
    }

    /// Shuts the queue down; `immediate` drops what is left (counted as done for `join`).
    mutating func shutdown(immediate: Bool) -> ShutdownAction {
        isShutDown = true
        if immediate {
            unfinishedTasks -= buffer.count
            buffer.removeAll()
        }
        // Getters wait only while the buffer is empty: none of them will get anything.
        let action = ShutdownAction(
            putters: putters.map(\.waiter), getters: getters.map(\.getter), joiners: takeJoinersIfDone())
        putters.removeAll()
        getters.removeAll()
        return action
    }

    private mutating func takeJoinersIfDone() -> [Waiter] {
        guard unfinishedTasks == 0, !joiners.isEmpty else { return [] }
        defer { joiners.removeAll() }
        return joiners.map(\.waiter)
    }
}

@available(*, unavailable, message: "a state machine is used under its owner's lock")
extension AsyncQueueStateMachine: Sendable {}
