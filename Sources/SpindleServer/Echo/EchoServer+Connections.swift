import Logging
import NIOConcurrencyHelpers
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The whole pipeline of one echo connection, in one handler: answers every chunk read with
/// the same bytes, ASCII `a`–`z` upper-cased; holds reads while replies do not drain
/// (backpressure); closes the connection after the idle timeout; drains on shutdown.
///
/// It is one handler, not NIO's `IdleStateHandler` + `BackPressureHandler` + an echo handler,
/// because every event of every round trip (read, read complete, write, flush, the next
/// `read()`) walks each handler in the pipeline; with three the walks cost more CPU than the
/// echo. For the same reason the reply buffer is reused (no allocation per message once the
/// previous reply is written), replies are flushed once per read burst, the idle check reads the
/// clock once per burst and wakes up once per timeout, and nothing is logged per message.
final class EchoConnectionHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Sent down the pipeline at graceful shutdown: finish the replies already queued, send end
    /// of stream, stop answering.
    struct Drain: Sendable {}

    private let idleTimeout: TimeAmount
    private let registry: EchoConnectionRegistry
    private let logger: Logger

    /// Kept between messages: it is unshared again as soon as the previous reply is written,
    /// so writing into it allocates nothing.
    private var reply: ByteBuffer
    /// On the event loop's clock (`eventLoop.now`), which a test's `EmbeddedEventLoop` advances.
    private var lastReadAt = NIODeadline.uptimeNanoseconds(0)
    private var idleCheck: Scheduled<Void>?
    /// Tracks `channelWritabilityChanged`, so `read()` needs no atomic load.
    private var writable = true
    /// A `read()` held back while replies do not drain.
    private var readHeld = false
    private var draining = false
    private var bytesAnswered = 0
    private var reported = false

    init(idleTimeout: TimeAmount, registry: EchoConnectionRegistry, logger: Logger, allocator: ByteBufferAllocator) {
        self.idleTimeout = idleTimeout
        self.registry = registry
        self.logger = logger
        self.reply = allocator.buffer(capacity: 1024)
    }

    // MARK: Echo

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let chunk = unwrapInboundIn(data)
        // While draining, what arrives is read (so the final close is not a reset) but not answered.
        guard !draining else { return }
        reply.clear()
        reply.writeUppercasedASCII(of: chunk)
        bytesAnswered += chunk.readableBytes
        context.write(wrapOutboundOut(reply), promise: nil)
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        lastReadAt = context.eventLoop.now
        if !draining { context.flush() }
        context.fireChannelReadComplete()
    }

    // MARK: Backpressure

    func read(context: ChannelHandlerContext) {
        // Draining writes nothing more, so it may always read.
        if writable || draining {
            context.read()
        } else if !readHeld {
            readHeld = true
            registry.pausedChanged(by: 1)
        }
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable, readHeld {
            readHeld = false
            registry.pausedChanged(by: -1)
            // The client was silent because the server stopped reading it: its idle time
            // starts now.
            lastReadAt = context.eventLoop.now
            context.read()
        }
        context.fireChannelWritabilityChanged()
    }

    // MARK: Idle timeout

    func channelActive(context: ChannelHandlerContext) {
        lastReadAt = context.eventLoop.now
        scheduleIdleCheck(context: context, at: lastReadAt + idleTimeout)
        context.fireChannelActive()
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive {
            lastReadAt = context.eventLoop.now
            scheduleIdleCheck(context: context, at: lastReadAt + idleTimeout)
        }
    }

    private func scheduleIdleCheck(context: ChannelHandlerContext, at deadline: NIODeadline) {
        idleCheck?.cancel()
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        idleCheck = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.checkIdle(context: context)
        }
    }

    private func checkIdle(context: ChannelHandlerContext) {
        // A connection the server stopped reading (its replies do not drain) is not idle: the
        // silence is the server's own doing, and closing it would reset a client that is
        // still sending and reading.
        let now = context.eventLoop.now
        let silentUntil = readHeld ? now + idleTimeout : lastReadAt + idleTimeout
        if !readHeld, now >= silentUntil {
            logger.debug("closing idle connection", metadata: ["peer": "\(context.remoteAddress.map { "\($0)" } ?? "?")"])
            context.close(promise: nil)
        } else {
            scheduleIdleCheck(context: context, at: silentUntil)
        }
    }

    // MARK: Draining and closing

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard event is Drain else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard !draining else { return }
        draining = true
        if readHeld {
            readHeld = false
            registry.pausedChanged(by: -1)
            context.read()
        }
        // An empty write completes after every reply queued before it has been written; then
        // end of stream tells the client there is no more. The client's own close (or the
        // server's grace period) closes the connection.
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(context.channel.allocator.buffer(capacity: 0)), promise: written)
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        written.futureResult.whenComplete { result in
            let context = loopBound.value
            switch result {
            case .success:
                context.close(mode: .output).whenFailure { _ in loopBound.value.close(promise: nil) }
            case .failure:
                context.close(promise: nil)
            }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        finish()
    }

    private func finish() {
        idleCheck?.cancel()
        idleCheck = nil
        guard !reported else { return }
        reported = true
        if readHeld {
            readHeld = false
            registry.pausedChanged(by: -1)
        }
        registry.recordClosed(bytesAnswered: bytesAnswered)
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
    /// Appends the readable bytes of `other` with their ASCII letters upper-cased, as Python's
    /// `bytes.upper()` does; every other byte (digits, UTF-8 sequences) is copied unchanged.
    mutating func writeUppercasedASCII(of other: ByteBuffer) {
        let count = other.readableBytes
        reserveCapacity(minimumWritableBytes: count)
        let written = withUnsafeMutableWritableBytes { target in
            other.withUnsafeReadableBytes { source in
                for index in 0..<count {
                    let byte = source[index]
                    // `byte - a < 26` (wrapping) is `a...z` in one comparison.
                    target[index] = byte &- UInt8(ascii: "a") < 26 ? byte &- 32 : byte
                }
            }
            return count
        }
        moveWriterIndex(forwardBy: written)
    }
}

