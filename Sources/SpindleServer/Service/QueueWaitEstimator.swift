/// Estimates how long a new task would wait for a worker of a saturated pool, from the
/// measured rate at which the pool finishes tasks: the shedding rule of the web service.
///
/// While every worker is busy, the time between two completions is the time one worker frees
/// up; a task with `n` tasks ahead of it waits about `n` such intervals. Only intervals during
/// which the pool stayed saturated are sampled, so an idle spell does not make the pool look
/// slow. Pure state: the caller passes the times, so the decisions can be tested without a clock.
struct QueueWaitEstimator: Sendable {
    /// The weight of a new interval in the moving average.
    static let smoothing = 0.05

    let workers: Int
    /// The moving average of the seconds between completions while saturated; nil until measured.
    private(set) var secondsPerCompletion: Double?
    private var lastCompletion: ContinuousClock.Instant?
    /// Whether every worker stayed busy since ``lastCompletion``.
    private var saturatedSinceLast = false
    /// Tasks submitted and not done (queued or running).
    private(set) var inFlight = 0

    init(workers: Int) {
        self.workers = max(1, workers)
    }

    /// A task was submitted.
    mutating func submitted() {
        inFlight += 1
    }

    /// A task ended at `now`; `ran` is false for a task cancelled before it started (its end
    /// says nothing about the pool's speed).
    mutating func finished(at now: ContinuousClock.Instant, ran: Bool) {
        inFlight = max(0, inFlight - 1)
        guard ran else { return }
        if saturatedSinceLast, let last = lastCompletion {
            let interval = (now - last).seconds
            secondsPerCompletion = secondsPerCompletion.map { $0 + Self.smoothing * (interval - $0) } ?? interval
        }
        lastCompletion = now
        // The freed worker takes a queued task at once only if one was waiting.
        saturatedSinceLast = inFlight >= workers
    }

    /// The expected wait of a task submitted now: zero while a worker is free.
    var expectedWait: Duration {
        let ahead = inFlight - workers + 1
        guard ahead > 0, let secondsPerCompletion else { return .zero }
        return .seconds(Double(ahead) * secondsPerCompletion)
    }

    /// Whether a task submitted now should be refused: its expected wait exceeds `budget`
    /// (a zero budget never refuses).
    func shouldShed(budget: Duration) -> Bool {
        budget > .zero && expectedWait > budget
    }
}
