import Dispatch
import Spindle

/// The course's thread-pool crawlers, on a ``Spindle/ThreadPoolExecutor`` of `concurrency`
/// threads.
///
/// ``run(_:concurrency:processor:delivery:)`` is the `map` + `as_completed` program: `map`
/// fetches, then each page is `submit`ted to be parsed and the parses are taken as they
/// complete. The course maps every URL at once, which holds every body until the last fetch
/// is done; here the pages go through in windows (``CrawlEngineOptions/poolWindow``), so at
/// most a window of bodies is held.
///
/// ``runWithCallbacks(_:concurrency:processor:delivery:)`` is the `add_done_callback` program:
/// each fetch future parses and delivers its page in its done callback, on the thread that
/// completed it. The pool's queue is bounded, so submitting waits while the threads are busy
/// and bodies never pile up.
enum PoolCrawlEngine {
    static func run(_ tasks: [PageTask], concurrency: Int, processor: PageProcessor, delivery: OutcomeDelivery) async throws {
        let window = CrawlEngineOptions(concurrency: concurrency).poolWindow
        try await onNewThread(name: "crawl-pool") {
            try withThreadPool(maxWorkers: concurrency, threadNamePrefix: "crawl-pool") { pool in
                // A stopped crawl cancels the fetches not started; `next()` then throws.
                delivery.onStop { pool.shutdown(wait: false, cancelPending: true) }
                var start = 0
                while start < tasks.count, !delivery.isStopped {
                    let batch = tasks[start..<min(start + window, tasks.count)]
                    start += batch.count
                    let fetched = try pool.map(batch) { task in processor.fetchBlocking(task) }
                    var parses: [Future<PageOutcome>] = []
                    parses.reserveCapacity(batch.count)
                    while let fetch = try fetched.next() {
                        parses.append(try pool.submit { processor.extract(fetch) })
                    }
                    let completed = asCompleted(parses)
                    while let future = try completed.next() {
                        delivery.deliver(try future.result())
                    }
                }
            }
        }
        try delivery.throwIfStopped()
    }

    static func runWithCallbacks(_ tasks: [PageTask], concurrency: Int, processor: PageProcessor, delivery: OutcomeDelivery) async throws {
        try await onNewThread(name: "crawl-callbacks") {
            let pool = ThreadPoolExecutor(maxWorkers: concurrency, threadNamePrefix: "crawl-pool", queueCapacity: concurrency)
            defer { pool.shutdown(wait: true) }
            // A stopped crawl cancels the fetches not started (their callbacks still run) and
            // makes the next `submit` throw.
            delivery.onStop { pool.shutdown(wait: false, cancelPending: true) }
            let pending = DispatchGroup()
            for task in tasks {
                if delivery.isStopped { break }
                pending.enter()
                let future: Future<PageFetch>
                do {
                    future = try pool.submit { processor.fetchBlocking(task) }
                } catch {
                    pending.leave()
                    throw error
                }
                future.onComplete { future in
                    defer { pending.leave() }
                    // A fetch never throws (its failures are values); a cancelled future is
                    // only possible if the pool was shut down under it.
                    guard let fetch = try? future.result() else { return }
                    delivery.deliver(processor.extract(fetch))
                }
            }
            pending.wait()
        }
        try delivery.throwIfStopped()
    }
}
