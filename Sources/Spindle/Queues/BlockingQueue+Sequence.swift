extension BlockingQueue: Sequence {
    /// Blocking gets, one per `next()`, until the queue is shut down and drained.
    public struct Iterator: IteratorProtocol {
        let queue: BlockingQueue

        /// The oldest element, waiting while the queue is empty; nil once it is shut down and empty.
        public mutating func next() -> Element? {
            // Without a timeout, `get` throws only `queueShutDown`.
            try? queue.storage.get(timeout: nil)
        }
    }

    /// Iterates by taking elements: each one is removed from the queue, as by ``get(timeout:)``.
    /// Call it from a thread, not from async code (each step blocks).
    @available(*, noasync, message: "blocks a thread: iterate an AsyncQueue with for-await in async code")
    public func makeIterator() -> Iterator {
        Iterator(queue: self)
    }
}
