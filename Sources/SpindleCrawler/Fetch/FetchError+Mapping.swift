import AsyncHTTPClient
import NIOCore
import NIOHTTP1

extension FetchError {
    /// When an error happened: before the response head arrived, or while the body streamed.
    enum Phase {
        case beforeResponse
        case body
    }

    /// Translates what AsyncHTTPClient and SwiftNIO throw into a ``FetchError`` naming `url`.
    init(mapping error: any Error, url: String, phase: Phase, configuration: FetchConfiguration) {
        if let error = error as? FetchError {
            self = error
            return
        }
        if let error = error as? HTTPClientError {
            self = Self.mapping(error, url: url, phase: phase, configuration: configuration)
            return
        }
        let typeName = String(reflecting: type(of: error))
        switch error {
        case let error as HTTPParserError where error == .invalidEOFState:
            self.init(.connectionClosed, url: url, "the connection closed before the response was complete", underlyingError: error)
        case let error as HTTPParserError:
            self.init(.other, url: url, "the response is not valid HTTP (\(error))", underlyingError: error)
        case ChannelError.connectTimeout:
            self.init(.timeout, url: url, "could not connect within \(configuration.connectTimeout)", underlyingError: error)
        case is IOError, is ChannelError:
            self.init(
                phase == .beforeResponse ? .connectionFailed : .connectionClosed,
                url: url,
                phase == .beforeResponse ? "cannot connect: \(error)" : "the connection failed mid-response: \(error)",
                underlyingError: error
            )
        // NIOPosix's NIOConnectionError (every address refused, or the name did not resolve)
        // and NIOHTTPCompression's DecompressionError come from modules this target does not
        // depend on directly, so they are recognised by name.
        case _ where typeName.hasSuffix("NIOConnectionError"):
            self.init(.connectionFailed, url: url, "cannot connect: \(error)", underlyingError: error)
        case _ where typeName.hasSuffix("DecompressionError") && "\(error)" == "limit":
            self.init(.bodyTooLarge, url: url, "the decompressed body exceeds the limit of \(configuration.maxBodySize) bytes", underlyingError: error)
        case _ where typeName.contains("Decompression"):
            self.init(.other, url: url, "the body could not be decompressed (\(error))", underlyingError: error)
        default:
            self.init(
                phase == .beforeResponse ? .connectionFailed : .other,
                url: url,
                "\(phase == .beforeResponse ? "request failed" : "reading the body failed"): \(error)",
                underlyingError: error
            )
        }
    }

    private static func mapping(_ error: HTTPClientError, url: String, phase: Phase, configuration: FetchConfiguration) -> FetchError {
        func make(_ code: Code, _ message: String) -> FetchError {
            FetchError(code, url: url, message, underlyingError: error)
        }
        switch error {
        case .deadlineExceeded:
            return make(.timeout, "no complete response within the total timeout of \(configuration.totalTimeout)")
        case .readTimeout:
            return make(.timeout, "no data for the read timeout of \(configuration.readTimeout)")
        case .connectTimeout, .getConnectionFromPoolTimeout:
            return make(.timeout, "could not connect within \(configuration.connectTimeout)")
        case .remoteConnectionClosed:
            return make(.connectionClosed, "the server closed the connection before the response was complete")
        case .redirectLimitReached:
            return make(.tooManyRedirects, "more than \(configuration.maxRedirects) redirects")
        case .redirectCycleDetected:
            return make(.tooManyRedirects, "the redirects go round in a cycle")
        case .invalidURL, .emptyHost, .emptyScheme:
            return make(.invalidURL, "AsyncHTTPClient cannot fetch this URL (\(error.shortDescription))")
        case .cancelled:
            return make(.other, "the request was cancelled")
        default:
            if error.shortDescription.lowercased().contains("unsupported scheme") {
                return make(.unsupportedScheme, "the scheme is not supported (only http and https)")
            }
            return make(phase == .beforeResponse ? .connectionFailed : .other, "\(error.shortDescription)")
        }
    }
}
