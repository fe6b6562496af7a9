import DequeModule

/// The state of ``asCompleted(_:timeout:)`` and ``waitFor(_:timeout:returnWhen:)`` over a set of
/// futures, without locks or threads: completions arrive, consumers take them in arrival order,
/// a consumer that gives up (a timeout, a cancelled task) is withdrawn.
///
/// `Item` is what arrives (a future); `Waiter` is a consumer waiting for one. Tests use plain values.
struct CompletionStateMachine<Item: Hashable, Waiter> {
    /// What ``next(_:)`` decided.
    enum NextAction: Equatable {
        /// Take this item now.
        case ready(Item)
        /// Every item was handed out.
        case exhausted
        /// Registered under this id: ``arrive(_:)`` hands it an item, or ``expire(id:)`` withdraws it.
        case wait(id: Int)
    }

    let total: Int
    private(set) var handedOut = 0
    private var arrived = Deque<Item>()
    private var waiters = Deque<(id: Int, waiter: Waiter)>()
    private var nextWaiterID = 0
    private(set) var noted = Set<Item>()
    private(set) var anyFailed = false

    init(total: Int) {
        self.total = total
    }

    var hasMore: Bool { handedOut < total }
    var remainingCount: Int { total - handedOut }

    /// An item completed: returns the waiter to hand it to, or nil when it was kept for the next taker.
    mutating func arrive(_ item: Item) -> Waiter? {
        if let first = waiters.popFirst() {
            handedOut += 1
            return first.waiter
        }
        arrived.append(item)
        return nil
    }

    /// A consumer asks for the next item; `waiter` is kept only when it must wait.
    mutating func next(_ waiter: Waiter) -> NextAction {
        if let item = arrived.popFirst() {
            handedOut += 1
            return .ready(item)
        }
        guard handedOut + waiters.count < total else { return .exhausted }
        nextWaiterID += 1
        waiters.append((nextWaiterID, waiter))
        return .wait(id: nextWaiterID)
    }

    /// A waiting consumer gives up: returns it if it was still waiting; nil if an item was handed to it.
    mutating func expire(id: Int) -> Waiter? {
        guard let index = waiters.firstIndex(where: { $0.id == id }) else { return nil }
        return waiters.remove(at: index).waiter
    }

    /// Records an item handed out, for ``satisfies(_:)``.
    mutating func note(_ item: Item, failed: Bool) {
        noted.insert(item)
        if failed { anyFailed = true }
    }

    /// Whether `condition` holds for the items noted so far.
    func satisfies(_ condition: ReturnCondition) -> Bool {
        switch condition {
        case .firstCompleted: !noted.isEmpty || total == 0
        case .firstFailure: anyFailed || noted.count == total
        case .allCompleted: noted.count == total
        }
    }
}
