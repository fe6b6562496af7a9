import Foundation
import Testing
@testable import SpindleCrawler
@testable import SpindleServer

/// A random source that always returns the same word: 0 gives the low end of every range,
/// `.max` the high end.
struct FixedRandom: RandomNumberGenerator {
    var value: UInt64
    mutating func next() -> UInt64 { value }
}

@Suite("RetryPolicy")
struct RetryPolicyTests {
    static let noJitter = RetryPolicy(maxRetries: 2, baseDelay: .seconds(1), maxDelay: .seconds(10), jitter: .none)
    static let now = Date(timeIntervalSince1970: 784_111_777) // Sun, 06 Nov 1994 08:49:37 GMT

    /// (status, Retry-After, attempt, expected decision)
    static let statusCases: [(Int, String?, Int, RetryDecision)] = [
        (200, nil, 0, .success),
        (301, nil, 0, .success),
        (404, nil, 0, .giveUp(reason: "HTTP 404")),
        (403, "5", 0, .giveUp(reason: "HTTP 403")),
        (400, nil, 0, .giveUp(reason: "HTTP 400")),
        (503, nil, 0, .retry(after: .seconds(1), reason: "HTTP 503")),
        (503, nil, 1, .retry(after: .seconds(2), reason: "HTTP 503")),
        (503, nil, 2, .giveUp(reason: "HTTP 503 after 3 attempts")),
        (500, nil, 0, .retry(after: .seconds(1), reason: "HTTP 500")),
        (429, nil, 0, .retry(after: .seconds(1), reason: "HTTP 429")),
        (429, "7", 0, .retry(after: .seconds(7), reason: "HTTP 429")),
        (429, " 0 ", 1, .retry(after: .zero, reason: "HTTP 429")),
        (503, "3600", 0, .retry(after: .seconds(60), reason: "HTTP 503")),           // capped
        (429, "Sun, 06 Nov 1994 08:50:07 GMT", 0, .retry(after: .seconds(30), reason: "HTTP 429")),
        (429, "Sunday, 06-Nov-94 08:50:07 GMT", 0, .retry(after: .seconds(30), reason: "HTTP 429")),
        (429, "Sun Nov  6 08:50:07 1994", 0, .retry(after: .seconds(30), reason: "HTTP 429")),
        (429, "Sun, 06 Nov 1994 08:00:00 GMT", 0, .retry(after: .zero, reason: "HTTP 429")), // past
        (429, "Sun, 06 Nov 1994 10:49:37 GMT", 0, .retry(after: .seconds(60), reason: "HTTP 429")), // capped
        (429, "soon", 0, .retry(after: .seconds(1), reason: "HTTP 429")),  // unparseable: backoff
        (429, "-5", 0, .retry(after: .seconds(1), reason: "HTTP 429")),
        (429, "7", 2, .giveUp(reason: "HTTP 429 after 3 attempts")),
    ]

    @Test("decisions by status and Retry-After", arguments: statusCases)
    func statusDecision(status: Int, retryAfter: String?, attempt: Int, expected: RetryDecision) {
        var random = FixedRandom(value: 0)
        #expect(Self.noJitter.decision(status: status, retryAfter: retryAfter, attempt: attempt, now: Self.now, using: &random) == expected)
    }

    @Test("transient fetch errors are retried; body too large, redirects, bad URLs and other errors are not")
    func errorDecisions() {
        var random = FixedRandom(value: 0)
        let policy = Self.noJitter
        for code in [FetchError.Code.timeout, .connectionFailed, .connectionClosed] {
            let error = FetchError(code, url: "http://x/", "failed")
            #expect(policy.decision(error: error, attempt: 0, using: &random) == .retry(after: .seconds(1), reason: "\(error)"))
            #expect(policy.decision(error: error, attempt: 2, using: &random) == .giveUp(reason: "\(error) (after 3 attempts)"))
        }
        for code in [FetchError.Code.bodyTooLarge, .tooManyRedirects, .invalidURL, .unsupportedScheme, .other] {
            let error = FetchError(code, url: "http://x/", "failed")
            #expect(policy.decision(error: error, attempt: 0, using: &random) == .giveUp(reason: "\(error)"))
        }
        #expect(policy.decision(error: CancellationError(), attempt: 0, using: &random) == .giveUp(reason: "\(CancellationError())"))
    }

