import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1

/// Fetches pages over HTTP(S) with one shared AsyncHTTPClient: connections are pooled and
/// reused per host, bodies are streamed and counted so memory stays bounded, and every failure
/// becomes a ``FetchError`` that names the URL.
///
/// A fetcher owns an `HTTPClient`, which must be shut down: prefer
/// ``withFetcher(_:isolation:_:)``; otherwise call ``shutdown()`` exactly once when done.
///
/// ```swift
/// try await withFetcher(FetchConfiguration(totalTimeout: .seconds(10))) { fetcher in
///     let page = try await fetcher.fetch(URL(string: "http://127.0.0.1:8080/sitehome/p/1")!)
///     print(page.status, page.bytes, page.decoded().text.prefix(80))
/// }
/// ```
///
/// Connection establishment is not retried inside the fetcher (a refused connection fails at
/// once with ``FetchError/Code/connectionFailed``): retrying, with backoff, is the crawler's
/// decision.
public final class Fetcher: Sendable {
    /// The configuration the fetcher was made with.
    public let configuration: FetchConfiguration
    private let client: HTTPClient

    /// A fetcher with its own `HTTPClient` on the shared event loops.
    ///
    /// - Parameters:
    ///   - configuration: Timeouts, limits, redirects and headers.
    ///   - backgroundActivityLogger: Where the client logs what is not tied to one request
    ///     (connection pool activity); silent by default.
    /// - Throws: ``FetchError`` with code ``FetchError/Code/invalidConfiguration`` for a field
    ///   out of range.
    public init(configuration: FetchConfiguration = .init(), backgroundActivityLogger: Logger? = nil) throws {
        try configuration.validate()
        self.configuration = configuration
        var clientConfiguration = HTTPClient.Configuration()
        // Redirects are followed here, hop by hop (see `followingRedirects`), so that every
        // target is checked before the client sees it.
        clientConfiguration.redirectConfiguration = .disallow
        clientConfiguration.timeout = .init(
            connect: TimeAmount(configuration.connectTimeout),
            read: TimeAmount(configuration.readTimeout)
        )
        clientConfiguration.connectionPool = .init(
            idleTimeout: .seconds(60),
            concurrentHTTP1ConnectionsPerHostSoftLimit: configuration.maxConnectionsPerHost
        )
        clientConfiguration.connectionPool.retryConnectionEstablishment = false
        // The size limit makes a decompression bomb fail inside the decoder, before the
        // inflated bytes reach us.
        clientConfiguration.decompression = configuration.decompression
            ? .enabled(limit: .size(configuration.maxBodySize))
            : .disabled
        self.client = HTTPClient(
            eventLoopGroup: HTTPClient.defaultEventLoopGroup,
            configuration: clientConfiguration,
            backgroundActivityLogger: backgroundActivityLogger ?? Logger(label: "spindle.fetch", factory: { _ in SwiftLogNoOpLogHandler() })
        )
    }

    /// Closes every connection and releases the client. Fetches still running fail; no fetch
    /// may start afterwards.
    public func shutdown() async throws {
        try await client.shutdown()
    }

    /// Fetches `url` (GET) and returns the response with its whole body, whatever its status.
    ///
    /// - Returns: The response; a 4xx or 5xx is a page with that ``FetchedPage/status``, and so
    ///   is a 3xx when redirects are not followed.
    /// - Throws: ``FetchError`` — ``FetchError/Code/invalidURL`` or
    ///   ``FetchError/Code/unsupportedScheme`` before any I/O; ``FetchError/Code/timeout``
    ///   when connecting, a silence or the whole fetch outlasts its timeout;
    ///   ``FetchError/Code/connectionFailed``, ``FetchError/Code/connectionClosed``,
    ///   ``FetchError/Code/bodyTooLarge``, ``FetchError/Code/tooManyRedirects``,
    ///   ``FetchError/Code/other``. `CancellationError` when the calling task is cancelled.
    public func fetch(_ url: URL) async throws -> FetchedPage {
        let target = try Self.validated(url)
        let start = ContinuousClock.now
        let deadline = start + configuration.totalTimeout
        do {
            // AsyncHTTPClient's deadline covers the response head only, so the body is raced
            // against the same deadline here.
            return try await withThrowingTaskGroup(of: FetchedPage?.self) { group in
                group.addTask {
                    try await self.followingRedirects(url, target: target, start: start)
                }
                group.addTask {
                    try await Task.sleep(until: deadline, clock: .continuous)
                    return nil
                }
                defer { group.cancelAll() }
                if let page = try await group.next()! {
                    return page
                }
                throw FetchError(.timeout, url: target, "no complete response within the total timeout of \(configuration.totalTimeout)")
            }
        } catch {
            // The client reports a cancelled request as its own error; the caller should see
            // the cancellation it asked for.
            if Task.isCancelled { throw CancellationError() }
            throw error
        }
    }

    /// Fetches the URL written in `string` (see ``fetch(_:)-(URL)``).
    ///
    /// - Throws: ``FetchError`` with code ``FetchError/Code/invalidURL`` when `string` is not a
    ///   URL, and everything ``fetch(_:)-(URL)`` throws.
    public func fetch(_ string: String) async throws -> FetchedPage {
        guard let url = URL(string: string) else {
            throw FetchError(.invalidURL, url: string, "not a URL")
        }
        return try await fetch(url)
    }

