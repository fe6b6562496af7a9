import Dispatch
import Foundation
import NIOConcurrencyHelpers
import Spindle

/// Where an engine runs the pages of a ``FrontierCrawl``: the crawl schedules (leases, per-host
/// politeness, retries) the same way for every engine, and each engine keeps its own place for
/// a page's two halves, the fetch and the parse.
///
/// - ``CrawlEngineKind/async`` and ``CrawlEngineKind/sequential``: both in the page's task (the
///   sequential engine runs one page at a time).
/// - ``CrawlEngineKind/threads``: each half on a new OS thread, with a blocking fetch.
/// - ``CrawlEngineKind/pool`` and ``CrawlEngineKind/poolCallbacks``: both submitted to one
///   ``Spindle/ThreadPoolExecutor`` of `concurrency` threads; the callbacks engine takes each
///   result in the future's done callback.
/// - ``CrawlEngineKind/pipeline``: fetches go through a bounded queue to `concurrency` fetcher
///   threads, parses through a second one to `parsers` parser threads.
///
/// The crawl never has more than `concurrency` pages in flight, so no queue here ever waits
/// for room.
final class PageExecutor: Sendable {
    private enum Place: Sendable {
        case task
        case threadPerPage
        case pool(ThreadPoolExecutor, callbacks: Bool)
        case pipeline(fetches: BlockingQueue<PipelineJob>, parses: BlockingQueue<PipelineJob>)
    }

    /// Work for a pipeline thread: runs the half and resumes the page's task.
    private struct PipelineJob: Sendable {
        let run: @Sendable () -> Void
    }

    private let place: Place
    private let threads = DispatchGroup()

    /// Fetches and parses in the page's task, as the async engine does.
    static let inTask = PageExecutor(engine: .async, concurrency: 1, parsers: 1)

    /// An executor for `engine`, with `concurrency` fetch threads and `parsers` parser threads
    /// where the engine has threads of its own.
    init(engine: CrawlEngineKind, concurrency: Int, parsers: Int) {
        switch engine {
        case .sequential, .async:
            place = .task
        case .threads:
            place = .threadPerPage
        case .pool, .poolCallbacks:
            place = .pool(
                ThreadPoolExecutor(maxWorkers: concurrency, threadNamePrefix: "crawl-pool", queueCapacity: 2 * concurrency),
                callbacks: engine == .poolCallbacks)
        case .pipeline:
            let fetches = BlockingQueue<PipelineJob>(maxSize: max(2, 2 * concurrency))
            let parses = BlockingQueue<PipelineJob>(maxSize: max(2, 2 * concurrency))
            place = .pipeline(fetches: fetches, parses: parses)
            Self.startThreads(named: "fetcher", count: concurrency, in: threads, taking: fetches)
            Self.startThreads(named: "parser", count: parsers, in: threads, taking: parses)
        }
    }

    /// Fetches `url` with `fetcher` where the engine fetches.
    func fetch(_ url: URL, with fetcher: Fetcher) async throws -> FetchedPage {
        switch place {
        case .task:
            return try await fetcher.fetch(url)
        default:
            // Cancelling the page's task (an immediate stop) cancels the fetch on the engine's
            // thread too, so a stalled server does not hold the stop up.
            let fetch = CancellableFetch()
            return try await withTaskCancellationHandler {
                try await run(fetch: true) { try fetch.run(url, with: fetcher) }
            } onCancel: {
                fetch.cancel()
            }
        }
    }

    /// Runs `parse` where the engine parses.
    func parse<T: Sendable>(_ parse: @escaping @Sendable () -> T) async throws -> T {
        switch place {
        case .task:
            return parse()
        default:
            return try await run(fetch: false, parse)
        }
    }

    /// Stops the engine's threads and waits for them, without blocking the calling task.
    func shutdown() async {
        switch place {
        case .task, .threadPerPage:
            break
        case .pool(let pool, _):
            await pool.shutdownGracefully(cancelPending: true)
        case .pipeline(let fetches, let parses):
            fetches.shutdown(immediate: true)
            parses.shutdown(immediate: true)
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            threads.notify(queue: .global()) { continuation.resume() }
        }
    }

    private func run<T: Sendable>(fetch: Bool, _ work: @escaping @Sendable () throws -> T) async throws -> T {
        switch place {
        case .task:
            return try work()
        case .threadPerPage:
            return try await withCheckedThrowingContinuation { continuation in
                threads.enter()
                let thread = Thread { [threads] in
                    continuation.resume(with: Result { try work() })
                    threads.leave()
                }
                thread.name = fetch ? "crawl-fetch" : "crawl-parse"
                thread.start()
            }
        case .pool(let pool, callbacks: false):
            return try await pool.run(work)
        case .pool(let pool, callbacks: true):
            return try await withCheckedThrowingContinuation { continuation in
                do {
                    // The crawl has at most `concurrency` pages in flight: the queue has room.
                    let future = try pool.trySubmit(work)
                    future.onComplete { future in continuation.resume(with: Result { try future.result() }) }
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        case .pipeline(let fetches, let parses):
            return try await withCheckedThrowingContinuation { continuation in
                do {
                    try (fetch ? fetches : parses).tryPut(PipelineJob { continuation.resume(with: Result { try work() }) })
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private static func startThreads(named name: String, count: Int, in group: DispatchGroup, taking queue: BlockingQueue<PipelineJob>) {
        for index in 1...count {
            group.enter()
            let thread = Thread {
                while let job = try? queue.get() {
                    job.run()
                }
                group.leave()
            }
            thread.name = "\(name)-\(index)"
            thread.start()
        }
    }
}

/// A fetch that an engine's thread waits for and the page's task can cancel: the thread runs
/// it as a task of its own and blocks until it ends; ``cancel()`` cancels that task, or stops
/// it from starting.
private final class CancellableFetch: Sendable {
    private let state = NIOLockedValueBox<(task: Task<Void, Never>?, cancelled: Bool)>((nil, false))

    /// Fetches `url`, blocking the calling thread (never a task's: see ``Fetcher/fetchBlocking(_:)``).
    ///
    /// - Throws: `CancellationError` when cancelled before it started; what the fetch throws.
    func run(_ url: URL, with fetcher: Fetcher) throws -> FetchedPage {
        let result = NIOLockedValueBox<Result<FetchedPage, any Error>>(.failure(CancellationError()))
        let done = DispatchSemaphore(value: 0)
        let started = state.withLockedValue { state in
            guard !state.cancelled else { return false }
            state.task = Task.detached {
                do {
                    let page = try await fetcher.fetch(url)
                    result.withLockedValue { $0 = .success(page) }
                } catch {
                    result.withLockedValue { $0 = .failure(error) }
                }
                done.signal()
            }
            return true
        }
        guard started else { throw CancellationError() }
        done.wait()
        return try result.withLockedValue { $0 }.get()
    }

    /// Cancels the fetch, or keeps it from starting.
    func cancel() {
        let task = state.withLockedValue { state in
            state.cancelled = true
            return state.task
        }
        task?.cancel()
    }
}
