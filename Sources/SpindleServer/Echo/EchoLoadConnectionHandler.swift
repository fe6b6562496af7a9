import Histogram
import NIOCore

/// What one load connection measured.
struct EchoConnectionStats: Sendable {
    var roundTrips = 0
    var wrongReplies = 0
    var disconnected = false
    var latency = EchoConnectionStats.emptyHistogram()

    /// Microseconds from 1 µs to 60 s at three significant digits; it grows only as far as
    /// the values recorded need, so a hundred of them stay small.
    static func emptyHistogram() -> Histogram<UInt64> {
        var histogram = Histogram<UInt64>(numberOfSignificantValueDigits: .three)
        histogram.autoResize = true
        return histogram
    }
}

/// One connection of ``EchoLoadClient``: sends the message, reads the reply back until it has
/// as many bytes as it sent, compares them with the expected reply byte by byte as they arrive
/// (nothing is copied), records the latency, and sends again until the deadline.
///
/// It waits for a ``Start`` event so that every connection is open before the clock starts, and
/// reports to `finished` exactly once: at the deadline, or when the connection ends (a
/// connection that ends before the deadline, even before the start, counts as disconnected).
final class EchoLoadConnectionHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    /// Begins the load on this connection.
    struct Start: Sendable {
        var deadline: NIODeadline
    }

    private let message: ByteBuffer
    private let expectedReply: [UInt8]
    private var stats = EchoConnectionStats()
    /// `nil` once reported.
    private var finished: EventLoopPromise<EchoConnectionStats>?
    private var started = false
    private var deadlineTask: Scheduled<Void>?
    private var deadline = NIODeadline.distantFuture
    /// Bytes of the current reply received so far, and whether any differed.
    private var received = 0
    private var replyDiffers = false
    private var sentAt = NIODeadline.uptimeNanoseconds(0)

    init(message: ByteBuffer, expectedReply: [UInt8], finished: EventLoopPromise<EchoConnectionStats>) {
        self.message = message
        self.expectedReply = expectedReply
        self.finished = finished
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        guard let start = event as? Start else {
            context.fireUserInboundEventTriggered(event)
            return
        }
        guard finished != nil, !started else { return }
        started = true
        deadline = start.deadline
        // A reply still in flight at the deadline is abandoned, not waited for.
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        deadlineTask = context.eventLoop.scheduleTask(deadline: deadline) {
            let (handler, context) = loopBound.value
            handler.finish(context: context)
        }
        send(context: context)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard started, finished != nil else { return }
        let chunk = unwrapInboundIn(data)
        chunk.withUnsafeReadableBytes { bytes in
            let comparable = min(bytes.count, expectedReply.count - received)
            // Bytes beyond the expected length cannot belong to a correct reply.
            if comparable < bytes.count { replyDiffers = true }
            for offset in 0..<max(0, comparable) where bytes[offset] != expectedReply[received + offset] {
                replyDiffers = true
                break
            }
            received += bytes.count
        }
        guard received >= expectedReply.count else { return }

        let now = NIODeadline.now()
        if replyDiffers {
            stats.wrongReplies += 1
        } else {
            stats.roundTrips += 1
            let micros = max(1, (now - sentAt).nanoseconds / 1000)
            stats.latency.record(UInt64(micros))
        }
        if now >= deadline {
            finish(context: context)
        } else {
            send(context: context)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        endedEarly()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        endedEarly()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func send(context: ChannelHandlerContext) {
        received = 0
        replyDiffers = false
        sentAt = .now()
        context.writeAndFlush(wrapOutboundOut(message), promise: nil)
    }

    /// The connection ended before the deadline: report it as disconnected.
    private func endedEarly() {
        guard let promise = finished else { return }
        finished = nil
        deadlineTask?.cancel()
        stats.disconnected = true
        promise.succeed(stats)
    }

    /// Reports at the deadline and closes the connection.
    private func finish(context: ChannelHandlerContext) {
        guard let promise = finished else { return }
        finished = nil
        deadlineTask?.cancel()
        deadlineTask = nil
        promise.succeed(stats)
        context.close(promise: nil)
    }
}
