import Dispatch
import Foundation

/// The course's `multi_thread` crawler: a new OS thread for every page, each fetching with a
/// blocking call and parsing what it fetched. The course starts every thread at once; here a
/// counting semaphore lets at most `concurrency` live at a time, and the coordinator waits for
/// the last one, so the crawl ends when its work does.
enum ThreadsCrawlEngine {
    static func run(_ tasks: [PageTask], concurrency: Int, processor: PageProcessor, delivery: OutcomeDelivery) async throws {
        try await onNewThread(name: "crawl-threads") {
            let slots = DispatchSemaphore(value: concurrency)
            let running = DispatchGroup()
            for (index, task) in tasks.enumerated() {
                slots.wait()
                if delivery.isStopped {
                    slots.signal()
                    break
                }
                running.enter()
                let thread = Thread {
                    delivery.deliver(processor.processBlocking(task))
                    slots.signal()
                    running.leave()
                }
                thread.name = "crawl-\(index + 1)"
                thread.start()
            }
            running.wait()
        }
        try delivery.throwIfStopped()
    }
}
