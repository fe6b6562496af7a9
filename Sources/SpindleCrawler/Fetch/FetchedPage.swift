import Foundation
import NIOHTTP1

/// A response as a ``Fetcher`` delivers it: whatever its status, with the whole body.
public struct FetchedPage: Sendable {
    /// The URL that was asked for.
    public var requestedURL: URL
    /// The URL the body came from: ``requestedURL`` after any redirects followed.
    public var url: URL
    /// The HTTP status code (a 3xx only when redirects are not followed, or not followable).
    public var status: Int
    /// The response headers.
    public var headers: HTTPHeaders
    /// The body, decompressed when it was sent gzip- or deflate-encoded.
    public var body: [UInt8]
    /// How many redirects were followed.
    public var redirectCount: Int
    /// From the call to the last byte of the body.
    public var elapsed: Duration

    /// A page (for tests and for callers that fetch by other means).
    public init(
        requestedURL: URL,
        url: URL,
        status: Int,
        headers: HTTPHeaders = [:],
        body: [UInt8],
        redirectCount: Int = 0,
        elapsed: Duration = .zero
    ) {
        self.requestedURL = requestedURL
        self.url = url
        self.status = status
        self.headers = headers
        self.body = body
        self.redirectCount = redirectCount
        self.elapsed = elapsed
    }

    /// The size of ``body`` in bytes.
    public var bytes: Int { body.count }

    /// Whether the status is 2xx.
    public var isSuccess: Bool { (200..<300).contains(status) }

    /// The first value of the header `name` (case-insensitive).
    public func header(_ name: String) -> String? {
        headers.first(name: name)
    }

    /// The `Content-Type` header, if any.
    public var contentType: String? { header("Content-Type") }

    /// The media type of ``contentType``, lowercased and without parameters (`text/html`).
    public var mediaType: String? {
        contentType.map { $0.split(separator: ";", maxSplits: 1)[0].trimmingCharacters(in: .whitespaces).lowercased() }
    }

    /// Whether the body is HTML by its `Content-Type` (`text/html` or `application/xhtml+xml`).
    /// A response with no `Content-Type` counts as HTML, as browsers sniff it.
    public var isHTML: Bool {
        guard let mediaType else { return true }
        return mediaType == "text/html" || mediaType == "application/xhtml+xml"
    }

    /// The `Location` header of a redirect, resolved against ``url``.
    public var location: URL? {
        header("Location").flatMap { URL(string: $0, relativeTo: url)?.absoluteURL }
    }

    /// How long the server asks to wait (`Retry-After`, in seconds or as an HTTP date), if it
    /// says. A date in the past gives zero.
    public var retryAfter: Duration? {
        guard let value = header("Retry-After")?.trimmingCharacters(in: .whitespaces) else { return nil }
        if let seconds = Int(value), seconds >= 0 { return .seconds(seconds) }
        guard let date = Self.httpDate(value) else { return nil }
        return .milliseconds(max(0, Int(date.timeIntervalSinceNow * 1000)))
    }

    private static func httpDate(_ value: String) -> Date? {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        return formatter.date(from: value)
    }
}
