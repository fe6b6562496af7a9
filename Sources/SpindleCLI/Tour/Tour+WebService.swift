import Foundation
import Logging
import SpindleServer

extension TourSections {
    static let webService = TourSection(title: "A web service: fan out I/O, offload CPU work") { tour in
        tour.say("""
            The course's Flask app answers GET / by submitting read_file (0.1 s), read_db (0.2 s) \
            and read_api (0.3 s) to a ThreadPoolExecutor, so a request takes about 0.3 s instead \
            of 0.6 s; GET /is_prime/<numbers> maps its CPU-bound check over a \
            ProcessPoolExecutor. `spindle serve` serves both, but the three reads are tasks that \
            wait without holding a thread, so a thousand requests can wait at once; work beyond \
            a bounded queue gets a fast 503, a request past its deadline a 504, a crashed worker \
            fails only its own request, and SIGTERM lets in-flight requests finish.
            """)
        var logger = Logger(label: "spindle.tour.serve")
        logger.logLevel = .warning
        let service = try await WebService.start(ServiceConfiguration(port: 0), logger: logger)
        do {
            try await runWebServiceTour(tour, port: service.port)
        } catch {
            await service.stop()
            throw error
        }
        await service.stop()
    }

    private static func runWebServiceTour(_ tour: TourContext, port: Int) async throws {
        tour.line("  serving on 127.0.0.1:\(port), CPU work on \(ProcessInfo.processInfo.activeProcessorCount) worker processes")
        let expected = #"{"result_file":"file result","result_db":"db result","result_api":"api result"}"#
        let (root, rootTime) = try await timedGet(port: port, "/")
        let (_, sequentialTime) = try await timedGet(port: port, "/sequential")
        tour.line("  GET /            \(tour.format(rootTime))  \(root.body)")
        tour.line("  GET /sequential  \(tour.format(sequentialTime))  (the course's version before the pool)")
        let number = "112272535095293"
        let (prime, primeTime) = try await timedGet(port: port, "/is_prime/\(number)")
        let (_, fastTime) = try await timedGet(port: port, "/is_prime/\(number)?method=miller-rabin")
        tour.line("  GET /is_prime/\(number)  \(tour.format(primeTime))  \(prime.body)  (trial division in a worker process)")
        tour.line("  the same with ?method=miller-rabin: \(tour.format(fastTime)) (answered inline)")

        // The difference between the designs shows under load: 12 requests at once.
        let burst = 12
        let (_, asyncBurst) = try await tour.time { try await concurrentGets(port: port, "/", count: burst) }
        let (_, threadBurst) = try await tour.time { try await concurrentGets(port: port, "/?pool=threads", count: burst) }
        tour.line("  \(burst) requests at once: \(tour.format(asyncBurst)) with waiting tasks, \(tour.format(threadBurst)) with the course's blocking reads on a thread pool")
        tour.record("serve.root_seconds", rootTime.seconds)
        tour.record("serve.sequential_seconds", sequentialTime.seconds)

        guard root.status == 200, root.body == expected, prime.body == #"{"112272535095293": true}"# else {
            throw TourCheckFailed("unexpected answers: \(root.status) \(root.body) / \(prime.body)")
        }
        guard rootTime < sequentialTime, asyncBurst < threadBurst else {
            throw TourCheckFailed("the concurrent reads were not faster than the sequential or thread-pool ones")
        }
    }

    /// GETs `path` on a thread of its own (the socket blocks) and times it.
    private static func timedGet(port: Int, _ path: String) async throws -> (LoopbackHTTP.Response, Duration) {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                let start = ContinuousClock.now
                let result = Result { try LoopbackHTTP.get(port: port, path: path) }
                continuation.resume(with: result.map { ($0, ContinuousClock.now - start) })
            }
        }
    }

    /// `count` GETs of `path` at once; fails unless every one answers 200.
    private static func concurrentGets(port: Int, _ path: String, count: Int) async throws {
        try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<count {
                group.addTask { try await timedGet(port: port, path).0.status }
            }
            for try await status in group where status != 200 {
                throw TourCheckFailed("GET \(path) answered \(status)")
            }
        }
    }
}
