import Synchronization

/// A bounded multi-producer, multi-consumer ring of elements that never takes a lock: the fast
/// path of ``BlockingQueue`` and of the thread pool's work queue (Dmitry Vyukov's bounded MPMC
/// queue: each slot carries a sequence number that says whose turn it is). A slot is free for the
/// producer of position `p` when its sequence is `2p`, and holds that producer's element when it
/// is `2p + 1` (doubling keeps the two apart even with one slot).
///
/// `close()` sets a bit in the enqueue position, so a producer's claim and the close are ordered
/// by one atomic: once closed, nothing more is claimed, and the ring is drained exactly when every
/// claimed position has been taken.
///
/// `tryEnqueue` and `tryDequeue` never wait. They may report full or empty for a moment while
/// another thread is between claiming a slot and publishing it; callers that wait must therefore
/// re-check after registering as waiters, and whoever publishes must wake waiters afterwards.
@usableFromInline
final class BoundedRing<Element>: @unchecked Sendable {
    @usableFromInline let capacity: Int

    // Each position on its own cache line: producers hammer one, consumers the other.
    @usableFromInline let positions = CacheLineAtomics(lines: 2)
    @inlinable var enqueuePosition: UnsafeMutablePointer<Atomic<Int>> { positions[0] }
    @inlinable var dequeuePosition: UnsafeMutablePointer<Atomic<Int>> { positions[1] }
    @usableFromInline let sequences: UnsafeMutablePointer<Atomic<Int>>
    @usableFromInline let slots: UnsafeMutablePointer<Element>

    @usableFromInline
    init(capacity: Int) {
        precondition(capacity >= 1)
        self.capacity = capacity
        sequences = .allocate(capacity: capacity)
        for index in 0..<capacity { (sequences + index).initialize(to: Atomic(2 * index)) }
        slots = .allocate(capacity: capacity)
    }

    deinit {
        while tryDequeue() != nil {}
        sequences.deinitialize(count: capacity)
        sequences.deallocate()
        slots.deallocate()
    }

    /// Elements in the ring now (a snapshot: others may be adding and taking meanwhile).
    @inlinable
    var count: Int {
        let taken = dequeuePosition.pointee.load(ordering: .acquiring)
        return min(capacity, max(0, claimedCount - taken))
    }

    /// The bit of the enqueue position that says the ring is closed.
    @inlinable static var closedBit: Int { 1 << 62 }

    /// Positions producers have claimed since the ring was made: every element ever added, and
    /// those being added right now.
    @inlinable
    var claimedCount: Int { enqueuePosition.pointee.load(ordering: .sequentiallyConsistent) & ~Self.closedBit }

    /// Stops further adds: `tryEnqueue` returns `.closed` from now on.
    @usableFromInline
    func close() {
        enqueuePosition.pointee.bitwiseOr(Self.closedBit, ordering: .sequentiallyConsistent)
    }

    /// True once closed and every element added has been taken (none is being added either).
    @inlinable
    var isDrained: Bool {
        let claimed = enqueuePosition.pointee.load(ordering: .sequentiallyConsistent)
        guard claimed & Self.closedBit != 0 else { return false }
        return dequeuePosition.pointee.load(ordering: .sequentiallyConsistent) == claimed & ~Self.closedBit
    }

    /// What `tryEnqueue` did.
    @usableFromInline
    enum EnqueueOutcome {
        case added, full, closed
    }

    /// Adds `element` unless the ring is full or closed (then it keeps nothing).
    @inlinable @inline(__always)
    func tryEnqueue(_ element: Element) -> EnqueueOutcome {
        var position = enqueuePosition.pointee.load(ordering: .relaxed)
        var slot: Int
        while true {
            if position & Self.closedBit != 0 { return .closed }
            slot = position % capacity
            let sequence = sequences[slot].load(ordering: .acquiring)
            if sequence == 2 &* position {
                let (exchanged, current) = enqueuePosition.pointee.weakCompareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed)
                if exchanged { break }
                position = current
            } else if sequence < 2 &* position {
                return .full  // the slot still holds last lap's element
            } else {
                position = enqueuePosition.pointee.load(ordering: .relaxed)
            }
        }
        (slots + slot).initialize(to: element)
        sequences[slot].store(2 &* position &+ 1, ordering: .releasing)
        return .added
    }

    /// Removes and returns the oldest element, or nil when the ring is empty.
    @inlinable @inline(__always)
    func tryDequeue() -> Element? {
        var position = dequeuePosition.pointee.load(ordering: .relaxed)
        var slot: Int
        while true {
            slot = position % capacity
            let sequence = sequences[slot].load(ordering: .acquiring)
            if sequence == 2 &* position &+ 1 {
                let (exchanged, current) = dequeuePosition.pointee.weakCompareExchange(
                    expected: position, desired: position &+ 1, ordering: .relaxed)
                if exchanged { break }
                position = current
            } else if sequence < 2 &* position &+ 1 {
                return nil  // not yet published: empty
            } else {
                position = dequeuePosition.pointee.load(ordering: .relaxed)
            }
        }
        let element = (slots + slot).move()
        sequences[slot].store(2 &* (position &+ capacity), ordering: .releasing)
        return element
    }
}

/// Atomic integers laid out so that the ones on different lines never share a cache line: a
/// thread writing one does not slow down threads reading another. All start at zero.
@usableFromInline
final class CacheLineAtomics: @unchecked Sendable {
    @inlinable static var lineSize: Int { 128 }
    @usableFromInline let base: UnsafeMutableRawPointer
    @usableFromInline let lines: Int

    @usableFromInline
    init(lines: Int) {
        self.lines = lines
        base = .allocate(byteCount: lines * Self.lineSize, alignment: Self.lineSize)
        let count = lines * Self.lineSize / MemoryLayout<Atomic<Int>>.stride
        let atomics = base.bindMemory(to: Atomic<Int>.self, capacity: count)
        for index in 0..<count { (atomics + index).initialize(to: Atomic(0)) }
    }

    deinit {
        base.assumingMemoryBound(to: Atomic<Int>.self)
            .deinitialize(count: lines * Self.lineSize / MemoryLayout<Atomic<Int>>.stride)
        base.deallocate()
    }

    /// The `slot`th atomic (0..<8) of cache line `line`.
    @inlinable @inline(__always)
    subscript(line: Int, slot: Int = 0) -> UnsafeMutablePointer<Atomic<Int>> {
        (base + line * Self.lineSize).assumingMemoryBound(to: Atomic<Int>.self) + slot
    }
}
