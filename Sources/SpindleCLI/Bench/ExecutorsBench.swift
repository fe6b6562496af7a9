import ArgumentParser
import Foundation
import Spindle

/// `spindle bench executors`: the thread pool and the blocking queue against CPython's.
struct ExecutorsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "executors",
        abstract: "ThreadPoolExecutor and BlockingQueue against CPython's ThreadPoolExecutor and queue.Queue.",
        discussion: """
            thread_pool.submit_wait: submit N no-op tasks to a pool of default size, then wait for \
            all of them; µs per task. blocking_queue.1x1 / 4x4: items per second through a queue \
            of 1,024 with 1 producer and 1 consumer, and with 4 and 4. CPython runs the same \
            (bench/python/executors.py) in the same run. Each figure is the median of --runs.
            """
    )

    @OptionGroup var options: BenchOptions

    @Option(help: "No-op tasks per thread-pool run.")
    var tasks = 200_000

    @Option(help: "Items per queue run.")
    var items = 2_000_000

    @Option(help: "Runs per figure; the median is reported.")
    var runs = 5

    func validate() throws {
        guard tasks >= 100, items >= 1000, runs >= 1 else {
            throw ValidationError("--tasks must be at least 100, --items at least 1000 and --runs at least 1")
        }
    }

    func run() throws {
        let submitWait = median((0..<runs).map { _ in Self.submitWait(tasks: tasks) })
        let oneByOne = median((0..<runs).map { _ in Self.queueThroughput(items: items, producers: 1, consumers: 1) })
        let fourByFour = median((0..<runs).map { _ in Self.queueThroughput(items: items, producers: 4, consumers: 4) })

        // CPython is ~50x slower: smaller counts keep its run short without changing its per-item cost.
        let python = try PythonPeer.run(
            script: "executors.py", arguments: [String(max(100, tasks / 4)), String(max(1000, items / 10)), String(min(runs, 3))])
        let version = python["python"] as? String ?? "3"
        var report = BenchReport(suite: "executors")
        report.add(BenchFigure(
            name: "thread_pool.submit_wait", unit: "us/task", value: submitWait, direction: .lowerIsBetter,
            baseline: "CPython \(version) ThreadPoolExecutor", baselineValue: python["thread_pool.submit_wait"] as? Double))
        report.add(BenchFigure(
            name: "blocking_queue.1x1", unit: "items/s", value: oneByOne, direction: .higherIsBetter,
            baseline: "CPython \(version) queue.Queue", baselineValue: python["blocking_queue.1x1"] as? Double))
        report.add(BenchFigure(
            name: "blocking_queue.4x4", unit: "items/s", value: fourByFour, direction: .higherIsBetter,
            baseline: "CPython \(version) queue.Queue", baselineValue: python["blocking_queue.4x4"] as? Double))
        report.print(json: options.json)
    }

    /// µs per task: submit `tasks` no-op tasks, then wait for every one.
    static func submitWait(tasks: Int) -> Double {
        withThreadPool { pool in
            _ = try? pool.submit {}.result()  // start-up outside the measurement
            let start = ContinuousClock.now
            var futures: [Future<Void>] = []
            futures.reserveCapacity(tasks)
            for _ in 0..<tasks { futures.append(try! pool.submit {}) }
            for future in futures { try! future.result() }
            return (ContinuousClock.now - start).seconds / Double(tasks) * 1e6
        }
    }

    /// Items per second through a `BlockingQueue` of 1,024.
    static func queueThroughput(items: Int, producers: Int, consumers: Int) -> Double {
        let queue = BlockingQueue<Int>(maxSize: 1024)
        let perProducer = items / producers
        let consumersDone = DispatchGroup()
        for _ in 0..<consumers {
            consumersDone.enter()
            Thread.detachNewThread {
                while (try? queue.get()) != nil {}
                consumersDone.leave()
            }
        }
        let producersDone = DispatchGroup()
        let start = ContinuousClock.now
        for _ in 0..<producers {
            producersDone.enter()
            Thread.detachNewThread {
                for i in 0..<perProducer { try! queue.put(i) }
                producersDone.leave()
            }
        }
        producersDone.wait()
        // Consumers stop once the queue is drained and shut down.
        queue.shutdown()
        consumersDone.wait()
        return Double(perProducer * producers) / (ContinuousClock.now - start).seconds
    }
}

/// The median of some measurements.
func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return .nan }
    let mid = sorted.count / 2
    return sorted.count % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}
