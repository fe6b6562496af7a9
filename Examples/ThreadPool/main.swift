import Spindle

// A thread pool from synchronous code, as Python's ThreadPoolExecutor: submit work, get
// futures, take them as they complete; or map in input order.
let pool = ThreadPoolExecutor(maxWorkers: 4)

let futures = try (1...5).map { n in
    try pool.submit { n * n }
}
var total = 0
let completed = asCompleted(futures)
while let future = try completed.next() {
    total += try future.result()
}
print("sum of squares, as completed: \(total)")

let squares = try pool.map(1...5) { $0 * $0 }.collect()
print("squares, in input order: \(squares)")

pool.shutdown()
