import Foundation
import NIOConcurrencyHelpers
import Spindle
import SpindleServer

extension TourSections {
    static let whyConcurrency = TourSection(title: "Why concurrency: CPU-bound and I/O-bound work") { tour in
        tour.say("""
            The course opens with two kinds of work. I/O-bound work mostly waits (for a disk, a \
            database, a web server); CPU-bound work keeps a core busy. Waiting can overlap with \
            other waiting on any number of threads or tasks; computing can only overlap with \
            computing on another core. This machine has \(ProcessInfo.processInfo.activeProcessorCount) cores.
            """)
        let waits = 10
        let wait = tour.quick ? Duration.milliseconds(20) : .milliseconds(100)
        let (_, oneByOne) = try await tour.time {
            for _ in 0..<waits { try await Task.sleep(for: wait) }
        }
        let (_, together) = try await tour.time {
            _ = try await Array(0..<waits).concurrentMap(maxConcurrency: waits) { _ in try await Task.sleep(for: wait) }
        }
        tour.line("  \(waits) waits of \(tour.format(wait)): one after another \(tour.format(oneByOne)), all at once \(tour.format(together))")
        let number: UInt64 = 112_272_535_095_293
        let count = tour.quick ? 4 : 20
        let (_, seq) = await tour.time { _ = (0..<count).map { _ in isPrimeTrialDivision(number) } }
        let (_, par) = try await tour.time {
            _ = try await Array(0..<count).concurrentMap(maxConcurrency: ProcessInfo.processInfo.activeProcessorCount) { _ in
                isPrimeTrialDivision(number)
            }
        }
        tour.line("  \(count) prime checks: one after another \(tour.format(seq)), on every core \(tour.format(par))")
        tour.record("io.overlap_speedup", oneByOne.seconds / together.seconds)
        tour.record("cpu.parallel_speedup", seq.seconds / par.seconds)
        guard together < oneByOne else { throw TourCheckFailed("waiting together was not faster than one after another") }
    }

    static let producerConsumer = TourSection(title: "Producer-consumer on a bounded queue") { tour in
        tour.say("""
            The course's pipeline crawler joins fetcher threads and parser threads with a \
            queue.Queue, printing its size as it goes. BlockingQueue is that queue for threads, \
            bounded so a fast producer waits instead of filling memory; AsyncQueue is the same \
            for tasks.
            """)
        let queue = BlockingQueue<Int>(maxSize: 4)
        let items = tour.quick ? 8 : 16
        let sizes = try await withThreadPool(maxWorkers: 2) { pool -> [Int] in
            let producer = try pool.trySubmit { () throws -> Void in
                for i in 0..<items { try queue.put(i) }
                queue.shutdown()
            }
            let consumer = try pool.trySubmit { () throws -> [Int] in
                var seen: [Int] = []
                while let item = try? queue.get() {
                    seen.append(queue.count)
                    _ = item
                    usleep(2_000)  // the parser is slower than the fetcher
                    try queue.taskDone()
                }
                return seen
            }
            try await producer.value
            return try await consumer.value
        }
        tour.line("  queue size seen by the consumer after each get: \(sizes.map(String.init).joined(separator: " "))")
        tour.line("  never above the bound of \(queue.maxSize): the producer waited for room")
        guard sizes.count == items, sizes.allSatisfy({ $0 <= 4 }) else { throw TourCheckFailed("the queue passed its bound or lost items") }
    }

    static let lock = TourSection(title: "Thread safety: the bank-account race and the lock") { tour in
        tour.say("""
            Two threads each withdraw 800 from an account of 1000. Each checks the balance, waits \
            a moment, then withdraws: without a lock both pass the check. `spindle bank --no-lock` \
            and `spindle bank --lock` run it.
            """)
        let race = BankRace(balance: 1000, amount: 800, threads: 2, window: tour.quick ? .milliseconds(20) : .milliseconds(100))
        let unlocked = race.run(locked: false) { tour.line("  [no lock] \($0)") }
        let locked = race.run(locked: true) { tour.line("  [lock]    \($0)") }
        tour.line("  without the lock the balance ends at \(unlocked.finalBalance); with it, \(locked.finalBalance)")
        guard unlocked.finalBalance < 0, locked.finalBalance == 200, locked.successes == 1 else {
            throw TourCheckFailed("expected a negative balance without the lock and 200 with it")
        }
    }

