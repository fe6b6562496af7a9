extension TourSections {
    static let threadsAndCrawler = TourSection(title: "threadsAndCrawler") { _ in throw TourCheckFailed("not built yet") }
    static let asyncSemaphore = TourSection(title: "asyncSemaphore") { _ in throw TourCheckFailed("not built yet") }
}
