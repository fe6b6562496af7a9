import Foundation

/// When a failed fetch is worth trying again, and how long to wait first.
///
/// Retried: transient fetch errors (timeouts, refused or lost connections), `429 Too Many
/// Requests` and every `5xx`. Not retried: other `4xx` (the page will not appear by asking
/// again), a body over the size limit, too many redirects, a bad URL.
///
/// The wait is exponential backoff with jitter, `baseDelay × 2^attempt` capped at `maxDelay`,
/// unless the server sent `Retry-After` (seconds or an HTTP date), which is honoured up to
/// `maxRetryAfter`. Everything here is a pure function of its inputs; randomness comes from the
/// generator passed in, so tests can fix it.
///
/// ```swift
/// var random = SystemRandomNumberGenerator()
/// switch policy.decision(status: page.status, retryAfter: page.header("Retry-After"), attempt: leased.attempts, using: &random) {
/// case .retry(let delay, let reason): try await frontier.retry(leased.url, error: reason, notBefore: Date() + delay.timeInterval)
/// case .giveUp(let reason): try await frontier.fail(leased.url, error: reason)
/// case .success: ...
/// }
/// ```
public struct RetryPolicy: Hashable, Sendable {
    /// How the backoff delay is randomised, so that many clients failing together do not retry
    /// together.
    public enum Jitter: String, Hashable, Sendable, CaseIterable {
        /// Exactly the backoff delay.
        case none
        /// Uniform between zero and the backoff delay ("full jitter").
        case full
        /// Half the backoff delay plus a uniform share of the other half ("equal jitter").
        case equal
    }

    /// Retries after the first attempt: with 2, a URL is fetched at most 3 times.
    public var maxRetries: Int
    /// The backoff before the first retry (attempt 0), doubled for each further attempt.
    public var baseDelay: Duration
    /// The longest backoff, before jitter.
    public var maxDelay: Duration
    /// The longest wait a `Retry-After` header can impose; longer requests are cut to this.
    public var maxRetryAfter: Duration
    /// How the backoff is randomised (`Retry-After` waits are not).
    public var jitter: Jitter

    /// A policy; the defaults retry twice, after about 0.5 s then 1 s, never waiting over 30 s
    /// of backoff or 60 s of `Retry-After`.
    public init(
        maxRetries: Int = 2,
        baseDelay: Duration = .milliseconds(500),
        maxDelay: Duration = .seconds(30),
        maxRetryAfter: Duration = .seconds(60),
        jitter: Jitter = .full
    ) {
        self.maxRetries = maxRetries
        self.baseDelay = baseDelay
        self.maxDelay = maxDelay
        self.maxRetryAfter = maxRetryAfter
        self.jitter = jitter
    }

    /// Checks that the fields are in range.
    ///
    /// - Throws: ``RetryPolicyError`` naming the first field out of range (negative counts or
    ///   durations, or a `maxDelay` below `baseDelay`).
    public func validate() throws(RetryPolicyError) {
        if maxRetries < 0 { throw RetryPolicyError("maxRetries must be 0 or more, got \(maxRetries)") }
        if baseDelay < .zero { throw RetryPolicyError("baseDelay must not be negative, got \(baseDelay)") }
        if maxDelay < baseDelay { throw RetryPolicyError("maxDelay (\(maxDelay)) must be at least baseDelay (\(baseDelay))") }
        if maxRetryAfter < .zero { throw RetryPolicyError("maxRetryAfter must not be negative, got \(maxRetryAfter)") }
    }

    /// Whether a response with this HTTP status is worth retrying: `429` and `5xx`.
    public func isRetryable(status: Int) -> Bool {
        status == 429 || (500...599).contains(status)
    }

    /// Whether a fetch error is worth retrying: ``FetchError/isTransient`` (timeouts, refused
    /// or lost connections). Errors of other types are not retried; neither is cancellation.
    public func isRetryable(_ error: any Error) -> Bool {
        (error as? FetchError)?.isTransient ?? false
    }

