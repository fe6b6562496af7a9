import Foundation

/// One leased URL's work in a ``FrontierCrawl``: check robots.txt, fetch (following redirects
/// hop by hop, each hop checked), decide on a retry, extract records and links, and report the
/// outcome to the frontier — exactly one of complete, retry or fail.
///
/// Cancellation (an immediate stop) reports nothing: the URL stays leased and goes back to
/// pending when the state is opened again.
struct FrontierPageWork: Sendable {
    /// What the crawl's scheduler learns from one page.
    struct Report: Sendable {
        /// The page's host.
        var host: String
        /// New URLs the page added to the frontier.
        var added = 0
        /// Whether the URL went back to pending for a retry.
        var retried = false
        /// The host's robots.txt `Crawl-delay`, once its robots.txt is known (`.some(nil)` for
        /// none); nil when robots.txt is not consulted or not known yet.
        var crawlDelay: Duration??
    }

    let frontier: any Frontier
    let fetcher: Fetcher
    let robots: RobotsCache?
    /// Where the engine fetches and parses.
    let executor: PageExecutor
    let options: FrontierCrawlOptions
    let observer: @Sendable (FrontierCrawlEvent) -> Void
    /// Records and links, in one pass (the same work every engine does).
    private let extractor: PageExtractor

    init(
        frontier: any Frontier, fetcher: Fetcher, robots: RobotsCache?, options: FrontierCrawlOptions,
        executor: PageExecutor = .inTask, observer: @escaping @Sendable (FrontierCrawlEvent) -> Void
    ) {
        self.frontier = frontier
        self.fetcher = fetcher
        self.robots = robots
        self.executor = executor
        self.options = options
        self.observer = observer
        extractor = PageExtractor(extraction: options.extraction, follow: options.follow)
    }

    private var userAgent: String { fetcher.configuration.userAgent }

    /// Works on `leased` and reports its outcome to the frontier.
    ///
    /// A lease that another worker took over meanwhile (this one lost the shared frontier for
    /// longer than a lease) is not an error: the outcome here is dropped with a note, and the
    /// worker that holds the URL now reports it.
    ///
    /// - Throws: `CancellationError` when the crawl was stopped at once (nothing reported);
    ///   what the frontier throws when it cannot store the outcome.
    func run(_ leased: LeasedURL) async throws -> Report {
        do {
            return try await attempt(leased)
        } catch let error as FrontierError where error.code == .notLeased {
            observer(.note("\(error.message); this worker's outcome for it is dropped"))
            return Report(host: leased.host)
        }
    }

    private func attempt(_ leased: LeasedURL) async throws -> Report {
        var report = Report(host: leased.host)
        if let robots {
            let (policy, _, note) = await robots.policy(for: leased.url)
            if let note { observer(.note(note)) }
            report.crawlDelay = .some(policy.crawlDelay(userAgent: userAgent))
            guard policy.isAllowed(leased.url, userAgent: userAgent) else {
                try await fail(leased, "disallowed by robots.txt")
                return report
            }
        }
        observer(.attempt(url: leased.url, attempt: leased.attempts, at: Date()))

        var chain = [leased.url]
        while true {
            let current = chain[chain.count - 1]
            let page: FetchedPage
            do {
                page = try await executor.fetch(current.url, with: fetcher)
            } catch {
                try Task.checkCancellation()
                if error is CancellationError { throw error }
                report.retried = try await failedAttempt(leased, reason: Self.reason(error), retryable: options.retryPolicy.isRetryable(error), retryAfter: nil)
                return report
            }
            try Task.checkCancellation()

            if (300..<400).contains(page.status) {
                switch try await redirect(leased, page: page, chain: chain) {
                case .follow(let target):
                    chain.append(target)
                    continue
                case .ended:
                    return report
                }
            }
            if chain.count > 1 {
                // The redirect ends at a page the crawl has not seen: it joins the frontier as
                // a URL of its own, so the seen-set stays the one authority on what is fetched.
                let added = try await frontier.complete(leased.url, records: [], discovered: [FrontierEntry(current, depth: leased.depth)])
                observer(.note("\(leased.url) redirects to \(current)\(added > 0 ? ", added to the crawl" : "")"))
                observer(.done(url: leased.url, records: [], bytes: 0, added: added))
                report.added = added
                return report
            }
            guard page.isSuccess else {
                let failure = PageFailure(url: current.string, status: page.status)
                report.retried = try await failedAttempt(
                    leased, reason: failure.reason, retryable: options.retryPolicy.isRetryable(status: page.status),
                    retryAfter: page.header("Retry-After"))
                return report
            }
            let (records, links) = try await executor.parse { [self] in extract(page, leased: leased) }
            let added = try await frontier.complete(leased.url, records: records, discovered: links)
            observer(.done(url: leased.url, records: records, bytes: page.bytes, added: added))
            report.added = added
            return report
        }
    }

