extension TourSections {
    static let webService = TourSection(title: "webService") { _ in throw TourCheckFailed("not built yet") }
}