    /// The backoff before retry number `attempt + 1`: `baseDelay × 2^attempt`, capped at
    /// ``maxDelay``, then jittered.
    public func backoff(attempt: Int, using random: inout some RandomNumberGenerator) -> Duration {
        let base = Self.nanoseconds(baseDelay)
        let cap = Self.nanoseconds(maxDelay)
        // Doubling past 2^62 overflows; the cap is reached long before for any sane base.
        let exponent = min(max(attempt, 0), 62)
        let (scaled, overflow) = base.multipliedReportingOverflow(by: Int64(1) << exponent)
        let delay = overflow ? cap : min(scaled, cap)
        switch jitter {
        case .none:
            return .nanoseconds(delay)
        case .full:
            return .nanoseconds(Self.share(of: delay, using: &random))
        case .equal:
            let half = delay / 2
            return .nanoseconds(half + Self.share(of: delay - half, using: &random))
        }
    }

    /// A uniform share of `total`, from one draw of `random` (the top 53 bits as a fraction in
    /// [0, 1)). One draw and no rejection loop, so a generator fixed at any value terminates and
    /// gives the extremes: 0 gives 0, `.max` gives all but a hair of `total`.
    private static func share(of total: Int64, using random: inout some RandomNumberGenerator) -> Int64 {
        let fraction = Double(random.next() >> 11) / Double(UInt64(1) << 53)
        return min(total, Int64(Double(total) * fraction))
    }

    /// The decision after a response with `status`.
    ///
    /// - Parameters:
    ///   - status: The HTTP status.
    ///   - retryAfter: The `Retry-After` header as sent, if any; honoured (capped at
    ///     ``maxRetryAfter``) instead of the backoff when it parses.
    ///   - attempt: Failed attempts before this one (``LeasedURL/attempts``).
    ///   - now: The time an HTTP-date `Retry-After` is measured from.
    /// - Returns: ``RetryDecision/success`` for 1xx–3xx and 2xx, otherwise whether to retry and
    ///   a reason to record such as `HTTP 503`.
    public func decision(
        status: Int, retryAfter: String? = nil, attempt: Int, now: Date = Date(),
        using random: inout some RandomNumberGenerator
    ) -> RetryDecision {
        guard status >= 400 else { return .success }
        let reason = "HTTP \(status)"
        guard isRetryable(status: status) else { return .giveUp(reason: reason) }
        guard attempt < maxRetries else { return .giveUp(reason: "\(reason) after \(attempt + 1) attempts") }
        if let retryAfter, let wait = RetryAfter.parse(retryAfter, now: now) {
            return .retry(after: min(wait, maxRetryAfter), reason: reason)
        }
        return .retry(after: backoff(attempt: attempt, using: &random), reason: reason)
    }

    /// The decision after a fetch threw `error`.
    ///
    /// - Returns: ``RetryDecision/retry(after:reason:)`` for a transient error with retries left,
    ///   otherwise ``RetryDecision/giveUp(reason:)``; the reason is the error's description.
    public func decision(error: any Error, attempt: Int, using random: inout some RandomNumberGenerator) -> RetryDecision {
        let reason = "\(error)"
        guard isRetryable(error) else { return .giveUp(reason: reason) }
        guard attempt < maxRetries else { return .giveUp(reason: "\(reason) (after \(attempt + 1) attempts)") }
        return .retry(after: backoff(attempt: attempt, using: &random), reason: reason)
    }

    /// The decision after a page was fetched: its status and `Retry-After` header.
    public func decision(page: FetchedPage, attempt: Int, now: Date = Date(), using random: inout some RandomNumberGenerator) -> RetryDecision {
        decision(status: page.status, retryAfter: page.header("Retry-After"), attempt: attempt, now: now, using: &random)
    }

    private static func nanoseconds(_ duration: Duration) -> Int64 {
        let (seconds, attoseconds) = duration.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? 0 : .max }
        return max(0, scaled + attoseconds / 1_000_000_000)
    }
}

/// What to do after an attempt.
public enum RetryDecision: Hashable, Sendable {
    /// The fetch succeeded (status below 400): nothing to retry.
    case success
    /// Try again after `after`; `reason` is what went wrong, to record as the last error.
    case retry(after: Duration, reason: String)
    /// Stop: record the URL as failed with `reason`.
    case giveUp(reason: String)
}

/// A ``RetryPolicy`` field is out of range.
public struct RetryPolicyError: Error, Hashable, Sendable, CustomStringConvertible {
    /// Which field and why.
    public var description: String

    init(_ description: String) { self.description = description }
}

extension Duration {
    /// The duration in seconds, for `Date` arithmetic (`Date() + delay.timeInterval`).
    public var timeInterval: TimeInterval {
        let (seconds, attoseconds) = components
        return TimeInterval(seconds) + TimeInterval(attoseconds) / 1e18
    }
}
