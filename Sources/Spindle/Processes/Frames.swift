#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Length-prefixed frames over a pipe: a 4-byte little-endian length, then the payload.
struct FrameChannel {
    /// Frames larger than this are refused, so a corrupt length cannot make us allocate gigabytes.
    /// The 4-byte counts inside a payload clamp instead of trapping: a count past `UInt32.max`
    /// belongs to a payload far over this limit, which `frame(_:)` refuses before it is sent.
    static let maxFrameSize = 256 << 20

    let readFD: Int32
    let writeFD: Int32

    enum Failure: Error {
        case closed
        case timedOut
        case tooLarge(Int)
        case system(String, Int32)
    }

    /// A payload with its length in front: the bytes of one frame.
    ///
    /// - Throws: `Failure.tooLarge` for a payload over ``maxFrameSize``, which the other side
    ///   would refuse (and whose length a 4-byte header may not even hold).
    static func frame(_ payload: [UInt8]) throws -> [UInt8] {
        guard payload.count <= maxFrameSize else { throw Failure.tooLarge(payload.count) }
        var frame = [UInt8]()
        frame.reserveCapacity(payload.count + 4)
        frame.appendLittleEndian(UInt32(clamping: payload.count))
        frame.append(contentsOf: payload)
        return frame
    }

    func write(_ payload: [UInt8]) throws {
        try Self.frame(payload).withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let n = Glibc.write(writeFD, raw.baseAddress! + offset, raw.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    if errno == EPIPE { throw Failure.closed }
                    throw Failure.system("write", errno)
                }
                offset += n
            }
        }
    }

    /// Reads one frame; nil when the other side closed the pipe between frames.
    func read(until deadline: Deadline? = nil) throws -> [UInt8]? {
        var header = [UInt8](repeating: 0, count: 4)
        guard try readExactly(into: &header, deadline: deadline, eofAllowed: true) else { return nil }
        let length = Int(UInt32(header[0]) | UInt32(header[1]) << 8 | UInt32(header[2]) << 16 | UInt32(header[3]) << 24)
        guard length <= Self.maxFrameSize else { throw Failure.tooLarge(length) }
        var payload = [UInt8](repeating: 0, count: length)
        _ = try readExactly(into: &payload, deadline: deadline, eofAllowed: false)
        return payload
    }

    private func readExactly(into buffer: inout [UInt8], deadline: Deadline?, eofAllowed: Bool) throws -> Bool {
        var offset = 0
        while offset < buffer.count {
            if let deadline { try waitReadable(deadline) }
            let n = buffer.withUnsafeMutableBytes { raw in
                Glibc.read(readFD, raw.baseAddress! + offset, raw.count - offset)
            }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure.system("read", errno)
            }
            if n == 0 {
                if offset == 0 && eofAllowed { return false }
                throw Failure.closed
            }
            offset += n
        }
        return true
    }

    private func waitReadable(_ deadline: Deadline) throws {
        while true {
            let remaining = deadline.nanoseconds - Deadline.now().nanoseconds
            if remaining <= 0 { throw Failure.timedOut }
            var pfd = pollfd(fd: readFD, events: Int16(POLLIN), revents: 0)
            let ms = Int32(min(Int64(Int32.max), (remaining + 999_999) / 1_000_000))
            let rc = poll(&pfd, 1, ms)
            if rc > 0 { return }
            if rc < 0 && errno != EINTR { throw Failure.system("poll", errno) }
        }
    }
}

/// A request to a worker: run `job` on each of `count` inputs, sent as one encoded array.
struct WorkerRequest {
    var taskID: UInt64
    var job: String
    var count: Int
    var inputs: [UInt8]

    func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(24 + job.utf8.count + inputs.count)
        out.appendLittleEndian(taskID)
        out.appendBytes(Array(job.utf8))
        out.appendLittleEndian(UInt32(clamping: count))
        out.appendBytes(inputs)
        return out
    }

    init(taskID: UInt64, job: String, count: Int, inputs: [UInt8]) {
        self.taskID = taskID
        self.job = job
        self.count = count
        self.inputs = inputs
    }

    init(decoding bytes: [UInt8]) throws {
        var reader = ByteReader(bytes)
        taskID = try reader.readUInt64()
        job = String(decoding: try reader.readBytes(), as: UTF8.self)
        count = Int(try reader.readUInt32())
        inputs = try reader.readBytes()
    }
}

/// A worker's answer: a status per input, the outputs of the inputs that succeeded as one encoded
/// array (in order), and a message for each input that did not (in order).
struct WorkerResponse {
    var taskID: UInt64
    var statuses: [UInt8]
    var outputs: [UInt8]
    var messages: [String]

    func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(32 + statuses.count + outputs.count)
        out.appendLittleEndian(taskID)
        out.appendBytes(statuses)
        out.appendBytes(outputs)
        out.appendLittleEndian(UInt32(clamping: messages.count))
        for message in messages { out.appendBytes(Array(message.utf8)) }
        return out
    }

    init(taskID: UInt64, statuses: [UInt8], outputs: [UInt8], messages: [String]) {
        self.taskID = taskID
        self.statuses = statuses
        self.outputs = outputs
        self.messages = messages
    }

    init(decoding bytes: [UInt8]) throws {
        var reader = ByteReader(bytes)
        taskID = try reader.readUInt64()
        statuses = try reader.readBytes()
        outputs = try reader.readBytes()
        let count = try reader.readUInt32()
        messages = try (0..<count).map { _ in String(decoding: try reader.readBytes(), as: UTF8.self) }
    }
}

struct MalformedFrame: Error {}

struct ByteReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    mutating func readUInt8() throws -> UInt8 {
        guard offset < bytes.count else { throw MalformedFrame() }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readUInt32() throws -> UInt32 {
        UInt32(truncatingIfNeeded: try readInteger(4))
    }

    mutating func readUInt64() throws -> UInt64 {
        try readInteger(8)
    }

    mutating func readBytes() throws -> [UInt8] {
        let count = Int(try readUInt32())
        guard count <= bytes.count - offset else { throw MalformedFrame() }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    private mutating func readInteger(_ size: Int) throws -> UInt64 {
        guard size <= bytes.count - offset else { throw MalformedFrame() }
        var value: UInt64 = 0
        for i in 0..<size { value |= UInt64(bytes[offset + i]) << (8 * UInt64(i)) }
        offset += size
        return value
    }
}

extension [UInt8] {
    mutating func appendLittleEndian<I: FixedWidthInteger>(_ value: I) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }

    mutating func appendBytes(_ bytes: [UInt8]) {
        appendLittleEndian(UInt32(clamping: bytes.count))
        append(contentsOf: bytes)
    }
}