    static let threadPool = TourSection(title: "The thread pool: map, submit + asCompleted, done callbacks") { tour in
        tour.say("""
            ThreadPoolExecutor is Python's concurrent.futures pool for Swift: `map` gives results \
            in input order, `asCompleted` in the order they finish, and `onComplete` callbacks run \
            as each finishes. Tasks here sleep 40, 10, 30 and 20 ms.
            """)
        let sleeps = [40, 10, 30, 20]
        try await withThreadPool(maxWorkers: 4) { pool in
            let futures = try sleeps.map { ms in try pool.trySubmit { usleep(UInt32(ms) * 1000); return ms } }
            var mapOrder: [Int] = []
            for future in futures { mapOrder.append(try await future.value) }
            tour.line("  map order (input order):           \(mapOrder)")

            let again = try sleeps.map { ms in try pool.trySubmit { usleep(UInt32(ms) * 1000); return ms } }
            var completionOrder: [Int] = []
            for try await future in asCompleted(again) { completionOrder.append(try await future.value) }
            tour.line("  asCompleted order (finish order):  \(completionOrder)")

            let callbackOrder = CallbackLog()
            let third = try sleeps.map { ms in try pool.trySubmit { usleep(UInt32(ms) * 1000); return ms } }
            for future in third { future.onComplete { done in callbackOrder.append(try done.result()) } }
            _ = await waitFor(third)
            tour.line("  done-callback order:               \(callbackOrder.values)")
            guard mapOrder == sleeps, completionOrder == sleeps.sorted() else {
                throw TourCheckFailed("completion order did not differ from submit order as expected")
            }
        }
    }

    static let cpuComparison = TourSection(title: "CPU-bound work: threads, processes, async tasks") { tour in
        tour.say("""
            The course checks is_prime(112272535095293) a hundred times with one thread, a thread \
            pool and a process pool. In CPython the GIL keeps the thread pool at the speed of one \
            thread and only processes help. In Swift there is no GIL: threads and async tasks run \
            CPU work on every core; processes do too, but cost more to start and to talk to, and \
            what they buy is isolation (a crash takes down a worker, not the program). \
            `spindle primes` runs this.
            """)
        let count = tour.quick ? 8 : 40
        let comparison = try await PrimesComparison(count: count, number: 112_272_535_095_293).run(PrimesModel.allCases)
        for line in comparison.table().split(separator: "\n") { tour.line("  \(line)") }
        for result in comparison.results {
            tour.record("primes.\(result.model.rawValue).speedup", result.speedup ?? 1)
        }
    }

    static let decisionChart = TourSection(title: "The decision chart, measured") { tour in
        tour.say("The course ends with a chart: CPU-bound → processes, I/O-bound → threads or coroutines. Filled in with this run:")
        func figure(_ key: String, _ format: String = "%.2fx") -> String {
            tour.measurement(key).map { String(format: format, $0) } ?? "not measured"
        }
        let rows = [
            ["work", "course (CPython)", "Spindle (measured now)"],
            ["CPU-bound", "processes (GIL blocks threads)", "threads \(figure("primes.threads.speedup")), async \(figure("primes.async.speedup")), processes \(figure("primes.processes.speedup")) over one thread"],
            ["I/O-bound, many waits", "threads, or asyncio", "async tasks: \(figure("io.overlap_speedup")) for 10 overlapped waits"],
            ["I/O crawl", "thread pool or asyncio + Semaphore", "async crawler: \(figure("crawl.async.speedup")) over sequential"],
            ["serve fan-out", "thread pool per request", "async fan-out: / answered in \(figure("serve.root_seconds", "%.3f s"))"],
        ]
        for line in TextTable(rows).render().split(separator: "\n") { tour.line("  \(line)") }
        tour.say("""
            In Swift the choice is less about the GIL and more about what the work needs: async \
            tasks for waiting, a thread pool for blocking calls that must stay off the cooperative \
            pool, and processes when a crash or a leak must not take the program down.
            """)
    }
}

/// Collects values from done callbacks, which run on pool threads.
final class CallbackLog: Sendable {
    private let items = NIOLockedValueBox<[Int]>([])
    func append(_ value: Int) { items.withLockedValue { $0.append(value) } }
    var values: [Int] { items.withLockedValue { $0 } }
}
