import Foundation
import Synchronization
import Testing
@testable import SpindleCrawler
@testable import SpindleServer

/// ``FrontierCrawl`` against the site's fault endpoints, on an SQLite state: every URL ends in
/// a recorded state with its reason, retries honour Retry-After, robots.txt is obeyed.
@Suite("FrontierCrawl (faults)")
struct CrawlFrontierFaultTests {
    @Test("a crawl of /faults/ ends with every URL done or failed for the right reason; robots.txt obeyed; 500 and 429 retried")
    func faultsCrawl() async throws {
        let directory = try CrawlTestDirectory()
        try await withBlogSite(BlogSiteConfiguration(pages: 2, faults: true)) { site in
            let frontier = try SQLiteFrontier(path: directory.path("faults.sqlite"))
            let host = try CanonicalURL(site.baseURL).authority
            let options = FrontierCrawlOptions(
                concurrency: 8,
                retryPolicy: RetryPolicy(baseDelay: .milliseconds(50)),
                extraction: .selection(try CSSSelector("a.post-item-title")),
                follow: try CSSSelector("a"),
                scope: try CrawlScope(allowedHosts: [host], include: ["/faults/"])
            )
            let events = EventLog()
            // A read timeout the stalled body hits; a total one a 20 MiB body on a busy machine does not (it must end "body too large").
            let configuration = options.fetchConfiguration(FetchConfiguration(readTimeout: .seconds(2), totalTimeout: .seconds(20)))
            let summary = try await withFetcher(configuration) { fetcher in
                try await FrontierCrawl(frontier: frontier, fetcher: fetcher, options: options).run(
                    seeds: [FrontierEntry(try CanonicalURL(site.url(path: "/faults/"))), FrontierEntry(try CanonicalURL(site.listPageURL(1)))],
                    observer: events.record
                )
            }
            #expect(summary.ending == .finished)
            let status = try await frontier.status()
            #expect(status.pending == 0 && status.leased == 0, "every URL ends done or failed: \(status)")

            func info(_ fault: BlogSiteFault) async throws -> FrontierURLInfo {
                try #require(try await frontier.info(for: CanonicalURL(site.url(for: fault))), "\(fault) is in the crawl")
            }
            for fault: BlogSiteFault in [.latin1Header, .latin1Meta, .malformedMarkup, .binary, .gzip] {
                #expect(try await info(fault).state == .done, "\(fault)")
            }
            let expectations: [(BlogSiteFault, String)] = [
                (.stall, "timeout"), (.reset, "connectionClosed"), (.hugeBody, "bodyTooLarge"), (.hugeChunkedBody, "bodyTooLarge"),
                (.redirectLoop, "redirect loop"), (.privatePage, "disallowed by robots.txt"),
            ]
            for (fault, reason) in expectations {
                let info = try await info(fault)
                #expect(info.state == .failed, "\(fault)")
                #expect(info.lastError?.contains(reason) == true, "\(fault): \(info.lastError ?? "no reason")")
            }
            #expect(try await info(.stall).attempts == 3, "a timeout is retried twice, then given up")
            #expect(try await info(.hugeBody).attempts == 1, "a body over the limit is not retried")

            // The chain ends at a page already in the crawl: done, without fetching it twice.
            #expect(try await info(.redirectChain).state == .done)
            #expect(site.requestLog.requests(to: "/sitehome/p/1") == 1)

            let flaky = try await info(.flakyServerError)
            #expect(flaky.state == .done && flaky.attempts == 1, "500 then 200: done after one retry")
            let limited = try await info(.rateLimited)
            #expect(limited.state == .done && limited.attempts == 1, "429 then 200: done after one retry")
            let attempts = events.attemptTimes(of: try CanonicalURL(site.url(for: .rateLimited)))
            try #require(attempts.count == 2)
            #expect(attempts[1].timeIntervalSince(attempts[0]) >= 1.0, "the retry waits out Retry-After: 1")

            #expect(site.requestLog.requests(to: BlogSiteFault.privatePage.path) == 0, "robots.txt disallows it: never requested")
            #expect(site.requestLog.requests(to: "/robots.txt") == 1, "robots.txt fetched once per host")

            let records = Set(try await frontier.allRecords())
            for fault: BlogSiteFault in [.latin1Header, .latin1Meta, .malformedMarkup, .gzip] {
                for link in site.expectedRecords(on: fault) {
                    #expect(records.contains(.selection(page: link.pageURL, href: link.href, text: link.title)), "\(link)")
                }
            }
            try await frontier.close()
        }
    }