    @Test("backoff doubles per attempt up to the cap")
    func exponentialBackoff() {
        var random = FixedRandom(value: 0)
        let delays = (0..<7).map { Self.noJitter.backoff(attempt: $0, using: &random) }
        #expect(delays == [.seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(10), .seconds(10), .seconds(10)])
        #expect(Self.noJitter.backoff(attempt: 500, using: &random) == .seconds(10))
        #expect(Self.noJitter.backoff(attempt: -1, using: &random) == .seconds(1))
    }

    @Test("full jitter spans zero to the backoff; equal jitter its upper half", arguments: [RetryPolicy.Jitter.full, .equal])
    func jitterBounds(jitter: RetryPolicy.Jitter) {
        var policy = Self.noJitter
        policy.jitter = jitter
        let ceiling = Duration.seconds(4)
        let floor = jitter == .full ? Duration.zero : .seconds(2)
        var low = FixedRandom(value: 0)
        var high = FixedRandom(value: .max)
        #expect(policy.backoff(attempt: 2, using: &low) == floor)
        #expect(policy.backoff(attempt: 2, using: &high) <= ceiling)
        #expect(policy.backoff(attempt: 2, using: &high) > ceiling - .milliseconds(1))

        var seeded = SplitMix64(seed: 42)
        let samples = (0..<500).map { _ in policy.backoff(attempt: 2, using: &seeded) }
        #expect(samples.allSatisfy { $0 >= floor && $0 <= ceiling })
        // Jitter spreads the retries: the samples are not all alike.
        #expect(Set(samples).count > 400)
    }

    @Test("a page's Retry-After header is used")
    func pageDecision() throws {
        var random = FixedRandom(value: 0)
        let url = try #require(URL(string: "http://127.0.0.1/"))
        let page = FetchedPage(requestedURL: url, url: url, status: 429, headers: ["Retry-After": "4"], body: [])
        #expect(Self.noJitter.decision(page: page, attempt: 0, using: &random) == .retry(after: .seconds(4), reason: "HTTP 429"))
    }

    @Test("Retry-After parsing")
    func retryAfterParsing() {
        #expect(RetryAfter.parse("120", now: Self.now) == .seconds(120))
        #expect(RetryAfter.parse("99999999999999999999999", now: Self.now) == .seconds(Int64.max))
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:38 GMT", now: Self.now) == .seconds(1))
        #expect(RetryAfter.parse("", now: Self.now) == nil)
        #expect(RetryAfter.parse("1.5", now: Self.now) == nil)
        #expect(RetryAfter.parse("Sun, 06 Nov 1994 08:49:38 PST", now: Self.now) == nil)
    }

    @Test("validation names the field out of range")
    func validation() throws {
        try RetryPolicy().validate()
        let retries = #expect(throws: RetryPolicyError.self) { try RetryPolicy(maxRetries: -1).validate() }
        #expect(retries?.description.contains("maxRetries") == true)
        let delays = #expect(throws: RetryPolicyError.self) { try RetryPolicy(baseDelay: .seconds(5), maxDelay: .seconds(1)).validate() }
        #expect(delays?.description.contains("maxDelay") == true)
    }

    @Test("defaults: two retries, capped Retry-After of 60 s")
    func defaults() {
        let policy = RetryPolicy()
        #expect(policy.maxRetries == 2)
        #expect(policy.maxRetryAfter == .seconds(60))
        var random = FixedRandom(value: 0)
        #expect(policy.decision(status: 503, attempt: 2, using: &random) == .giveUp(reason: "HTTP 503 after 3 attempts"))
    }
}
