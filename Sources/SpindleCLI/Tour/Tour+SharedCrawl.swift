extension TourSections {
    static let sharedCrawl = TourSection(title: "sharedCrawl") { _ in throw TourCheckFailed("not built yet") }
}
