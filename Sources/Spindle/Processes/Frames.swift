#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Length-prefixed frames over a pipe: a 4-byte little-endian length, then the payload.
struct FrameChannel {
    /// Frames larger than this are refused, so a corrupt length cannot make us allocate gigabytes.
    static let maxFrameSize = 256 << 20

    let readFD: Int32
    let writeFD: Int32

    enum Failure: Error {
        case closed
        case timedOut
        case tooLarge(Int)
        case system(String, Int32)
    }

    func write(_ payload: [UInt8]) throws {
        var frame = [UInt8]()
        frame.reserveCapacity(payload.count + 4)
        frame.appendLittleEndian(UInt32(payload.count))
        frame.append(contentsOf: payload)
        try frame.withUnsafeBytes { raw in
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

/// A request to a worker: run `job` on each input.
struct WorkerRequest {
    var taskID: UInt64
    var job: String
    var inputs: [[UInt8]]

    func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.reserveCapacity(16 + job.utf8.count + inputs.reduce(0) { $0 + $1.count + 4 })
        out.appendLittleEndian(taskID)
        out.appendBytes(Array(job.utf8))
        out.appendLittleEndian(UInt32(inputs.count))
        for input in inputs { out.appendBytes(input) }
        return out
    }

    init(taskID: UInt64, job: String, inputs: [[UInt8]]) {
        self.taskID = taskID
        self.job = job
        self.inputs = inputs
    }

    init(decoding bytes: [UInt8]) throws {
        var reader = ByteReader(bytes)
        taskID = try reader.readUInt64()
        job = String(decoding: try reader.readBytes(), as: UTF8.self)
        let count = try reader.readUInt32()
        inputs = try (0..<count).map { _ in try reader.readBytes() }
    }
}

/// A worker's answer: one status and payload per input.
struct WorkerResponse {
    var taskID: UInt64
    var items: [(status: UInt8, payload: [UInt8])]

    func encoded() -> [UInt8] {
        var out = [UInt8]()
        out.appendLittleEndian(taskID)
        out.appendLittleEndian(UInt32(items.count))
        for item in items {
            out.append(item.status)
            out.appendBytes(item.payload)
        }
        return out
    }

    init(taskID: UInt64, items: [(status: UInt8, payload: [UInt8])]) {
        self.taskID = taskID
        self.items = items
    }

    init(decoding bytes: [UInt8]) throws {
        var reader = ByteReader(bytes)
        taskID = try reader.readUInt64()
        let count = try reader.readUInt32()
        items = try (0..<count).map { _ in (try reader.readUInt8(), try reader.readBytes()) }
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
        appendLittleEndian(UInt32(bytes.count))
        append(contentsOf: bytes)
    }
}
