import Foundation

/// The robots.txt of every host a crawl visits, fetched once per origin: concurrent pages of a
/// host whose robots.txt is still on its way wait for that one fetch.
///
/// A robots.txt that cannot be fetched (a 5xx, a timeout) allows everything, with a note (see
/// ``RobotsPolicy``); the note is returned once, to the caller that made the fetch, for the log.
actor RobotsCache {
    private let fetcher: Fetcher
    private var policies: [String: Task<(RobotsPolicy, note: String?), Never>] = [:]
    /// Where workers sharing the crawl keep robots.txt (see `SharedRobotsStore`), if they do.
    private let shared: (any SharedRobotsStore)?

    init(fetcher: Fetcher, shared: (any SharedRobotsStore)? = nil) {
        self.fetcher = fetcher
        self.shared = shared
    }

    /// The rules for `url`'s origin, and whether this call fetched them (the first call for an
    /// origin does; later ones get the cached rules).
    func policy(for url: CanonicalURL) async -> (policy: RobotsPolicy, fetched: Bool, note: String?) {
        let origin = url.origin
        if let task = policies[origin] {
            return (await task.value.0, false, nil)
        }
        let fetcher = fetcher
        let robotsURL = url.robotsURL.url
        let shared = shared
        let task = Task { () -> (RobotsPolicy, note: String?) in
            if let shared {
                let userAgent = fetcher.configuration.userAgent
                let file = try? await shared.sharedRobots(origin: origin, host: url.authority) {
                    await Self.fetchShared(robotsURL, fetcher: fetcher, userAgent: userAgent)
                }
                if let file {
                    let policy = file.policy
                    return (policy, policy.note.map { "\(origin): \($0)" })
                }
            }
            do {
                let page = try await fetcher.fetch(robotsURL)
                let policy = RobotsPolicy(response: page.status, body: page.body)
                return (policy, policy.note.map { "\(origin): \($0)" })
            } catch {
                let policy = RobotsPolicy.unreachable("\(error)")
                return (policy, policy.note.map { "\(origin): \($0)" })
            }
        }
        policies[origin] = task
        let (policy, note) = await task.value
        return (policy, true, note)
    }

    /// Fetches robots.txt for a `SharedRobotsStore`: the answer as it came, and its Crawl-delay.
    private static func fetchShared(_ robotsURL: URL, fetcher: Fetcher, userAgent: String) async -> SharedRobotsFile {
        do {
            let page = try await fetcher.fetch(robotsURL)
            var file = SharedRobotsFile(status: page.status, body: page.isSuccess ? Array(page.body) : [])
            file.crawlDelay = file.policy.crawlDelay(userAgent: userAgent)
            return file
        } catch {
            return SharedRobotsFile(status: 0, body: [], error: "\(error)")
        }
    }
}