    @Test("a slow host does not hold back a fast one: the fast host's pages all finish while the slow host's requests hang")
    func noHeadOfLineBlocking() async throws {
        // The slow host stalls for 30 s (longer than any machine needs for the fast pages), so
        // the outcome does not depend on how busy the machine is.
        try await withBlogSite(BlogSiteConfiguration(pages: 1, latency: .seconds(2), faults: true)) { slow in
            try await withBlogSite(BlogSiteConfiguration(pages: 20, latency: .milliseconds(10))) { fast in
                let frontier = MemoryFrontier()
                let slowSeeds = try (1...6).map { FrontierEntry(try CanonicalURL(slow.url(path: BlogSiteFault.stall.path + "?n=\($0)"))) }
                let fastSeeds = try (1...20).map { FrontierEntry(try CanonicalURL(fast.listPageURL($0))) }
                let options = FrontierCrawlOptions(concurrency: 4, perHost: 2, obeyRobots: false, scope: try CrawlScope())
                let events = EventLog()
                let stop = CrawlStopSignal()
                let fastHost = try CanonicalURL(fast.baseURL).authority
                let summary = try await withFetcher(options.fetchConfiguration(FetchConfiguration(totalTimeout: .seconds(60)))) { fetcher in
                    try await FrontierCrawl(frontier: frontier, fetcher: fetcher, options: options).run(seeds: slowSeeds + fastSeeds, stop: stop) { event in
                        events.record(event)
                        if events.doneHosts().filter({ $0 == fastHost }).count == 20 { stop.requestImmediateStop() }
                    }
                }
                #expect(summary.ending == .interrupted)
                #expect(events.doneHosts() == Array(repeating: fastHost, count: 20), "every fast page, and no slow one, is done")
                #expect(slow.requestLog.requests(to: BlogSiteFault.stall.path) == 2, "--per-host 2: two slow requests hang, the rest wait in the frontier")
                #expect(fast.requestLog.maxInFlight <= 2, "--per-host 2 holds on the fast host")
            }
        }
    }

    @Test("robots.txt Crawl-delay, or --delay, spaces the page requests to one host", arguments: [(0.2, 0), (nil, 200)] as [(Double?, Int)])
    func crawlDelay(robotsDelay: Double?, delayMilliseconds: Int) async throws {
        try await withBlogSite(BlogSiteConfiguration(pages: 4, crawlDelay: robotsDelay)) { site in
            let frontier = MemoryFrontier()
            let seeds = try (1...4).map { FrontierEntry(try CanonicalURL(site.listPageURL($0))) }
            let options = FrontierCrawlOptions(concurrency: 4, perHost: 4, delay: .milliseconds(delayMilliseconds), scope: try CrawlScope())
            let events = EventLog()
            _ = try await withFetcher(options.fetchConfiguration()) { fetcher in
                try await FrontierCrawl(frontier: frontier, fetcher: fetcher, options: options).run(seeds: seeds, observer: events.record)
            }
            let starts = events.allAttemptTimes().sorted()
            try #require(starts.count == 4)
            // The crawl spaces the starts it decides; a task that runs late on a busy machine
            // narrows one gap and widens the next, so each gap is checked loosely and the sum
            // closely (without a delay the three gaps add up to a few milliseconds).
            for (earlier, later) in zip(starts, starts.dropFirst()) {
                #expect(later.timeIntervalSince(earlier) >= 0.1, "about 0.2 s between request starts")
            }
            #expect(starts[3].timeIntervalSince(starts[0]) >= 0.5, "three gaps of 0.2 s")
            // Not checked: one request in flight at a time. The delay spaces request starts, so a
            // page that takes longer than 0.2 s to arrive (a loaded CI run) overlaps the next.
        }
    }

    @Test("bad options are refused with the option named")
    func badOptions() async throws {
        let frontier = MemoryFrontier()
        let options = FrontierCrawlOptions(perHost: 0, scope: try CrawlScope())
        try await withFetcher(options.fetchConfiguration()) { fetcher in
            await #expect(throws: CrawlInputError("perHost must be at least 1, got 0")) {
                _ = try await FrontierCrawl(frontier: frontier, fetcher: fetcher, options: options).run(seeds: [])
            }
        }
        #expect(throws: CrawlInputError("include pattern '(' is not a valid regular expression")) {
            _ = try CrawlScope(include: ["("])
        }
    }
}

/// What a crawl's observer saw, with times.
final class EventLog: Sendable {
    private let events = Mutex<[FrontierCrawlEvent]>([])

    var record: @Sendable (FrontierCrawlEvent) -> Void {
        { event in self.events.withLock { $0.append(event) } }
    }

    func attemptTimes(of url: CanonicalURL) -> [Date] {
        events.withLock { events in
            events.compactMap { if case .attempt(url, _, let at) = $0 { at } else { nil } }
        }
    }

    func allAttemptTimes() -> [Date] {
        events.withLock { events in
            events.compactMap { if case .attempt(_, _, let at) = $0 { at } else { nil } }
        }
    }

    /// The host of each page done, in the order they were done.
    func doneHosts() -> [String] {
        events.withLock { events in
            events.compactMap { if case .done(let url, _, _, _) = $0 { url.authority } else { nil } }
        }
    }
}

/// A temporary directory removed when the value goes away.
final class CrawlTestDirectory: Sendable {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-crawl5-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func path(_ name: String) -> String { url.appendingPathComponent(name).path }

    deinit { try? FileManager.default.removeItem(at: url) }
}
