@testable import SpindleServer
import Testing

/// The shedding rule of `spindle serve`, with the times given: no clock, no pool.
@Suite("Queue wait estimator")
struct QueueWaitEstimatorTests {
    let start = ContinuousClock.now

    func at(_ milliseconds: Int) -> ContinuousClock.Instant { start + .milliseconds(milliseconds) }

    /// A pool of `workers` that has finished tasks every `interval` ms while saturated, with
    /// `inFlight` tasks in it afterwards.
    func saturated(workers: Int, interval: Int, completions: Int, inFlight: Int) -> QueueWaitEstimator {
        var estimator = QueueWaitEstimator(workers: workers)
        for _ in 0..<(inFlight + completions) { estimator.submitted() }
        for index in 0..<completions { estimator.finished(at: at(index * interval), ran: true) }
        return estimator
    }

    @Test("no measurement, no shedding: a fresh pool takes work however deep its queue")
    func unmeasured() {
        var estimator = QueueWaitEstimator(workers: 2)
        for _ in 0..<1000 { estimator.submitted() }
        #expect(estimator.expectedWait == .zero)
        #expect(!estimator.shouldShed(budget: .seconds(1)))
    }

    @Test("the wait is the tasks ahead times the measured time between completions")
    func estimate() {
        // Two workers finishing a task every 6 ms (12 ms jobs), 101 tasks in flight: a new
        // task has 100 ahead of it, 600 ms.
        let estimator = saturated(workers: 2, interval: 6, completions: 50, inFlight: 101)
        #expect(estimator.secondsPerCompletion.map { abs($0 - 0.006) < 1e-9 } == true)
        let wait = estimator.expectedWait
        #expect(wait > .microseconds(599_999) && wait < .microseconds(600_001))
        #expect(!estimator.shouldShed(budget: .seconds(1)))
        #expect(estimator.shouldShed(budget: .milliseconds(500)))
    }

    @Test("a free worker means no wait, however slow the pool was")
    func freeWorker() {
        let estimator = saturated(workers: 2, interval: 500, completions: 10, inFlight: 1)
        #expect(estimator.expectedWait == .zero)
        #expect(!estimator.shouldShed(budget: .milliseconds(1)))
    }

    @Test("the time a pool sat idle is not taken for slowness")
    func idleGapIgnored() {
        var estimator = QueueWaitEstimator(workers: 1)
        estimator.submitted()
        estimator.submitted()
        estimator.finished(at: at(0), ran: true)
        estimator.finished(at: at(10), ran: true)  // saturated: one interval of 10 ms
        // Idle for a minute (nothing in flight), then busy again.
        estimator.submitted()
        estimator.finished(at: at(60_000), ran: true)
        #expect(estimator.secondsPerCompletion.map { abs($0 - 0.010) < 1e-9 } == true)
    }

    @Test("tasks cancelled before they ran are not completions")
    func cancelledNotSampled() {
        var estimator = saturated(workers: 1, interval: 10, completions: 3, inFlight: 5)
        let before = estimator.secondsPerCompletion
        estimator.finished(at: at(5_000), ran: false)
        #expect(estimator.secondsPerCompletion == before)
        #expect(estimator.inFlight == 4)
    }

    @Test("a zero budget never sheds")
    func zeroBudget() {
        let estimator = saturated(workers: 1, interval: 1000, completions: 5, inFlight: 100)
        #expect(estimator.expectedWait > .seconds(60))
        #expect(!estimator.shouldShed(budget: .zero))
    }
}
