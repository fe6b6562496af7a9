import Foundation
import Testing
@testable import SpindleCrawler

@Suite("HostSchedule")
struct FrontierHostScheduleTests {
    static let t0 = Date(timeIntervalSince1970: 1_000_000)

    @Test("a host at its concurrency limit is busy until a fetch finishes")
    func concurrency() {
        var schedule = HostSchedule(maxConcurrentPerHost: 2)
        schedule.started("a.test", at: Self.t0)
        #expect(schedule.busyHosts(at: Self.t0).isEmpty)
        schedule.started("a.test", at: Self.t0)
        #expect(schedule.busyHosts(at: Self.t0) == ["a.test"])
        #expect(schedule.inFlight("a.test") == 2)
        schedule.finished("a.test")
        #expect(schedule.busyHosts(at: Self.t0).isEmpty)
        schedule.finished("a.test")
        schedule.finished("a.test")
        #expect(schedule.inFlight("a.test") == 0)
    }

    @Test("the delay between starts is the larger of the minimum and Crawl-delay")
    func delays() {
        var schedule = HostSchedule(maxConcurrentPerHost: 4, minimumDelay: .seconds(1))
        schedule.setCrawlDelay(.seconds(3), for: "slow.test")
        #expect(schedule.delay(for: "slow.test") == .seconds(3))
        #expect(schedule.delay(for: "fast.test") == .seconds(1))

        schedule.started("slow.test", at: Self.t0)
        schedule.started("fast.test", at: Self.t0)
        #expect(schedule.busyHosts(at: Self.t0.addingTimeInterval(0.5)) == ["slow.test", "fast.test"])
        #expect(schedule.busyHosts(at: Self.t0.addingTimeInterval(1)) == ["slow.test"])
        #expect(schedule.busyHosts(at: Self.t0.addingTimeInterval(3)).isEmpty)
        #expect(schedule.nextStart(after: Self.t0) == Self.t0.addingTimeInterval(1))
        #expect(schedule.nextStart(after: Self.t0.addingTimeInterval(1)) == Self.t0.addingTimeInterval(3))
        #expect(schedule.nextStart(after: Self.t0.addingTimeInterval(3)) == nil)
    }

    @Test("prune forgets idle hosts but keeps Crawl-delays and hosts in flight")
    func pruning() {
        var schedule = HostSchedule(maxConcurrentPerHost: 1, minimumDelay: .seconds(1))
        schedule.setCrawlDelay(.seconds(5), for: "robots.test")
        schedule.started("busy.test", at: Self.t0)
        schedule.started("idle.test", at: Self.t0)
        schedule.finished("idle.test")
        schedule.prune(at: Self.t0.addingTimeInterval(0.5))
        #expect(schedule.trackedHostCount == 3)
        schedule.prune(at: Self.t0.addingTimeInterval(2))
        #expect(schedule.trackedHostCount == 2)
        #expect(schedule.busyHosts(at: Self.t0.addingTimeInterval(2)) == ["busy.test"])
    }

    @Test("out-of-range settings are clamped")
    func clamping() {
        let schedule = HostSchedule(maxConcurrentPerHost: 0, minimumDelay: .seconds(-1))
        #expect(schedule.maxConcurrentPerHost == 1)
        #expect(schedule.minimumDelay == .zero)
    }
}
