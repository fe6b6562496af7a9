import Foundation

/// The scheduling state of a ``FrontierCrawl``, kept by its driver task alone (no lock): URLs
/// leased from the frontier waiting to start, grouped by host, and the per-host politeness
/// bookkeeping (``HostSchedule``).
///
/// No head-of-line blocking across hosts: a page starts whenever *its* host has a free slot
/// and is out of its delay, whatever other hosts are doing; hosts take turns. Leases are asked
/// for only for hosts that have fewer than `perHost` URLs waiting, so a slow host's backlog
/// stays in the frontier, not here.
struct CrawlHostQueues {
    private(set) var schedule: HostSchedule
    let perHost: Int
    /// Waiting URLs per host, and hosts in the order they take turns.
    private var waiting: [String: [LeasedURL]] = [:]
    private var turns: [String] = []
    private(set) var waitingCount = 0
    /// Hosts whose robots.txt is not known yet: one page at a time until it is, so its
    /// `Crawl-delay` applies from the second request on.
    private var robotsUnknown: Set<String> = []
    private var robotsKnown: Set<String> = []
    let obeyRobots: Bool

    init(perHost: Int, delay: Duration, obeyRobots: Bool) {
        self.perHost = perHost
        self.obeyRobots = obeyRobots
        schedule = HostSchedule(maxConcurrentPerHost: perHost, minimumDelay: delay)
    }

    /// Hosts that have enough URLs waiting: a lease should skip them.
    var saturatedHosts: Set<String> {
        Set(waiting.lazy.filter { $0.value.count >= self.perHost }.map(\.key))
    }

    /// Queues leased URLs.
    mutating func enqueue(_ leases: [LeasedURL]) {
        for leased in leases {
            if waiting[leased.host] == nil {
                turns.append(leased.host)
                if obeyRobots && !robotsKnown.contains(leased.host) { robotsUnknown.insert(leased.host) }
            }
            waiting[leased.host, default: []].append(leased)
            waitingCount += 1
        }
    }

    /// The next URL that may start at `now`, taking hosts in turn, or nil if none may.
    mutating func nextStartable(at now: Date) -> LeasedURL? {
        guard waitingCount > 0 else { return nil }
        let busy = schedule.busyHosts(at: now)
        for (position, host) in turns.enumerated() where !busy.contains(host) {
            if robotsUnknown.contains(host) && schedule.inFlight(host) > 0 { continue }
            guard var queue = waiting[host], !queue.isEmpty else { continue }
            let leased = queue.removeFirst()
            waitingCount -= 1
            turns.remove(at: position)
            if queue.isEmpty {
                waiting[host] = nil
            } else {
                waiting[host] = queue
                turns.append(host)
            }
            schedule.started(host, at: now)
            return leased
        }
        return nil
    }

    /// Records that a page of `host` ended, and what its robots.txt said (`.some(delay)` once known).
    mutating func finished(_ host: String, crawlDelay: Duration??, at now: Date) {
        schedule.finished(host)
        if let crawlDelay, !robotsKnown.contains(host) {
            robotsKnown.insert(host)
            robotsUnknown.remove(host)
            schedule.setCrawlDelay(crawlDelay, for: host)
            // The page that brought robots.txt started before its delay was known: the next
            // one waits the whole delay from now.
            schedule.holdOff(host, until: now.addingTimeInterval(schedule.delay(for: host).timeInterval))
        }
        if waiting[host] == nil && schedule.inFlight(host) == 0 {
            schedule.prune(at: now)
        }
    }

    /// When a host that is waiting out its delay may start again, if any has URLs waiting.
    func nextStart(after now: Date) -> Date? {
        waitingCount > 0 ? schedule.nextStart(after: now) : nil
    }
}
