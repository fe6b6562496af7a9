import Dispatch
import Foundation
import Spindle

/// The course's producer-consumer crawler: fetcher threads take URLs from one queue and put
/// fetched pages on a second, parser threads take the pages, extract the records and deliver
/// them.
///
/// ```
/// feeder → [urls] → fetcher × concurrency → [pages] → parser × parsers → sink
/// ```
///
/// Both queues are bounded ``Spindle/BlockingQueue``s, so a fast stage waits for a slow one and
/// memory stays bounded; their depths show in ``CrawlProgress/Snapshot/queues`` while it runs.
/// Unlike the course's threads, which loop forever, each stage ends when the queue before it
/// is shut down and drained, and the crawl returns when the parsers are done.
enum PipelineCrawlEngine {
    static func run(_ tasks: [PageTask], options: CrawlEngineOptions, processor: PageProcessor, delivery: OutcomeDelivery) async throws {
        let capacity = options.effectiveQueueCapacity
        let urls = BlockingQueue<PageTask>(maxSize: capacity)
        let pages = BlockingQueue<PageFetch>(maxSize: capacity)
        delivery.progress.setQueueProbe {
            [
                CrawlProgress.QueueDepth(name: "urls", count: urls.count, capacity: capacity),
                CrawlProgress.QueueDepth(name: "pages", count: pages.count, capacity: capacity),
            ]
        }
        defer { delivery.progress.setQueueProbe(nil) }
        // A stopped crawl drops what is queued and wakes every blocked thread.
        delivery.onStop {
            urls.shutdown(immediate: true)
            pages.shutdown(immediate: true)
        }

        try await onNewThread(name: "crawl-pipeline") {
            let fetchers = DispatchGroup()
            let parsers = DispatchGroup()
            startThreads(named: "fetcher", count: options.concurrency, in: fetchers) {
                while let task = try? urls.get() {
                    let fetch = processor.fetchBlocking(task)
                    _ = try? urls.taskDone()
                    do {
                        try pages.put(fetch)
                    } catch {
                        return  // the crawl was stopped
                    }
                }
            }
            startThreads(named: "parser", count: options.parsers, in: parsers) {
                while let fetch = try? pages.get() {
                    delivery.deliver(processor.extract(fetch))
                    _ = try? pages.taskDone()
                }
            }
            // This thread is the feeder.
            for task in tasks {
                do {
                    try urls.put(task)
                } catch {
                    break  // the crawl was stopped
                }
            }
            urls.shutdown()
            fetchers.wait()
            pages.shutdown()
            parsers.wait()
        }
        try delivery.throwIfStopped()
    }

    private static func startThreads(named name: String, count: Int, in group: DispatchGroup, _ body: @escaping @Sendable () -> Void) {
        for index in 1...count {
            group.enter()
            let thread = Thread {
                body()
                group.leave()
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }
}
