/// A fetch failed: the server could not be reached, was too slow, or sent something the
/// ``FetchConfiguration`` does not accept. HTTP error statuses are *not* fetch errors: a 404 or a
/// 503 is a ``FetchedPage`` with that status.
public struct FetchError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure, for deciding what to do next (retry, give up, report).
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Value: String {
            case timeout, connectionFailed, connectionClosed, bodyTooLarge, tooManyRedirects
            case invalidURL, unsupportedScheme, invalidConfiguration, other
        }

        private let value: Value

        private init(_ value: Value) { self.value = value }

        /// A timeout: connecting, waiting for data (read timeout) or the whole fetch (total
        /// timeout) took too long.
        public static let timeout = Code(.timeout)
        /// No connection could be made: refused, unreachable, or the name did not resolve.
        public static let connectionFailed = Code(.connectionFailed)
        /// The server closed the connection before the response was complete.
        public static let connectionClosed = Code(.connectionClosed)
        /// The body is larger than ``FetchConfiguration/maxBodySize``.
        public static let bodyTooLarge = Code(.bodyTooLarge)
        /// More redirects than ``FetchConfiguration/maxRedirects``, or a redirect cycle.
        public static let tooManyRedirects = Code(.tooManyRedirects)
        /// The URL cannot be fetched as written (no host, for example).
        public static let invalidURL = Code(.invalidURL)
        /// The URL's scheme is not `http` or `https`.
        public static let unsupportedScheme = Code(.unsupportedScheme)
        /// A ``FetchConfiguration`` field is out of range.
        public static let invalidConfiguration = Code(.invalidConfiguration)
        /// Anything else (a malformed response, for example); the message says what.
        public static let other = Code(.other)

        /// The code's name, such as `timeout`.
        public var description: String { value.rawValue }
    }

    /// What kind of failure.
    public var code: Code
    /// The URL being fetched (empty for a configuration error).
    public var url: String
    /// What happened, for people.
    public var message: String
    /// The error reported by the HTTP client or the network stack, if there was one.
    public var underlyingError: (any Error)?

    /// An error of `code` for `url`.
    public init(_ code: Code, url: String, _ message: String, underlyingError: (any Error)? = nil) {
        self.code = code
        self.url = url
        self.message = message
        self.underlyingError = underlyingError
    }

    /// Whether trying again later may succeed: timeouts and lost or refused connections.
    public var isTransient: Bool {
        code == .timeout || code == .connectionFailed || code == .connectionClosed
    }

    /// `code: url: message`.
    public var description: String {
        url.isEmpty ? "\(code): \(message)" : "\(code): \(url): \(message)"
    }
}
