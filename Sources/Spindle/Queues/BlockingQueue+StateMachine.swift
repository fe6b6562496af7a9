import DequeModule

/// The logic of a ``BlockingQueue``, without threads, locks or clocks: each method changes the
/// state and returns what the caller must do (unpark these threads, report this error).
///
/// `Parker` is whatever wakes one waiting thread (a `ThreadParker` in the queue; a plain value in
/// tests). A thread that must wait registers its parker and gets an id; whoever serves it (a put
/// handing it an element, a get taking its element in, a shutdown) leaves the outcome under that
/// id and returns the parker to unpark. The woken thread — or one whose timeout passed — collects
/// its outcome with ``collect(_:)``: nil means nothing was handed to it, and it is no longer waiting.
///
/// Invariants: getters wait only while the buffer is empty; putters wait only while it is full;
/// joiners wait only while some element put is not yet marked done.
@usableFromInline
struct BlockingQueueStateMachine<Element, Parker> {
    /// What a parked thread was handed.
    @usableFromInline
    enum Outcome {
        /// A getter's element.
        case element(Element)
        /// A putter's element went in, or every task a joiner waited for is done.
        case served
        /// The queue was shut down while the thread waited.
        case shutDown
    }

    @usableFromInline
    enum Mode: Equatable { case open, shutDown, shutDownImmediately }

    @usableFromInline
    enum PutAction {
        /// The element is in the queue (or handed to a waiting getter, to unpark).
        case added(unpark: Parker?)
        /// Full, and the caller gave no parker: nothing changed.
        case full
        /// Full: the caller is registered as waiting under this id and must park.
        case wait(id: Int)
        case shutDown
    }

    @usableFromInline
    enum GetAction {
        /// The oldest element; a waiting putter whose element went in in its place, to unpark.
        case element(Element, unpark: Parker?)
        /// Empty, and the caller gave no parker: nothing changed.
        case empty
        /// Empty: the caller is registered as waiting under this id and must park.
        case wait(id: Int)
        /// Shut down, and nothing is left to take.
        case shutDown
    }

    @usableFromInline
    enum JoinAction {
        /// Every element put has been marked done.
        case done
        /// Some are not, and the caller gave no parker.
        case pending
        /// Some are not: the caller is registered as waiting under this id and must park.
        case wait(id: Int)
    }

    @usableFromInline
    enum TaskDoneAction {
        /// Counted; the joiners to unpark (those waiting for this last task).
        case counted(unpark: [Parker])
        /// More `taskDone` calls than elements put: nothing changed.
        case overflow
    }

    @usableFromInline let maxSize: Int
    @usableFromInline var buffer = Deque<Element>()
    @usableFromInline var getters = Deque<(id: Int, parker: Parker)>()
    @usableFromInline var putters = Deque<(id: Int, element: Element, parker: Parker)>()
    @usableFromInline var joiners: [(id: Int, parker: Parker)] = []
    /// Outcomes left for parked threads that have not collected them yet.
    @usableFromInline var outcomes: [Int: Outcome] = [:]
    /// Elements put (or handed over) and not yet marked done.
    @usableFromInline var unfinishedTasks = 0
    @usableFromInline var mode = Mode.open
    @usableFromInline var nextID = 0

    @usableFromInline
    init(maxSize: Int) {
        self.maxSize = maxSize
    }

    @inlinable var count: Int { buffer.count }
    @inlinable var waitingGetters: Int { getters.count }
    @inlinable var waitingPutters: Int { putters.count }
    @inlinable var waitingJoiners: Int { joiners.count }

    /// Adds `element` if there is room; when full, registers `parker` (if given) to wait for room.
    @inlinable
    mutating func put(_ element: Element, parker: Parker?) -> PutAction {
        guard mode == .open else { return .shutDown }
        if let getter = getters.popFirst() {
            unfinishedTasks += 1
            outcomes[getter.id] = .element(element)
            return .added(unpark: getter.parker)
        }
        if buffer.count < maxSize {
            buffer.append(element)
            unfinishedTasks += 1
            return .added(unpark: nil)
        }
        guard let parker else { return .full }
        let id = makeID()
        putters.append((id, element, parker))
        return .wait(id: id)
    }

    /// Takes the oldest element (a waiting putter's element takes its place); when empty,
    /// registers `parker` (if given) to wait for one.
    @inlinable
    mutating func get(parker: Parker?) -> GetAction {
        if let element = buffer.popFirst() {
            guard let putter = putters.popFirst() else { return .element(element, unpark: nil) }
            buffer.append(putter.element)
            unfinishedTasks += 1
            outcomes[putter.id] = .served
            return .element(element, unpark: putter.parker)
        }
        guard mode == .open else { return .shutDown }
        guard let parker else { return .empty }
        let id = makeID()
        getters.append((id, parker))
        return .wait(id: id)
    }

    /// Marks one element done; the last one releases the joiners.
    @inlinable
    mutating func taskDone() -> TaskDoneAction {
        guard unfinishedTasks > 0 else { return .overflow }
        unfinishedTasks -= 1
        return .counted(unpark: takeJoinersIfDone())
    }

    /// Returns `.done` when every element put has been marked done; otherwise registers `parker`
    /// (if given) to wait for it.
    @inlinable
    mutating func join(parker: Parker?) -> JoinAction {
        guard unfinishedTasks > 0 else { return .done }
        guard let parker else { return .pending }
        let id = makeID()
        joiners.append((id, parker))
        return .wait(id: id)
    }

    /// Shuts the queue down and returns the parkers to unpark: every waiting putter (its element
    /// is not added) and getter, and the joiners if `immediate` dropped the last unfinished elements.
    @inlinable
    mutating func shutdown(immediate: Bool) -> [Parker] {
        if mode != .shutDownImmediately { mode = immediate ? .shutDownImmediately : .shutDown }
        if immediate {
            unfinishedTasks -= buffer.count
            buffer.removeAll()
        }
        var unpark: [Parker] = []
        while let putter = putters.popFirst() {
            outcomes[putter.id] = .shutDown
            unpark.append(putter.parker)
        }
        // Getters wait only while the buffer is empty: none of them will get anything.
        while let getter = getters.popFirst() {
            outcomes[getter.id] = .shutDown
            unpark.append(getter.parker)
        }
        unpark.append(contentsOf: takeJoinersIfDone())
        return unpark
    }

    /// What the thread waiting under `id` was handed, once it is unparked or its timeout passed.
    /// Nil when nothing was (its timeout won): it no longer waits, and a putter's element was
    /// not added.
    @inlinable
    mutating func collect(_ id: Int) -> Outcome? {
        if let outcome = outcomes.removeValue(forKey: id) { return outcome }
        if let index = getters.firstIndex(where: { $0.id == id }) {
            getters.remove(at: index)
        } else if let index = putters.firstIndex(where: { $0.id == id }) {
            putters.remove(at: index)
        } else if let index = joiners.firstIndex(where: { $0.id == id }) {
            joiners.remove(at: index)
        }
        return nil
    }

    @inlinable
    mutating func takeJoinersIfDone() -> [Parker] {
        guard unfinishedTasks == 0, !joiners.isEmpty else { return [] }
        let woken = joiners
        joiners.removeAll()
        for joiner in woken { outcomes[joiner.id] = .served }
        return woken.map(\.parker)
    }

    @inlinable
    mutating func makeID() -> Int {
        nextID += 1
        return nextID
    }
}

@available(*, unavailable, message: "a state machine is used under its owner's lock")
extension BlockingQueueStateMachine: Sendable {}
