/// The tour's sections, in the course's order. Each lives in its own `Tour+Topic.swift` file.
enum TourSections {
    static let all: [TourSection] = [
        whyConcurrency,
        threadsAndCrawler,
        producerConsumer,
        lock,
        threadPool,
        webService,
        cpuComparison,
        asyncSemaphore,
        subprocesses,
        coroutines,
        echoServer,
        resumableCrawl,
        faults,
        sharedCrawl,
        decisionChart,
    ]
}
