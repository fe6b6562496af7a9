import Spindle

/// How a ``Fetcher`` talks to servers: timeouts, limits, redirects and headers.
public struct FetchConfiguration: Sendable, Equatable {
    /// How long establishing a TCP (and TLS) connection may take.
    public var connectTimeout: Duration
    /// How long the connection may stay silent while a response is awaited or streamed (an idle
    /// timeout, reset by every byte received).
    public var readTimeout: Duration
    /// The deadline of a whole fetch, from the call to the last byte of the body, redirects
    /// included.
    public var totalTimeout: Duration
    /// The largest body accepted, in bytes (after decompression). A larger body fails the fetch
    /// with ``FetchError/Code/bodyTooLarge`` as soon as it is known to be too large; no more
    /// than this is ever held in memory.
    public var maxBodySize: Int
    /// Whether redirects are followed. With `false`, a 3xx is returned as a ``FetchedPage``
    /// with its `Location` (``FetchedPage/location``) so the caller can check each hop itself.
    public var followRedirects: Bool
    /// The most redirects followed in one fetch; one more fails with
    /// ``FetchError/Code/tooManyRedirects``, as does a redirect cycle.
    public var maxRedirects: Int
    /// The `User-Agent` sent with every request.
    public var userAgent: String
    /// The `Accept` header sent with every request.
    public var accept: String
    /// Whether gzip and deflate bodies are asked for (`Accept-Encoding`) and decoded.
    public var decompression: Bool
    /// How many connections the fetcher may open to one host (scheme, host and port); further
    /// requests to that host wait for a free connection.
    public var maxConnectionsPerHost: Int

    /// The `User-Agent` Spindle sends: `spindle/<version>`.
    public static let defaultUserAgent = "spindle/\(spindleVersion)"

    /// A configuration; the defaults suit crawling: 5 s to connect, 15 s of silence, 30 s in
    /// all, 10 MiB bodies, up to 5 redirects, gzip on, 100 connections per host.
    public init(
        connectTimeout: Duration = .seconds(5),
        readTimeout: Duration = .seconds(15),
        totalTimeout: Duration = .seconds(30),
        maxBodySize: Int = 10 * 1024 * 1024,
        followRedirects: Bool = true,
        maxRedirects: Int = 5,
        userAgent: String = FetchConfiguration.defaultUserAgent,
        accept: String = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.8",
        decompression: Bool = true,
        maxConnectionsPerHost: Int = 100
    ) {
        self.connectTimeout = connectTimeout
        self.readTimeout = readTimeout
        self.totalTimeout = totalTimeout
        self.maxBodySize = maxBodySize
        self.followRedirects = followRedirects
        self.maxRedirects = maxRedirects
        self.userAgent = userAgent
        self.accept = accept
        self.decompression = decompression
        self.maxConnectionsPerHost = maxConnectionsPerHost
    }

    /// Checks every field and names the first one out of range.
    ///
    /// - Throws: ``FetchError`` with code ``FetchError/Code/invalidConfiguration``.
    public func validate() throws {
        func invalid(_ message: String) -> FetchError {
            FetchError(.invalidConfiguration, url: "", message)
        }
        for (name, value) in [("connectTimeout", connectTimeout), ("readTimeout", readTimeout), ("totalTimeout", totalTimeout)]
        where value <= .zero {
            throw invalid("\(name) must be positive, got \(value)")
        }
        if maxBodySize < 1 { throw invalid("maxBodySize must be at least 1 byte, got \(maxBodySize)") }
        if maxRedirects < 0 { throw invalid("maxRedirects must not be negative, got \(maxRedirects)") }
        if maxConnectionsPerHost < 1 {
            throw invalid("maxConnectionsPerHost must be at least 1, got \(maxConnectionsPerHost)")
        }
        // Scalars, not Characters: "\r\n" is one Character, equal to neither "\r" nor "\n".
        for (name, value) in [("userAgent", userAgent), ("accept", accept)]
        where value.unicodeScalars.contains(where: { $0 == "\r" || $0 == "\n" }) {
            throw invalid("\(name) must not contain line breaks")
        }
    }
}
