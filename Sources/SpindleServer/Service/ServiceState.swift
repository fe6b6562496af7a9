import Foundation
import Hummingbird
import Logging
import Spindle

/// What the web service's handlers share: the configuration, the pools and the metrics, and
/// the work behind each route.
final class ServiceState: Sendable {
    let configuration: ServiceConfiguration
    let pools: ServicePools
    let metrics: ServiceMetrics
    let logger: Logger

    /// Holds slow work until a test opens it; nil outside tests.
    let hold: ServiceHold?

    init(configuration: ServiceConfiguration, logger: Logger, hold: ServiceHold? = nil) throws {
        self.configuration = configuration
        self.logger = logger
        self.hold = hold
        pools = try ServicePools(configuration: configuration, logger: logger)
        metrics = ServiceMetrics(pools: pools)
    }

    // MARK: - GET /: the course's three reads

    /// How `GET /` runs its three reads.
    enum ReadDesign: String {
        /// Three child tasks that sleep without holding a thread (the default).
        case async
        /// The course's literal design: three blocking sleeps on a thread pool.
        case threads
    }

    /// The three reads at once, without holding a thread: about as long as the longest.
    ///
    /// The reads carry the request's deadline themselves (a read that would end after it sleeps
    /// until the deadline and fails), so this route needs no racing timer task: at thousands
    /// of requests a second that task and its timer were a large share of the work.
    func readConcurrently() async throws -> Response {
        let deadline = ContinuousClock.now + configuration.deadline
        async let file = read("file result", after: configuration.fileWait, deadline: deadline)
        async let db = read("db result", after: configuration.dbWait, deadline: deadline)
        async let api = read("api result", after: configuration.apiWait, deadline: deadline)
        return try Self.readsResponse(file: try await file, db: try await db, api: try await api)
    }

    /// The three reads one after another: the course's "before", as long as all three together.
    func readSequentially() async throws -> Response {
        let deadline = ContinuousClock.now + configuration.deadline
        let file = try await read("file result", after: configuration.fileWait, deadline: deadline)
        let db = try await read("db result", after: configuration.dbWait, deadline: deadline)
        let api = try await read("api result", after: configuration.apiWait, deadline: deadline)
        return try Self.readsResponse(file: file, db: db, api: api)
    }

    /// The course's Flask design: each read blocks a thread of a `ThreadPoolExecutor` while it
    /// sleeps, so the pool's size caps how many reads can wait at once.
    func readOnThreadPool() async throws -> Response {
        var futures: [Future<String>] = []
        do {
            for (result, wait) in [("file result", configuration.fileWait), ("db result", configuration.dbWait), ("api result", configuration.apiWait)] {
                futures.append(try pools.io.trySubmit { Self.blockingRead(result, after: wait) })
            }
        } catch {
            pools.cancel(futures)
            throw ServiceRequestError.poolFailure(error, doing: "reading on the thread pool")
        }
        let values = try await awaitPoolWork(futures, doing: "reading on the thread pool")
        return try Self.readsResponse(file: values[0], db: values[1], api: values[2])
    }

    /// A simulated read: `result` after `wait`, or 504 at `deadline` if it would end later.
    private func read(_ result: String, after wait: Duration, deadline: ContinuousClock.Instant) async throws -> String {
        let end = ContinuousClock.now + wait
        guard end <= deadline else {
            try await Task.sleep(until: deadline)
            throw ServiceRequestError.deadlineExceeded(configuration.deadline)
        }
        try await Task.sleep(until: end)
        await hold?.wait()
        return result
    }

    private static func blockingRead(_ result: String, after wait: Duration) -> String {
        Thread.sleep(forTimeInterval: wait.seconds)
        return result
    }

    /// `{"result_file":"file result","result_db":"db result","result_api":"api result"}`.
    /// Compact, as Flask's `jsonify` writes it.
    private static func readsResponse(file: String, db: String, api: String) throws -> Response {
        try .json(ReadResults(resultFile: file, resultDB: db, resultAPI: api), separators: .compact)
    }

    private struct ReadResults: Encodable {
        var resultFile: String
        var resultDB: String
        var resultAPI: String

        enum CodingKeys: String, CodingKey {
            case resultFile = "result_file", resultDB = "result_db", resultAPI = "result_api"
        }
    }

    // MARK: - GET /is_prime/{numbers}

    /// Answers whether each number is prime, as the course's Flask route does.
    ///
    /// - Parameters:
    ///   - text: the comma-separated numbers, percent-decoded.
    ///   - method: nil or `trial-division` (on the CPU pool), or `miller-rabin` (inline).
    func isPrime(_ text: Substring, method: String?) async throws -> Response {
        let list = try NumberList(parsing: text, maxNumbers: configuration.maxNumbers)
        let results: [Bool]
        switch method.map(PrimalityMethod.init(rawValue:)) {
        case nil, .trialDivision?:
            results = try await checkByTrialDivision(list.numbers)
        case .millerRabin?:
            results = await checkInline(list.numbers)
        case .some(nil):
            throw ServiceRequestError.badRequest(
                "unknown method: use \(PrimalityMethod.allCases.map(\.rawValue).joined(separator: " or "))",
                item: method)
        }
        return try .json(PrimalityAnswers(numbers: list.numbers, results: results))
    }

    /// Trial division: inline for a list cheaper than ``ServiceConfiguration/inlineDivisions``;
    /// else on the CPU pool within the request's deadline (see ``checkOnPool(_:)``).
    private func checkByTrialDivision(_ numbers: [UInt64]) async throws -> [Bool] {
        let limit = configuration.inlineDivisions
        if limit > 0, Self.totalCost(of: numbers, atMost: limit) <= limit {
            return numbers.map(isPrimeTrialDivision)
        }
        return try await withinDeadline { try await self.checkOnPool(numbers) }
    }

