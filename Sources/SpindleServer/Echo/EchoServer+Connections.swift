import Logging
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Answers every chunk read with the same bytes, ASCII `a`–`z` upper-cased.
///
/// Writes are flushed once per read burst (`channelReadComplete`), not per chunk. Reading stops
/// while replies do not drain: the `BackPressureHandler` in front of this one holds `read()`
/// until the channel is writable again. A read-idle event from the `IdleStateHandler` closes
/// the connection.
final class UppercaseEchoHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let logger: Logger

    init(logger: Logger) {
        self.logger = logger
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var buffer = unwrapInboundIn(data)
        buffer.uppercaseASCIILetters()
        context.write(wrapOutboundOut(buffer), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        context.flush()
        context.fireChannelReadComplete()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if let idle = event as? IdleStateHandler.IdleStateEvent, idle == .read {
            logger.debug("closing idle connection", metadata: ["peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
            context.close(promise: nil)
            return
        }
        context.fireUserInboundEventTriggered(event)
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        // A reset by the peer is ordinary for an echo server; anything else is worth a line.
        if let io = error as? IOError, io.errnoCode == ECONNRESET || io.errnoCode == EPIPE {
            logger.debug("connection reset", metadata: ["error": "\(error)"])
        } else {
            logger.info("closing connection after error", metadata: ["error": "\(error)"])
        }
        context.close(promise: nil)
    }
}

extension ByteBuffer {
    /// Upper-cases the ASCII letters of the readable bytes in place, as Python's `bytes.upper()`
    /// does; every other byte (digits, UTF-8 sequences) is left alone.
    mutating func uppercaseASCIILetters() {
        withUnsafeMutableReadableBytes { bytes in
            for index in bytes.indices {
                let byte = bytes[index]
                // `byte - a < 26` (wrapping) is `a...z` in one comparison.
                if byte &- UInt8(ascii: "a") < 26 {
                    bytes[index] = byte &- 32
                }
            }
        }
    }
}

/// The open connections of one server: admits up to the limit, counts, and closes them all at
/// shutdown (closing a listening socket does not close the connections it accepted).
final class EchoConnectionRegistry: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var rejected = 0
        var closing = false
    }

    private let limit: Int
    /// Protected by its own lock; touched once per connection, never per byte.
    private let state = NIOLockedValueBox(State())

    init(limit: Int) {
        self.limit = limit
    }

    var openCount: Int { state.withLockedValue { $0.open.count } }
    var rejectedCount: Int { state.withLockedValue { $0.rejected } }

    /// Takes in a new connection if there is room (and the server is not shutting down), and
    /// forgets it when it closes. Returns `false` when it must be turned away.
    func admit(_ channel: any Channel) -> Bool {
        let key = ObjectIdentifier(channel)
        let admitted = state.withLockedValue { state in
            guard !state.closing, state.open.count < limit else {
                state.rejected += 1
                return false
            }
            state.open[key] = channel
            return true
        }
        if admitted {
            channel.closeFuture.whenComplete { _ in
                self.state.withLockedValue { _ = $0.open.removeValue(forKey: key) }
            }
        }
        return admitted
    }

    /// Closes every open connection and admits no more.
    func closeAll() {
        let channels = state.withLockedValue { state in
            state.closing = true
            return Array(state.open.values)
        }
        for channel in channels {
            channel.close(promise: nil)
        }
    }
}