    /// The redirect statuses followed (as browsers and AsyncHTTPClient do); 300 and 304 are not.
    private static let redirectStatuses: Set<Int> = [301, 302, 303, 307, 308]

    /// Fetches `url`, then each `Location` it redirects to while
    /// ``FetchConfiguration/followRedirects`` is on. Each target must be a fetchable URL (a
    /// server may send any text, a port past 65535 included), must not have been visited in this
    /// fetch, and at most ``FetchConfiguration/maxRedirects`` are followed.
    private func followingRedirects(_ url: URL, target: String, start: ContinuousClock.Instant) async throws -> FetchedPage {
        var page = try await transfer(url, target: target, start: start)
        guard configuration.followRedirects else { return page }
        var visited: Set<String> = [target]
        var hops = 0
        while Self.redirectStatuses.contains(page.status), let location = page.location.map(LinkResolution.removingCredentials) {
            let next: String
            do {
                next = try Self.validated(location)
            } catch let error as FetchError {
                throw FetchError(.invalidURL, url: target, "redirected to \(location.absoluteString): \(error.message)")
            }
            guard visited.insert(next).inserted else {
                throw FetchError(.tooManyRedirects, url: target, "the redirects go round in a cycle")
            }
            guard hops < configuration.maxRedirects else {
                throw FetchError(.tooManyRedirects, url: target, "more than \(configuration.maxRedirects) redirects")
            }
            hops += 1
            page = try await transfer(location, target: next, start: start)
        }
        page.requestedURL = url
        page.redirectCount = hops
        return page
    }

    /// The request, the head, then the body, counted against ``FetchConfiguration/maxBodySize``.
    private func transfer(_ url: URL, target: String, start: ContinuousClock.Instant) async throws -> FetchedPage {
        var request = HTTPClientRequest(url: target)
        request.headers.add(name: "User-Agent", value: configuration.userAgent)
        request.headers.add(name: "Accept", value: configuration.accept)
        if configuration.decompression {
            request.headers.add(name: "Accept-Encoding", value: "gzip, deflate")
        }
        let remaining = configuration.totalTimeout - (ContinuousClock.now - start)
        let response: HTTPClientResponse
        do {
            response = try await client.execute(request, deadline: .now() + TimeAmount(remaining))
        } catch {
            throw FetchError(mapping: error, url: target, phase: .beforeResponse, configuration: configuration)
        }

        let limit = configuration.maxBodySize
        let declaredLength = response.headers.first(name: "Content-Length").flatMap(Int.init)
        if let declaredLength, declaredLength > limit {
            throw FetchError(.bodyTooLarge, url: target, "Content-Length is \(declaredLength) bytes, more than the limit of \(limit)")
        }
        var body: [UInt8] = []
        body.reserveCapacity(min(declaredLength ?? 64 * 1024, limit))
        do {
            for try await chunk in response.body {
                guard body.count + chunk.readableBytes <= limit else {
                    throw FetchError(.bodyTooLarge, url: target, "the body exceeds the limit of \(limit) bytes")
                }
                body.append(contentsOf: chunk.readableBytesView)
            }
        } catch let error as FetchError {
            throw error
        } catch {
            throw FetchError(mapping: error, url: target, phase: .body, configuration: configuration)
        }
        return FetchedPage(
            requestedURL: url,
            url: url,
            status: Int(response.status.code),
            headers: response.headers,
            body: body,
            elapsed: ContinuousClock.now - start
        )
    }

    /// The URL as AsyncHTTPClient takes it, once it is known to be fetchable.
    private static func validated(_ url: URL) throws -> String {
        let text = url.absoluteString
        guard let scheme = url.scheme?.lowercased() else {
            throw FetchError(.invalidURL, url: text, "the URL has no scheme (expected http:// or https://)")
        }
        guard scheme == "http" || scheme == "https" else {
            throw FetchError(.unsupportedScheme, url: text, "the scheme \"\(scheme)\" is not supported (only http and https)")
        }
        guard let host = url.host, !host.isEmpty else {
            throw FetchError(.invalidURL, url: text, "the URL has no host")
        }
        // Foundation's URL takes any port number, and a port past 65535 would wrap or trap below.
        do {
            _ = try CanonicalURL(text)
        } catch {
            throw FetchError(.invalidURL, url: text, error.description)
        }
        return text
    }
}

/// Runs `body` with a new ``Fetcher`` and shuts it down when `body` returns or throws, like
/// AsyncHTTPClient's `withHTTPClient`.
///
/// - Throws: ``FetchError`` for an invalid configuration, or what `body` throws.
@discardableResult
public func withFetcher<Result>(
    _ configuration: FetchConfiguration = .init(),
    isolation: isolated (any Actor)? = #isolation,
    _ body: (Fetcher) async throws -> Result
) async throws -> Result {
    let fetcher = try Fetcher(configuration: configuration)
    let result: Result
    do {
        result = try await body(fetcher)
    } catch {
        try? await fetcher.shutdown()
        throw error
    }
    try await fetcher.shutdown()
    return result
}

extension TimeAmount {
    /// The same span as a NIO time amount (nanosecond precision).
    init(_ duration: Duration) {
        let (seconds, attoseconds) = duration.components
        self = .nanoseconds(seconds * 1_000_000_000 + attoseconds / 1_000_000_000)
    }
}