    /// Trial division on the CPU pool: one task for a cheap list, one per worker for a costly
    /// one, with the numbers spread so each worker gets about the same number of divisions.
    private func checkOnPool(_ numbers: [UInt64]) async throws -> [Bool] {
        let chunks = Self.chunks(of: numbers, workers: configuration.cpuWorkers)
        var futures: [Future<[Bool]>] = []
        do {
            try pools.admitCPUWork()
            for chunk in chunks {
                futures.append(try pools.submitIsPrime(chunk.map { numbers[$0] }))
            }
        } catch {
            pools.cancel(futures)
            throw ServiceRequestError.poolFailure(error, doing: "checking the numbers")
        }
        let answers = try await awaitPoolWork(futures, doing: "checking the numbers")
        var results = [Bool](repeating: false, count: numbers.count)
        for (chunk, answer) in zip(chunks, answers) {
            for (index, isPrime) in zip(chunk, answer) { results[index] = isPrime }
        }
        return results
    }

    /// Miller–Rabin on this task: microseconds a number; yields now and then so a long list
    /// does not hold a cooperative thread for long.
    private func checkInline(_ numbers: [UInt64]) async -> [Bool] {
        var results: [Bool] = []
        results.reserveCapacity(numbers.count)
        for (index, number) in numbers.enumerated() {
            if index > 0, index % 64 == 0 { await Task.yield() }
            results.append(isPrimeMillerRabin(number))
        }
        return results
    }

    /// Below this many divisions in all, a list is one task: spreading it would cost more in
    /// messages than it saves.
    static let spreadThreshold: UInt64 = 1 << 18

    /// The summed worst-case trial-division cost of `numbers`, counted only until it passes `limit`.
    static func totalCost(of numbers: [UInt64], atMost limit: UInt64) -> UInt64 {
        var total: UInt64 = 0
        for number in numbers {
            total &+= trialDivisionCost(number)
            if total > limit { break }
        }
        return total
    }

    /// Indices of `numbers` in at most `workers` groups of about equal cost (largest first,
    /// each to the cheapest group so far), each group in input order.
    static func chunks(of numbers: [UInt64], workers: Int) -> [[Int]] {
        let costs = numbers.map(trialDivisionCost)
        let total = costs.reduce(0, &+)
        let groups = min(workers, numbers.count)
        guard groups > 1, total >= spreadThreshold else { return [Array(numbers.indices)] }
        var chunks = [[Int]](repeating: [], count: groups)
        var loads = [UInt64](repeating: 0, count: groups)
        for index in numbers.indices.sorted(by: { costs[$0] > costs[$1] }) {
            let lightest = loads.indices.min { loads[$0] < loads[$1] }!
            chunks[lightest].append(index)
            loads[lightest] &+= costs[index]
        }
        return chunks.filter { !$0.isEmpty }.map { $0.sorted() }
    }

    // MARK: - Debug routes

    /// Holds a CPU worker for `milliseconds`: `{"slept_ms": N}`.
    func sleepOnPool(milliseconds: Int) async throws -> Response {
        let future: Future<Int>
        do {
            future = try pools.submitSleep(milliseconds: milliseconds)
        } catch {
            throw ServiceRequestError.poolFailure(error, doing: "sleeping on the pool")
        }
        let slept = try await awaitPoolWork([future], doing: "sleeping on the pool")[0]
        return try .json(["slept_ms": slept])
    }

    /// Runs ``HoldJob`` until the test opens the hold: `{"held": true}`.
    func holdOnPool(gateFile: String) async throws -> Response {
        let future: Future<Bool>
        do {
            future = try pools.submitHold(gateFile: gateFile)
        } catch {
            throw ServiceRequestError.poolFailure(error, doing: "holding a worker")
        }
        let released = try await awaitPoolWork([future], doing: "holding a worker")[0]
        return try .json(["held": released])
    }

    /// Runs ``CrashJob``: its worker dies and the request is answered 500.
    func crashWorker() async throws -> Response {
        let future: Future<Bool>
        do {
            guard let submitted = try pools.submitCrash() else {
                throw ServiceRequestError(status: .notFound, message: "there are no worker processes to crash")
            }
            future = submitted
        } catch {
            throw ServiceRequestError.poolFailure(error, doing: "running the crash job")
        }
        _ = try await awaitPoolWork([future], doing: "running the crash job")
        return try .json(["crashed": false])
    }

    // MARK: - Deadline and pool errors

    /// The futures' values; pool failures become the matching error response. Cancelling the
    /// task (the deadline) cancels the work that has not started.
    private func awaitPoolWork<T: Sendable>(_ futures: [Future<T>], doing what: String) async throws -> [T] {
        do {
            return try await pools.values(of: futures)
        } catch let error as CancellationError {
            throw error
        } catch where Task.isCancelled {
            // The deadline passed and cancelled the work: the 504 says so, this is no failure.
            throw CancellationError()
        } catch {
            pools.cancel(futures)
            let failure = ServiceRequestError.poolFailure(error, doing: what)
            if failure.status == .internalServerError {
                logger.error("\(what) failed", metadata: ["error": "\(error)"])
            }
            throw failure
        }
    }

    /// Runs `body`, answering 504 if it has not finished within the configured deadline; `body`
    /// is then cancelled (and with it the pool work it has queued).
    func withinDeadline<T: Sendable>(_ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let deadline = configuration.deadline
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: deadline)
                return nil
            }
            defer { group.cancelAll() }
            if let value = try await group.next()! {
                return value
            }
            throw ServiceRequestError.deadlineExceeded(deadline)
        }
    }
}
