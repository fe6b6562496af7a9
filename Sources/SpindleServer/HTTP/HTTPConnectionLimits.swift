import Hummingbird
import HummingbirdCore
import Logging
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1

/// What an HTTP server of Spindle's (`spindle serve`, `spindle site`) tolerates from a
/// connection, so that slow or silent clients cannot hold sockets and memory forever.
struct HTTPConnectionLimits: Sendable {
    /// A connection with no request in progress (before its first request, or after a reply
    /// on a keep-alive connection) is closed after this long.
    var idleTimeout: Duration
    /// A request's head (request line and headers) must arrive within this long: counted from
    /// when the connection opens for the first request, from its first byte for the next ones.
    /// Past it the client gets 408 and the connection closes.
    var headerTimeout: Duration
    /// Connections open at once; a connection beyond it is answered 503 and closed at once.
    /// Nil: no cap of this layer's.
    var maxConnections: Int?
    /// The most bytes of request headers; more is answered 431.
    var maxHeaderBytes: Int = 32 * 1024
}

/// Why a server turned a connection or request away before routing it.
enum HTTPRejection: String, Sendable, CaseIterable {
    /// The request could not be parsed: 400.
    case malformed
    /// The request's headers were larger than allowed: 431.
    case headerTooLarge = "header_too_large"
    /// The request's head did not arrive in time: 408.
    case headerTimeout = "header_timeout"
    /// The server already had its most connections: 503.
    case atCapacity = "at_capacity"

    var status: HTTPResponseStatus {
        switch self {
        case .malformed: .badRequest
        case .headerTooLarge: .requestHeaderFieldsTooLarge
        case .headerTimeout: .requestTimeout
        case .atCapacity: .serviceUnavailable
        }
    }

    /// The JSON body sent with the status.
    var body: String {
        switch self {
        case .malformed: #"{"error": "the request is not valid HTTP/1.1"}"#
        case .headerTooLarge: #"{"error": "the request's headers are too large"}"#
        case .headerTimeout: #"{"error": "the request's headers did not arrive in time"}"#
        case .atCapacity: #"{"error": "the server has too many connections open; retry in a second"}"#
        }
    }
}

/// Counts the open connections against ``HTTPConnectionLimits/maxConnections``.
final class HTTPConnectionCap: Sendable {
    let limit: Int
    private let open = NIOLockedValueBox(0)

    init(limit: Int) {
        self.limit = limit
    }

    /// Counts `channel` if there is room (until it closes); false if the cap is reached.
    func admit(_ channel: any Channel) -> Bool {
        let admitted = open.withLockedValue { open in
            guard open < limit else { return false }
            open += 1
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { [open] _ in open.withLockedValue { $0 -= 1 } }
        }
        return admitted
    }

    var openCount: Int { open.withLockedValue { $0 } }
}

/// Hummingbird's HTTP/1 channel with ``HTTPConnectionLimits`` enforced: its idle timeout and
/// header size limits, plus what it lacks: a header-read timeout (408), a connection cap that
/// refuses at once (503) instead of leaving clients in the listen backlog, HTTP/1.0 connections
/// closed after the reply unless they asked for keep-alive, and JSON answers for malformed
/// requests (400) and oversized headers (431) instead of a bare 400.
struct GuardedHTTP1Channel: ServerChildChannel {
    typealias Value = HTTP1Channel.Value

    let base: HTTP1Channel
    let limits: HTTPConnectionLimits
    let cap: HTTPConnectionCap?
    /// Called for every connection or request turned away (on an event loop: return at once).
    let onRejection: @Sendable (HTTPRejection) -> Void
    let capacityLog: RateLimitedLog

    init(
        responder: @escaping HTTPChannelHandler.Responder, limits: HTTPConnectionLimits, logger: Logger,
        onRejection: @escaping @Sendable (HTTPRejection) -> Void
    ) {
        let configuration = HTTP1Channel.Configuration(
            idleTimeout: TimeAmount(limits.idleTimeout),
            httpDecoderConfiguration: .init(maxHeaderFieldSize: limits.maxHeaderBytes, maxHeaderListSize: limits.maxHeaderBytes))
        base = HTTP1Channel(responder: responder, configuration: configuration)
        self.limits = limits
        cap = limits.maxConnections.map(HTTPConnectionCap.init(limit:))
        self.onRejection = onRejection
        capacityLog = RateLimitedLog(logger: logger)
    }

    /// A server builder for `Application(router:server:...)`.
    static func builder(
        limits: HTTPConnectionLimits, logger: Logger, onRejection: @escaping @Sendable (HTTPRejection) -> Void
    ) -> HTTPServerBuilder {
        HTTPServerBuilder { responder in
            GuardedHTTP1Channel(responder: responder, limits: limits, logger: logger, onRejection: onRejection)
        }
    }

    func setup(channel: any Channel, logger: Logger) -> EventLoopFuture<Value> {
        let admitted = cap?.admit(channel) ?? true
        if !admitted {
            onRejection(.atCapacity)
            capacityLog.record(
                "connection limit reached: answering new connections 503 and closing them",
                metadata: ["limit": "\(cap?.limit ?? 0)", "peer": "\(channel.remoteAddress.map { "\($0)" } ?? "?")"])
        }
        return base.setup(channel: channel, logger: logger).flatMapThrowing { value in
            let operations = channel.pipeline.syncOperations
            if !admitted {
                try operations.addHandler(RefuseConnectionHandler(), position: .first)
                return value
            }
            let decoder = try operations.handler(type: ByteToMessageHandler<HTTPRequestDecoder>.self)
            let guardHandler = HTTPRequestGuardHandler(headerTimeout: TimeAmount(limits.headerTimeout), onRejection: onRejection)
            try operations.addHandler(guardHandler, position: .after(decoder))
            try operations.addHandler(RequestBytesHandler(guardHandler: guardHandler), position: .first)
            return value
        }
    }

