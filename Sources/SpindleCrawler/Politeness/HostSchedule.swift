import Foundation

/// Per-host politeness bookkeeping for a crawl engine: how many fetches each host has in flight,
/// and when it may next be asked. Its ``busyHosts(at:)`` is what the engine passes to
/// ``Frontier/lease(limit:now:excludingHosts:maxPerHost:)`` as `excludingHosts`.
///
/// Hosts are ``CanonicalURL/authority`` values (host and non-default port). The delay between
/// two request starts on one host is the larger of ``minimumDelay`` and the host's robots.txt
/// `Crawl-delay`. A value type with no lock: keep it inside the engine's actor or lock.
///
/// ```swift
/// var schedule = HostSchedule(maxConcurrentPerHost: 2, minimumDelay: .milliseconds(100))
/// schedule.setCrawlDelay(robots.crawlDelay(userAgent: agent), for: url.authority)
/// let leases = try await frontier.lease(limit: 8, now: now, excludingHosts: schedule.busyHosts(at: now), maxPerHost: 2)
/// for leased in leases { schedule.started(leased.host, at: now) }   // … fetch …
/// schedule.finished(leased.host)
/// ```
public struct HostSchedule: Sendable {
    private struct HostState: Sendable {
        var inFlight = 0
        var nextStart = Date.distantPast
        var crawlDelay: Duration?
    }

    /// Fetches one host may have in flight at once.
    public var maxConcurrentPerHost: Int
    /// The least time between two request starts on one host.
    public var minimumDelay: Duration
    private var hosts: [String: HostState] = [:]

    /// A schedule; `maxConcurrentPerHost` below 1 is read as 1, a negative delay as zero.
    public init(maxConcurrentPerHost: Int = 2, minimumDelay: Duration = .zero) {
        self.maxConcurrentPerHost = max(1, maxConcurrentPerHost)
        self.minimumDelay = max(.zero, minimumDelay)
    }

    /// Records `host`'s robots.txt `Crawl-delay` (`nil` for none).
    public mutating func setCrawlDelay(_ delay: Duration?, for host: String) {
        hosts[host, default: HostState()].crawlDelay = delay
    }

    /// The delay between request starts on `host`: the larger of ``minimumDelay`` and its
    /// `Crawl-delay`.
    public func delay(for host: String) -> Duration {
        max(minimumDelay, hosts[host]?.crawlDelay ?? .zero)
    }

    /// Records that a fetch from `host` started at `now`.
    public mutating func started(_ host: String, at now: Date) {
        var state = hosts[host, default: HostState()]
        state.inFlight += 1
        state.nextStart = now.addingTimeInterval(max(minimumDelay, state.crawlDelay ?? .zero).timeInterval)
        hosts[host] = state
    }

    /// Keeps `host` from starting a fetch before `date` (for a `Crawl-delay` learnt only after
    /// a fetch started: the next one waits the delay from now).
    public mutating func holdOff(_ host: String, until date: Date) {
        var state = hosts[host, default: HostState()]
        state.nextStart = max(state.nextStart, date)
        hosts[host] = state
    }

    /// Records that a fetch from `host` ended (however it ended).
    public mutating func finished(_ host: String) {
        guard var state = hosts[host] else { return }
        state.inFlight = max(0, state.inFlight - 1)
        hosts[host] = state
    }

    /// Fetches in flight for `host`.
    public func inFlight(_ host: String) -> Int {
        hosts[host]?.inFlight ?? 0
    }

    /// The hosts that may not start a fetch at `now`: at their concurrency limit, or inside
    /// their delay since the last start.
    public func busyHosts(at now: Date) -> Set<String> {
        var busy = Set<String>()
        for (host, state) in hosts where state.inFlight >= maxConcurrentPerHost || state.nextStart > now {
            busy.insert(host)
        }
        return busy
    }

    /// The earliest time after `now` at which a host that is waiting out its delay (and is not
    /// at its concurrency limit) may start again, or `nil` if none is waiting. An engine with
    /// nothing to lease sleeps until then or until a fetch finishes.
    public func nextStart(after now: Date) -> Date? {
        hosts.values.lazy
            .filter { $0.nextStart > now && $0.inFlight < maxConcurrentPerHost }
            .map(\.nextStart)
            .min()
    }

    /// Forgets hosts with nothing in flight, no delay left to wait at `now` and no
    /// `Crawl-delay`, so the bookkeeping stays as small as the set of active hosts.
    public mutating func prune(at now: Date) {
        hosts = hosts.filter { $0.value.inFlight > 0 || $0.value.nextStart > now || $0.value.crawlDelay != nil }
    }

    /// How many hosts are tracked.
    public var trackedHostCount: Int { hosts.count }
}
