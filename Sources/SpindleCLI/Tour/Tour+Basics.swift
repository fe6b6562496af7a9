extension TourSections {
    static let whyConcurrency = TourSection(title: "whyConcurrency") { _ in throw TourCheckFailed("not built yet") }
    static let producerConsumer = TourSection(title: "producerConsumer") { _ in throw TourCheckFailed("not built yet") }
    static let lock = TourSection(title: "lock") { _ in throw TourCheckFailed("not built yet") }
    static let threadPool = TourSection(title: "threadPool") { _ in throw TourCheckFailed("not built yet") }
    static let cpuComparison = TourSection(title: "cpuComparison") { _ in throw TourCheckFailed("not built yet") }
    static let decisionChart = TourSection(title: "decisionChart") { _ in throw TourCheckFailed("not built yet") }
}
