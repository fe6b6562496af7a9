import NIOConcurrencyHelpers

/// An ``AsyncQueue``'s one lock and its state machine; suspends the calling task and resumes the
/// continuations the machine returns, outside the lock.
final class AsyncQueueStorage<Element: Sendable>: @unchecked Sendable {
    typealias Getter = CheckedContinuation<Element, any Error>
    typealias Waiter = CheckedContinuation<Void, any Error>
    typealias Machine = AsyncQueueStateMachine<Element, Getter, Waiter>

    // @unchecked Sendable: `machine` is only read or changed while `lock` is held.
    private let lock = NIOLock()
    private var machine: Machine

    init(maxSize: Int) {
        machine = Machine(maxSize: maxSize)
    }

    func withMachine<T>(_ body: (inout Machine) -> T) -> T {
        lock.withLock { body(&machine) }
    }

    func put(_ element: Element) async throws {
        let id: Int
        switch withMachine({ $0.put(element) }) {
        case .added(let getter):
            getter?.resume(returning: element)
            return
        case .shutDown:
            throw Self.shutDownError
        case .full, .cancelled:
            id = withMachine { $0.makeID() }
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                switch withMachine({ $0.put(element, id: id, waiter: continuation, isCancelled: Task.isCancelled) }) {
                case .added(let getter):
                    getter?.resume(returning: element)
                    continuation.resume()
                case .full:
                    break
                case .shutDown:
                    continuation.resume(throwing: Self.shutDownError)
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            withMachine { $0.cancelPut(id) }?.resume(throwing: CancellationError())
        }
    }

    func get() async throws -> Element {
        let id: Int
        switch withMachine({ $0.get() }) {
        case .element(let element, let putter):
            putter?.resume()
            return element
        case .shutDown:
            throw Self.shutDownError
        case .empty, .cancelled:
            id = withMachine { $0.makeID() }
        }
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Getter) in
                switch withMachine({ $0.get(id: id, getter: continuation, isCancelled: Task.isCancelled) }) {
                case .element(let element, let putter):
                    putter?.resume()
                    continuation.resume(returning: element)
                case .empty:
                    break
                case .shutDown:
                    continuation.resume(throwing: Self.shutDownError)
                case .cancelled:
                    continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            withMachine { $0.cancelGet(id) }?.resume(throwing: CancellationError())
        }
    }

    func join() async throws {
        guard case .pending = withMachine({ $0.join() }) else { return }
        let id = withMachine { $0.makeID() }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: Waiter) in
                switch withMachine({ $0.join(id: id, waiter: continuation, isCancelled: Task.isCancelled) }) {
                case .done: continuation.resume()
                case .pending: break
                case .cancelled: continuation.resume(throwing: CancellationError())
                }
            }
        } onCancel: {
            withMachine { $0.cancelJoin(id) }?.resume(throwing: CancellationError())
        }
    }

    static var shutDownError: SpindleError {
        SpindleError(.queueShutDown, "the queue was shut down")
    }
}