    func handle(value: Value, logger: Logger) async {
        await base.handle(value: value, logger: logger)
    }
}

extension HTTPRejection {
    /// The whole response, as bytes on the wire, closing the connection.
    var rawResponse: String {
        let status = self.status
        return "HTTP/1.1 \(status.code) \(status.reasonPhrase)\r\nContent-Type: application/json\r\n"
            + (self == .atCapacity ? "Retry-After: 1\r\n" : "")
            + "Content-Length: \(body.utf8.count)\r\nConnection: close\r\n\r\n\(body)"
    }
}

/// Answers a connection over the cap with 503 and closes it; reads nothing into the HTTP layer.
private final class RefuseConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(NIOAny(context.channel.allocator.buffer(string: HTTPRejection.atCapacity.rawResponse)))
            .whenComplete { _ in loopBound.value.close(promise: nil) }
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { channelActive(context: context) }
    }

    /// Whatever the client sent is dropped.
    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}

/// First in the pipeline: tells the guard when request bytes arrive (the header timer of a
/// keep-alive connection starts at the next request's first byte).
private final class RequestBytesHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer

    private let guardHandler: HTTPRequestGuardHandler

    init(guardHandler: HTTPRequestGuardHandler) {
        self.guardHandler = guardHandler
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guardHandler.requestBytesArrived()
        context.fireChannelRead(data)
    }
}

/// Between NIO's HTTP/1 decoder and Hummingbird: the header timeout, HTTP/1.0 closes, and
/// JSON answers to parse errors.
final class HTTPRequestGuardHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias InboundOut = HTTPServerRequestPart
    typealias OutboundIn = HTTPServerResponsePart
    typealias OutboundOut = HTTPServerResponsePart

    private let headerTimeout: TimeAmount
    private let onRejection: @Sendable (HTTPRejection) -> Void
    private var context: ChannelHandlerContext?
    /// Request heads read whose response has not ended (more than one when pipelined).
    private var openRequests = 0
    /// No request is being read or answered: the next bytes start one.
    private var awaitingHead: Bool { openRequests == 0 }
    /// A response has started and not ended.
    private var responding = false
    private var headerTimer: Scheduled<Void>?
    private var closing = false

    init(headerTimeout: TimeAmount, onRejection: @escaping @Sendable (HTTPRejection) -> Void) {
        self.headerTimeout = headerTimeout
        self.onRejection = onRejection
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        // The first request's head is due from the moment the connection opens: a socket
        // that never sends a byte is closed as one that sends half a header.
        armHeaderTimer()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        headerTimer?.cancel()
        headerTimer = nil
        self.context = nil
    }

    func requestBytesArrived() {
        if awaitingHead, headerTimer == nil { armHeaderTimer() }
    }

    private func armHeaderTimer() {
        guard let context, !closing else { return }
        headerTimer?.cancel()
        let loopBound = NIOLoopBound(self, eventLoop: context.eventLoop)
        headerTimer = context.eventLoop.scheduleTask(in: headerTimeout) {
            loopBound.value.headerTimedOut()
        }
    }

    private func headerTimedOut() {
        headerTimer = nil
        guard awaitingHead, !responding else { return }
        reject(.headerTimeout)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var part = unwrapInboundIn(data)
        if case .head(var head) = part {
            openRequests += 1
            headerTimer?.cancel()
            headerTimer = nil
            // Hummingbird keeps a connection open unless the request says `Connection: close`;
            // an HTTP/1.0 request without keep-alive means the same.
            if !head.isKeepAlive, head.headers["connection"].first?.lowercased() != "close" {
                head.headers.replaceOrAdd(name: "connection", value: "close")
                part = .head(head)
            }
        }
        context.fireChannelRead(wrapInboundOut(part))
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        switch unwrapOutboundIn(data) {
        case .head: responding = true
        case .body: break
        case .end:
            responding = false
            openRequests = max(0, openRequests - 1)
        }
        context.write(data, promise: promise)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        guard let parseError = error as? HTTPParserError else {
            context.fireErrorCaught(error)
            return
        }
        if responding || closing {
            // A reply is half sent: another status cannot follow it.
            context.close(promise: nil)
        } else {
            reject(parseError == .headerOverflow ? .headerTooLarge : .malformed)
        }
    }

    /// Answers `rejection` with its JSON body and closes the connection.
    private func reject(_ rejection: HTTPRejection) {
        guard let context, !closing else { return }
        closing = true
        headerTimer?.cancel()
        headerTimer = nil
        onRejection(rejection)
        let body = context.channel.allocator.buffer(string: rejection.body)
        var headers = HTTPHeaders()
        headers.add(name: "content-type", value: "application/json")
        headers.add(name: "content-length", value: String(body.readableBytes))
        headers.add(name: "connection", value: "close")
        context.write(wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: rejection.status, headers: headers))), promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).whenComplete { _ in
            loopBound.value.close(promise: nil)
        }
    }
}