    private enum RedirectStep {
        case follow(CanonicalURL)
        case ended
    }

    /// Checks one redirect hop: loops, the limit, the allowed hosts, the seen-set (a target
    /// already in the crawl ends the hop: it is or was fetched under its own URL), the
    /// include/exclude patterns and robots.txt.
    private func redirect(_ leased: LeasedURL, page: FetchedPage, chain: [CanonicalURL]) async throws -> RedirectStep {
        guard let location = page.location else {
            try await fail(leased, "HTTP \(page.status) without a Location header")
            return .ended
        }
        guard let target = try? CanonicalURL(location, sortQuery: options.scope.sortQuery) else {
            try await fail(leased, "redirected to \(location.absoluteString), which is not an http(s) URL")
            return .ended
        }
        let path = (chain + [target]).map(\.string).joined(separator: " → ")
        if chain.contains(target) {
            try await fail(leased, "redirect loop: \(path)")
            return .ended
        }
        if chain.count > options.maxRedirects {
            try await fail(leased, "more than \(options.maxRedirects) redirects: \(path)")
            return .ended
        }
        guard options.scope.allowsHost(target) else {
            try await fail(leased, "redirected to \(target), outside the crawl's allowed hosts")
            return .ended
        }
        if try await frontier.info(for: target) != nil {
            _ = try await frontier.complete(leased.url, records: [], discovered: [])
            observer(.note("\(leased.url) redirects to \(target), already in the crawl"))
            observer(.done(url: leased.url, records: [], bytes: 0, added: 0))
            return .ended
        }
        guard options.scope.admits(target) else {
            try await fail(leased, "redirected to \(target), which --include/--exclude leave out of the crawl")
            return .ended
        }
        if let robots, !(await robots.policy(for: target).policy.isAllowed(target, userAgent: userAgent)) {
            try await fail(leased, "redirected to \(target), which robots.txt disallows")
            return .ended
        }
        return .follow(target)
    }

    /// Retries the URL after a failed attempt, or gives up; returns whether it will be retried.
    private func failedAttempt(_ leased: LeasedURL, reason: String, retryable: Bool, retryAfter: String?) async throws -> Bool {
        let policy = options.retryPolicy
        guard retryable else {
            try await fail(leased, reason)
            return false
        }
        guard leased.attempts < policy.maxRetries else {
            try await fail(leased, "\(reason) (after \(leased.attempts + 1) attempts)")
            return false
        }
        var random = SystemRandomNumberGenerator()
        var wait = policy.backoff(attempt: leased.attempts, using: &random)
        if let retryAfter, let asked = RetryAfter.parse(retryAfter) {
            wait = min(asked, policy.maxRetryAfter)
        }
        let notBefore = Date().addingTimeInterval(wait.timeInterval)
        try await frontier.retry(leased.url, error: reason, notBefore: notBefore)
        observer(.retrying(url: leased.url, reason: reason, notBefore: notBefore))
        return true
    }

    private func fail(_ leased: LeasedURL, _ reason: String) async throws {
        try await frontier.fail(leased.url, error: reason)
        observer(.failed(url: leased.url, reason: reason))
    }

    /// The page's records and the links to follow, from one parse of the body.
    private func extract(_ page: FetchedPage, leased: LeasedURL) -> ([CrawlRecord], [FrontierEntry]) {
        let (records, followed) = extractor.extract(page, pageURL: leased.url.string)
        var seen = Set<CanonicalURL>()
        var links: [FrontierEntry] = []
        for href in followed {
            guard let url = options.scope.admitting(href), seen.insert(url).inserted else { continue }
            links.append(FrontierEntry(url, depth: leased.depth + 1))
        }
        return (records, links)
    }

    private static func reason(_ error: any Error) -> String {
        if let error = error as? FetchError { return "\(error.code): \(error.message)" }
        return "\(error)"
    }
}
