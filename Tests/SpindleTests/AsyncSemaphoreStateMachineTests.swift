import PropertyBased
import Testing

@testable import Spindle

/// `AsyncSemaphore`'s state machine, driven without tasks: waiters are plain numbers.
@Suite("AsyncSemaphore state machine")
struct AsyncSemaphoreStateMachineTests {
    typealias Machine = AsyncSemaphoreStateMachine<Int>

    @Test("acquire takes free permits, then waiters queue; release serves them first come, first served")
    func acquireAndRelease() {
        var machine = Machine(permits: 1)
        let first = machine.tryAcquire(), second = machine.tryAcquire()
        #expect(first && !second)
        #expect(describe(machine.acquire(id: 1, waiter: 10, isCancelled: false)) == "suspended")
        #expect(describe(machine.acquire(id: 2, waiter: 11, isCancelled: false)) == "suspended")
        #expect(machine.waitingCount == 2)
        #expect(machine.release() == 10)
        #expect(machine.release() == 11)
        #expect(machine.permits == 0)
        #expect(machine.release() == nil)
        #expect(machine.permits == 1)
        #expect(describe(machine.acquire(id: 3, waiter: 12, isCancelled: true)) == "acquired")  // a free permit wins
    }

    @Test("a free permit is not taken by a newcomer while others wait")
    func noOvertaking() {
        var machine = Machine(permits: 0)
        _ = machine.acquire(id: 1, waiter: 10, isCancelled: false)
        #expect(machine.release() == 10)
        _ = machine.acquire(id: 2, waiter: 11, isCancelled: false)
        let acquired = machine.tryAcquire()
        #expect(!acquired)
        #expect(machine.permits == 0)
    }

    @Test("cancellation: a cancelled task does not queue; a waiter is removed once, never after being served")
    func cancellation() {
        var machine = Machine(permits: 0)
        #expect(describe(machine.acquire(id: 1, waiter: 10, isCancelled: true)) == "cancelled")
        #expect(machine.waitingCount == 0)
        _ = machine.acquire(id: 2, waiter: 11, isCancelled: false)
        _ = machine.acquire(id: 3, waiter: 12, isCancelled: false)
        #expect(machine.cancel(2) == 11)
        #expect(machine.cancel(2) == nil)
        #expect(machine.release() == 12)
        #expect(machine.cancel(3) == nil)  // served first: it keeps the permit
        #expect(machine.permits == 0 && machine.waitingCount == 0)
    }

    @Test("random acquires, cancellations and releases never lose or invent a permit")
    func permitsAreConserved() async {
        await propertyCheck(count: 300, input: Gen.int(in: 0...3), Gen.int(in: 0...39).array(of: 1...80)) {
            initial, operations in
            var machine = Machine(permits: initial)
            var holders = 0
            var waiting: [Int] = []  // the model: ids waiting, in order
            for (step, code) in operations.enumerated() {
                let arg = code / 4
                switch code % 4 {
                case 0:
                    if machine.tryAcquire() { holders += 1 }
                case 1:
                    switch machine.acquire(id: step, waiter: step, isCancelled: arg % 4 == 0) {
                    case .acquired: holders += 1
                    case .cancelled: #expect(arg % 4 == 0)
                    case .suspended: waiting.append(step)
                    }
                case 2:
                    guard !waiting.isEmpty else { continue }
                    let id = waiting.remove(at: arg % waiting.count)
                    #expect(machine.cancel(id) == id)
                default:
                    guard holders > 0 else { continue }
                    holders -= 1
                    if let served = machine.release() {
                        #expect(served == waiting.removeFirst())
                        holders += 1
                    }
                }
                #expect(machine.permits + holders == initial)
                #expect(machine.waitingCount == waiting.count)
                #expect(machine.waitingCount == 0 || machine.permits == 0)
            }
        }
    }
}

private func describe(_ action: AsyncSemaphoreStateMachine<Int>.AcquireAction) -> String {
    switch action {
    case .acquired: "acquired"
    case .cancelled: "cancelled"
    case .suspended: "suspended"
    }
}
