import Spindle

// CPU work in other processes. The workers are this executable started again: they run only
// the jobs it registers, by name, with Codable input and output.
struct IsPrime: ProcessJob {
    static let name = "is-prime"
    static func run(_ n: UInt64) throws -> Bool {
        guard n >= 2 else { return false }
        var divisor: UInt64 = 2
        while divisor <= n / divisor {
            if n % divisor == 0 { return false }
            divisor += 1
        }
        return true
    }
}

// First line of main: in a worker, this runs the registered jobs and never returns.
ProcessPool.runWorkerIfRequested(jobs: [IsPrime.self])

let numbers: [UInt64] = [2, 97, 100, 112_272_535_095_293]
let answers = try await withProcessPool(configuration: .init(maxWorkers: 2)) { pool in
    try await pool.map(IsPrime.self, numbers).collect()
}
for (n, prime) in zip(numbers, answers) {
    print("\(n) is \(prime ? "prime" : "not prime")")
}
