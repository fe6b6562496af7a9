/// A minimal gzip (RFC 1952) encoder for the site's `Content-Encoding: gzip` fault page.
///
/// It writes deflate *stored* blocks (RFC 1951 §3.2.4): a valid stream that any gzip decoder
/// must accept, without compressing. The point of the endpoint is to exercise the client's
/// decoding, and this keeps the server free of a zlib dependency.
enum GzipEncoding {
    /// `bytes` as a gzip member.
    static func encode(_ bytes: [UInt8]) -> [UInt8] {
        // ID1 ID2, CM = deflate, no flags, no modification time, no extra flags, OS unknown.
        var output: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 255]
        output.reserveCapacity(bytes.count + bytes.count / 65_535 * 5 + 32)
        var offset = 0
        repeat {
            let length = min(65_535, bytes.count - offset)
            let isFinal = offset + length == bytes.count
            output.append(isFinal ? 1 : 0)  // BFINAL, BTYPE = 00 (stored), padding to the byte
            output += littleEndian(UInt16(length))
            output += littleEndian(~UInt16(length))
            output += bytes[offset..<offset + length]
            offset += length
        } while offset < bytes.count
        output += littleEndian(crc32(bytes))
        output += littleEndian(UInt32(truncatingIfNeeded: bytes.count))
        return output
    }

    /// The CRC-32 (IEEE 802.3, reflected) that gzip's trailer carries.
    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var crc: UInt32 = 0xFFFF_FFFF
        for byte in bytes {
            crc = table[Int((crc ^ UInt32(byte)) & 0xFF)] ^ (crc >> 8)
        }
        return ~crc
    }

    private static let table: [UInt32] = (0..<256).map { index in
        var value = UInt32(index)
        for _ in 0..<8 {
            value = value & 1 == 1 ? 0xEDB8_8320 ^ (value >> 1) : value >> 1
        }
        return value
    }

    private static func littleEndian<T: FixedWidthInteger>(_ value: T) -> [UInt8] {
        (0..<(T.bitWidth / 8)).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) }
    }
}
