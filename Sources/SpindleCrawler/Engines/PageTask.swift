import Foundation

/// One page to crawl: where it is and how far from a seed it was found. A list crawl
/// (``CrawlSession/run(_:options:fetch:)``) takes its pages as tasks.
public struct PageTask: Hashable, Sendable, CustomStringConvertible {
    /// The page to fetch.
    public var url: URL
    /// Links followed from a seed to reach the page: 0 for a URL the user gave.
    public var depth: Int

    /// A task for `url`, found `depth` links away from a seed.
    public init(url: URL, depth: Int = 0) {
        self.url = url
        self.depth = depth
    }

    /// The URL as text.
    public var description: String { url.absoluteString }
}

/// Why a page yielded nothing: the fetch failed, or the server answered with an error status.
///
/// A failure carries what a retry policy needs (``isTransient``, ``retryAfter``) and a
/// ``reason`` for people, such as `HTTP 404` or `timeout: no data for the read timeout of 2 s`.
public struct PageFailure: Error, Sendable, CustomStringConvertible {
    /// The page's URL as asked for.
    public var url: String
    /// What went wrong, in one line, without the URL.
    public var reason: String
    /// The HTTP status when the server answered with a 4xx or 5xx; nil when there was no answer.
    public var status: Int?
    /// The fetch error's code when the fetch itself failed.
    public var fetchErrorCode: FetchError.Code?
    /// Whether trying again later may succeed: timeouts, lost or refused connections, 429 and 5xx.
    public var isTransient: Bool
    /// How long the server asked to wait before trying again (`Retry-After`), if it said.
    public var retryAfter: Duration?

    /// A failure of `url` for `reason`.
    public init(
        url: String,
        reason: String,
        status: Int? = nil,
        fetchErrorCode: FetchError.Code? = nil,
        isTransient: Bool = false,
        retryAfter: Duration? = nil
    ) {
        self.url = url
        self.reason = reason
        self.status = status
        self.fetchErrorCode = fetchErrorCode
        self.isTransient = isTransient
        self.retryAfter = retryAfter
    }

    /// A failed fetch, described by its ``FetchError``.
    public init(url: String, fetchError: FetchError) {
        self.init(
            url: url,
            reason: "\(fetchError.code): \(fetchError.message)",
            fetchErrorCode: fetchError.code,
            isTransient: fetchError.isTransient
        )
    }

    /// An error status from the server: `HTTP 404 Not Found`.
    public init(url: String, status: Int, retryAfter: Duration? = nil) {
        let phrase = HTTPStatusPhrase.phrase(for: status)
        self.init(
            url: url,
            reason: phrase.isEmpty ? "HTTP \(status)" : "HTTP \(status) \(phrase)",
            status: status,
            isTransient: status == 429 || (500..<600).contains(status),
            retryAfter: retryAfter
        )
    }

    /// `url: reason`.
    public var description: String { "\(url): \(reason)" }
}

/// Reason phrases for the statuses a crawl meets most; others print as the bare number.
enum HTTPStatusPhrase {
    static func phrase(for status: Int) -> String {
        switch status {
        case 400: "Bad Request"
        case 401: "Unauthorized"
        case 403: "Forbidden"
        case 404: "Not Found"
        case 405: "Method Not Allowed"
        case 408: "Request Timeout"
        case 410: "Gone"
        case 429: "Too Many Requests"
        case 500: "Internal Server Error"
        case 502: "Bad Gateway"
        case 503: "Service Unavailable"
        case 504: "Gateway Timeout"
        default: ""
        }
    }
}
