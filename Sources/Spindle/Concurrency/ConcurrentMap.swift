extension Sequence where Element: Sendable {
    /// Transforms every element with at most `maxConcurrency` transforms running at once, and
    /// returns the results in input order.
    ///
    /// Child tasks start as earlier ones finish (a sliding window), so a long sequence never
    /// creates more than `maxConcurrency` tasks at once. The first error cancels the transforms
    /// still running and is rethrown.
    public func concurrentMap<T: Sendable>(
        maxConcurrency: Int,
        _ transform: @escaping @Sendable (Element) async throws -> T
    ) async throws -> [T] {
        precondition(maxConcurrency >= 1, "concurrentMap needs maxConcurrency >= 1, got \(maxConcurrency)")
        return try await withThrowingTaskGroup(of: (Int, T).self) { group in
            var results: [T?] = []
            var iterator = makeIterator()
            var index = 0
            var running = 0
            while running < maxConcurrency, let element = iterator.next() {
                let position = index
                group.addTask { (position, try await transform(element)) }
                results.append(nil)
                index += 1
                running += 1
            }
            while let (position, value) = try await group.next() {
                results[position] = value
                if let element = iterator.next() {
                    let next = index
                    group.addTask { (next, try await transform(element)) }
                    results.append(nil)
                    index += 1
                }
            }
            return results.map { $0! }
        }
    }
}
