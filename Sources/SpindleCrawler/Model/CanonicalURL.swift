import Foundation

/// An `http` or `https` URL in one canonical spelling, so that two links to the same page
/// compare equal and a crawl fetches it once.
///
/// Canonicalisation (RFC 3986 section 6, plus what crawlers usually add):
/// - scheme and host lower-cased; the default port (80 for `http`, 443 for `https`) dropped;
/// - credentials (`user:password@`) dropped: they are never fetched with, stored or written;
/// - the fragment dropped (it never reaches the server);
/// - `.` and `..` segments resolved; an empty path becomes `/`;
/// - percent-encoding normalised: escapes of unreserved characters decoded (`%41` → `A`,
///   `%7E` → `~`), other escapes in uppercase hex (`%2f` → `%2F`), characters that cannot stand
///   in a URL (spaces, non-ASCII letters) encoded as UTF-8; reserved characters keep their form;
/// - an empty query (`?` alone) dropped; parameter order kept unless `sortQuery` is set.
///
/// ```swift
/// let url = try CanonicalURL("HTTP://Example.COM:80/a/./b/../%7Euser?b=2&a=1#top")
/// url.string   // "http://example.com/a/~user?b=2&a=1"
/// ```
///
/// Equality, hashing and ordering use ``string`` only.
public struct CanonicalURL: Hashable, Comparable, Sendable, CustomStringConvertible, Codable {
    /// The canonical spelling, such as `http://example.com/a/~user?b=2&a=1`.
    public let string: String
    /// `http` or `https`.
    public let scheme: String
    /// The host, lower-cased (an IPv6 address keeps its brackets: `[::1]`).
    public let host: String
    /// The port when it is not the scheme's default, otherwise `nil`.
    public let port: Int?
    /// The path, never empty (at least `/`).
    public let path: String
    /// The query without its `?`, or `nil` when there is none or it is empty.
    public let query: String?
    /// The same URL as a Foundation `URL`.
    public let url: URL

    /// Canonicalises `text`, resolving it against `base` first when it is relative.
    ///
    /// Surrounding whitespace and embedded tabs and line breaks are ignored, as browsers do.
    ///
    /// - Parameters:
    ///   - text: An absolute URL, or a reference relative to `base` (`../b`, `?page=2`, `//host/x`).
    ///   - base: The URL `text` is relative to, such as the page a link was found on.
    ///   - sortQuery: Sort the query's parameters by name (stable for repeated names), for sites
    ///     that serve the same page whatever the order.
    /// - Throws: ``URLCanonicalizationError`` when the result is not an `http` or `https` URL
    ///   with a host and a valid port, or `text` is relative and there is no `base`.
    public init(_ text: String, relativeTo base: CanonicalURL? = nil, sortQuery: Bool = false) throws(URLCanonicalizationError) {
        let parts = try URLReference.resolve(text, against: base)
        let authority = try Authority(parsing: parts.authority, scheme: parts.scheme, input: text)
        var query = parts.query.map { PercentEncoding.normalize($0, as: .query) }
        if sortQuery, let unsorted = query {
            query = Self.sortedQuery(unsorted)
        }
        if query?.isEmpty == true {
            query = nil
        }
        let path = URLReference.removingDotSegments(PercentEncoding.normalize(parts.path, as: .path))

        var string = parts.scheme + "://"
        string += authority.host
        if let port = authority.port { string += ":\(port)" }
        string += path.isEmpty ? "/" : path
        if let query { string += "?" + query }

        guard let url = URL(string: string) else {
            throw URLCanonicalizationError(input: text, reason: .invalidHost(authority.host))
        }
        self.string = string
        self.scheme = parts.scheme
        self.host = authority.host
        self.port = authority.port
        self.path = path.isEmpty ? "/" : path
        self.query = query
        self.url = url
    }

    /// Canonicalises a Foundation `URL` (which must be absolute).
    ///
    /// - Throws: ``URLCanonicalizationError`` as ``init(_:relativeTo:sortQuery:)`` does.
    public init(_ url: URL, sortQuery: Bool = false) throws(URLCanonicalizationError) {
        try self.init(url.absoluteString, sortQuery: sortQuery)
    }

    /// The host with its port when the port is not the default: `example.com`,
    /// `127.0.0.1:8080`. Politeness limits (concurrency, delays, robots.txt) apply per authority,
    /// since two ports of one address are two servers.
    public var authority: String {
        port.map { "\(host):\($0)" } ?? host
    }

    /// `scheme://authority`, the origin robots.txt is fetched from.
    public var origin: String { "\(scheme)://\(authority)" }

    /// The path with the query, as a request line and robots.txt rules see it: `/a/b?x=1`.
    public var pathAndQuery: String {
        query.map { path + "?" + $0 } ?? path
    }

    /// The `robots.txt` URL of this URL's origin.
    public var robotsURL: CanonicalURL {
        // The origin of a valid canonical URL plus a fixed path is always valid.
        (try? CanonicalURL(origin + "/robots.txt")) ?? self
    }

    /// The canonical spelling (``string``).
    public var description: String { string }

    /// Whether the canonical spellings are equal.
    public static func == (lhs: CanonicalURL, rhs: CanonicalURL) -> Bool { lhs.string == rhs.string }
    /// Hashes the canonical spelling.
    public func hash(into hasher: inout Hasher) { hasher.combine(string) }
    /// Orders by the canonical spelling.
    public static func < (lhs: CanonicalURL, rhs: CanonicalURL) -> Bool { lhs.string < rhs.string }

    /// Encodes the canonical spelling as a single string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(string)
    }

    /// Decodes a string and canonicalises it.
    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        try self.init(text)
    }

    private static func sortedQuery(_ query: String) -> String {
        let parameters = query.split(separator: "&", omittingEmptySubsequences: true)
        let keyed = parameters.enumerated().map { offset, parameter in
            (key: parameter.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0], offset: offset, parameter: parameter)
        }
        let sorted = keyed.sorted { ($0.key, $0.offset) < ($1.key, $1.offset) }
        return sorted.map { String($0.parameter) }.joined(separator: "&")
    }
}

/// Why a text is not a URL a crawler can fetch.
public struct URLCanonicalizationError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What is wrong.
    public enum Reason: Hashable, Sendable {
        /// The text is a relative reference and there was no base URL to resolve it against.
        case relativeWithoutBase
        /// The scheme is not `http` or `https` (`mailto`, `ftp`, `javascript` …).
        case unsupportedScheme(String)
        /// There is no host (`http:///path`, `http:path`).
        case missingHost
        /// The host contains characters a host name cannot have.
        case invalidHost(String)
        /// The port is not a number from 0 to 65535.
        case invalidPort(String)
    }

    /// The text that was given.
    public var input: String
    /// What is wrong with it.
    public var reason: Reason

    /// An error for `input`.
    public init(input: String, reason: Reason) {
        self.input = input
        self.reason = reason
    }

    /// A sentence naming the input and the problem.
    public var description: String {
        switch reason {
        case .relativeWithoutBase:
            return "\"\(input)\" is a relative URL and there is no base URL to resolve it against"
        case .unsupportedScheme(let scheme):
            return "\"\(input)\" has scheme \"\(scheme)\": only http and https URLs can be crawled"
        case .missingHost:
            return "\"\(input)\" has no host"
        case .invalidHost(let host):
            return "\"\(input)\" has an invalid host \"\(host)\""
        case .invalidPort(let port):
            return "\"\(input)\" has an invalid port \"\(port)\" (expected 0 to 65535)"
        }
    }
}