/// The open connections of one server: admits up to the limit, counts, drains them at graceful
/// shutdown and closes them all at the end (closing a listening socket does not close the
/// connections it accepted).
final class EchoConnectionRegistry: Sendable {
    private struct State {
        var open: [ObjectIdentifier: any Channel] = [:]
        var rejected = 0
        var paused = 0
        var closing = false
        var closedBytesAnswered = 0
        var waitingForAllClosed: [CheckedContinuation<Void, Never>] = []
    }

    private let limit: Int
    /// Protected by its own lock; touched once per connection (and per backpressure pause),
    /// never per message.
    private let state = NIOLockedValueBox(State())

    init(limit: Int) {
        self.limit = limit
    }

    var openCount: Int { state.withLockedValue { $0.open.count } }
    var rejectedCount: Int { state.withLockedValue { $0.rejected } }
    var pausedCount: Int { state.withLockedValue { $0.paused } }
    var closedBytesAnswered: Int { state.withLockedValue { $0.closedBytesAnswered } }

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
                let waiters = self.state.withLockedValue { state -> [CheckedContinuation<Void, Never>] in
                    _ = state.open.removeValue(forKey: key)
                    guard state.closing, state.open.isEmpty else { return [] }
                    defer { state.waitingForAllClosed = [] }
                    return state.waitingForAllClosed
                }
                for waiter in waiters { waiter.resume() }
            }
        }
        return admitted
    }

    /// A connection stopped (+1) or resumed (-1) reading because its replies did not drain.
    func pausedChanged(by delta: Int) {
        state.withLockedValue { $0.paused += delta }
    }

    /// A connection closed after answering `bytesAnswered` bytes.
    func recordClosed(bytesAnswered: Int) {
        state.withLockedValue { $0.closedBytesAnswered += bytesAnswered }
    }

    /// Admits no more connections and asks every open one to finish its queued replies and end.
    func drainAll() {
        for channel in stopAdmitting() {
            channel.pipeline.fireUserInboundEventTriggered(EchoConnectionHandler.Drain())
        }
    }

    /// Closes every open connection now and admits no more.
    func closeAll() {
        for channel in stopAdmitting() {
            channel.close(promise: nil)
        }
    }

    /// Marks the registry closing and returns the open connections (waking the waiters of
    /// ``allClosed()`` if there are none).
    private func stopAdmitting() -> [any Channel] {
        let (channels, waiters) = state.withLockedValue { state in
            state.closing = true
            let waiters = state.open.isEmpty ? state.waitingForAllClosed : []
            if state.open.isEmpty { state.waitingForAllClosed = [] }
            return (Array(state.open.values), waiters)
        }
        for waiter in waiters { waiter.resume() }
        return channels
    }

    /// Returns once the registry is closing and every connection has closed.
    func allClosed() async {
        await withCheckedContinuation { continuation in
            let done = state.withLockedValue { state in
                if state.closing, state.open.isEmpty { return true }
                state.waitingForAllClosed.append(continuation)
                return false
            }
            if done { continuation.resume() }
        }
    }
}
