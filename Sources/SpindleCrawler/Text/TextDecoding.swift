import Foundation

/// Where ``decodeHTML(body:contentTypeHeader:)`` learned the encoding it used.
public enum CharsetSource: Hashable, Sendable {
    /// A UTF-8 or UTF-16 byte-order mark at the start of the body.
    case byteOrderMark
    /// The `charset` parameter of the `Content-Type` header.
    case contentTypeHeader
    /// A `<meta charset>` or `<meta http-equiv="Content-Type">` near the start of the body.
    case metaTag
    /// Nothing usable was declared, so UTF-8 was assumed.
    case defaultUTF8
}

/// A response body decoded to text.
public struct DecodedHTML: Hashable, Sendable {
    /// The decoded text; byte sequences invalid in ``encoding`` are replaced by U+FFFD.
    public var text: String
    /// The encoding used: `.utf8`, `.isoLatin1`, `.ascii`, `.windowsCP1252`,
    /// `.utf16LittleEndian` or `.utf16BigEndian`.
    public var encoding: String.Encoding
    /// Where the encoding came from.
    public var source: CharsetSource
}

/// Decodes an HTML response body, choosing the encoding the way browsers do, in this order:
///
/// 1. a byte-order mark (UTF-8, UTF-16LE, UTF-16BE) — it cannot be mistaken, so it wins over
///    declarations, as in the WHATWG encoding standard;
/// 2. the `charset` parameter of `contentTypeHeader`;
/// 3. a `<meta charset=…>` or `<meta http-equiv="Content-Type" content="…; charset=…">` in the
///    first 4096 bytes, found by a byte-level scan, not a parse;
/// 4. UTF-8.
///
/// Supported labels are the usual spellings of UTF-8, UTF-16 (LE/BE), US-ASCII, ISO-8859-1
/// (latin1) and windows-1252. The single-byte ones all decode as windows-1252, which is what
/// browsers do because pages declaring latin-1 or ASCII routinely contain windows-1252 quotes
/// and dashes in 0x80–0x9F; the returned ``DecodedHTML/encoding`` still names the declared
/// encoding. A label that is not supported is skipped, ending in UTF-8.
///
/// Never fails: invalid sequences become U+FFFD.
///
/// - Parameters:
///   - body: The response body.
///   - contentTypeHeader: The `Content-Type` header value, if the response had one.
public func decodeHTML(body: some Collection<UInt8>, contentTypeHeader: String?) -> DecodedHTML {
    if let decoded = body.withContiguousStorageIfAvailable({ TextDecoding.decode($0, contentTypeHeader: contentTypeHeader) }) {
        return decoded
    }
    return Array(body).withUnsafeBufferPointer { TextDecoding.decode($0, contentTypeHeader: contentTypeHeader) }
}

enum TextDecoding {
    /// The encoding a body decodes in, where that was learned, and the length of the
    /// byte-order mark to skip.
    struct Choice {
        var encoding: String.Encoding
        var source: CharsetSource
        var skip = 0
    }

    static func decode(_ bytes: UnsafeBufferPointer<UInt8>, contentTypeHeader: String?) -> DecodedHTML {
        let choice = choose(bytes, contentTypeHeader: contentTypeHeader)
        let text = decode(UnsafeBufferPointer(rebasing: bytes[choice.skip...]), as: choice.encoding)
        return DecodedHTML(text: text, encoding: choice.encoding, source: choice.source)
    }

    /// The encoding, in the order ``decodeHTML(body:contentTypeHeader:)`` documents.
    static func choose(_ bytes: UnsafeBufferPointer<UInt8>, contentTypeHeader: String?) -> Choice {
        if let (encoding, length) = byteOrderMark(bytes) {
            return Choice(encoding: encoding, source: .byteOrderMark, skip: length)
        }
        if let header = contentTypeHeader,
            let label = charsetParameter(in: Array(header.utf8)),
            let encoding = encoding(forLabel: label)
        {
            return Choice(encoding: encoding, source: .contentTypeHeader)
        }
        var scanner = MetaCharsetScanner(UnsafeBufferPointer(rebasing: bytes.prefix(4096)))
        if let label = scanner.scan(), var encoding = encoding(forLabel: label) {
            // A meta tag was readable as ASCII, so the page is not really UTF-16 (WHATWG rule).
            if encoding == .utf16LittleEndian || encoding == .utf16BigEndian {
                encoding = .utf8
            }
            return Choice(encoding: encoding, source: .metaTag)
        }
        return Choice(encoding: .utf8, source: .defaultUTF8)
    }

    /// The bytes of `bytes` that are the UTF-8 of the text ``decode(_:contentTypeHeader:)``
    /// returns, when that text is the body itself: the body decodes as UTF-8 and is valid
    /// UTF-8 (a byte-order mark is left out). Nil otherwise.
    static func utf8Text(_ bytes: UnsafeBufferPointer<UInt8>, contentTypeHeader: String?) -> UnsafeBufferPointer<UInt8>? {
        let choice = choose(bytes, contentTypeHeader: contentTypeHeader)
        guard choice.encoding == .utf8 else { return nil }
        let text = UnsafeBufferPointer(rebasing: bytes[choice.skip...])
        return isValidUTF8(text) ? text : nil
    }

    /// Whether `bytes` is well-formed UTF-8 (Unicode's table 3-7: no overlong forms, no
    /// surrogates, nothing above U+10FFFF).
    ///
    /// A page is mostly ASCII, which this skips eight bytes at a time: about ten times as fast
    /// as the standard library's check inside `String(decoding:as:)`, which a crawl of big
    /// pages otherwise pays on every page.
    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        while index < count {
            while index + 8 <= count, UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                index += 8
            }
            guard index < count else { break }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            let second: ClosedRange<UInt8>
            switch lead {
            case 0xC2...0xDF: (length, second) = (2, 0x80...0xBF)
            case 0xE0: (length, second) = (3, 0xA0...0xBF)
            case 0xE1...0xEC, 0xEE...0xEF: (length, second) = (3, 0x80...0xBF)
            case 0xED: (length, second) = (3, 0x80...0x9F)
            case 0xF0: (length, second) = (4, 0x90...0xBF)
            case 0xF1...0xF3: (length, second) = (4, 0x80...0xBF)
            case 0xF4: (length, second) = (4, 0x80...0x8F)
            default: return false
            }
            guard index + length <= count, second.contains(base[index + 1]) else { return false }
            for offset in 2..<length where base[index + offset] & 0xC0 != 0x80 {
                return false
            }
            index += length
        }
        return true
    }

    /// Decodes bytes known to be in `encoding`; encodings not handled here are left to
    /// Foundation, then to UTF-8 with replacement characters.
    static func decode(_ bytes: some Collection<UInt8>, as encoding: String.Encoding) -> String {
        switch encoding {
        case .utf8:
            return String(decoding: bytes, as: UTF8.self)
        case .isoLatin1, .ascii, .windowsCP1252:
            return decodeWindows1252(bytes)
        case .utf16LittleEndian, .utf16BigEndian, .utf16:
            var units = Array(bytes)
            var bigEndian = encoding == .utf16BigEndian
            if units.starts(with: [0xFF, 0xFE]) || units.starts(with: [0xFE, 0xFF]) {
                bigEndian = units[0] == 0xFE
                units.removeFirst(2)
            }
            return decodeUTF16(units, bigEndian: bigEndian)
        default:
            return String(bytes: Array(bytes), encoding: encoding) ?? String(decoding: bytes, as: UTF8.self)
        }
    }

    static func byteOrderMark(_ bytes: UnsafeBufferPointer<UInt8>) -> (String.Encoding, Int)? {
        if bytes.starts(with: [0xEF, 0xBB, 0xBF]) { return (.utf8, 3) }
        if bytes.starts(with: [0xFF, 0xFE]) { return (.utf16LittleEndian, 2) }
        if bytes.starts(with: [0xFE, 0xFF]) { return (.utf16BigEndian, 2) }
        return nil
    }

    /// Maps a charset label to a supported encoding, as the WHATWG label table does.
    static func encoding(forLabel label: String) -> String.Encoding? {
        switch label.trimmingCharacters(in: .whitespaces).lowercased() {
        case "utf-8", "utf8", "unicode-1-1-utf-8", "unicode11utf8", "unicode20utf8", "x-unicode20utf8":
            .utf8
        case "iso-8859-1", "iso8859-1", "iso88591", "iso_8859-1", "iso_8859-1:1987", "latin1", "l1",
            "cp819", "ibm819", "iso-ir-100", "csisolatin1":
            .isoLatin1
        case "us-ascii", "ascii", "ansi_x3.4-1968", "cp367", "ibm367", "iso646-us", "csascii":
            .ascii
        case "windows-1252", "cp1252", "x-cp1252":
            .windowsCP1252
        case "utf-16", "utf-16le", "unicode", "ucs-2", "csunicode", "iso-10646-ucs-2", "unicodefeff":
            .utf16LittleEndian
        case "utf-16be", "unicodefffe":
            .utf16BigEndian
        default:
            nil
        }
    }

    /// The value of the first `charset=` parameter in a Content-Type value, quoted or not.
    static func charsetParameter(in value: [UInt8]) -> String? {
        let key = Array("charset".utf8)
        var index = 0
        while index + key.count <= value.count {
            guard value[index..<index + key.count].elementsEqual(key, by: { $0 | 0x20 == $1 }) else {
                index += 1
                continue
            }
            var cursor = index + key.count
            while cursor < value.count, value[cursor] == UInt8(ascii: " ") { cursor += 1 }
            guard cursor < value.count, value[cursor] == UInt8(ascii: "=") else {
                index = cursor
                continue
            }
            cursor += 1
            while cursor < value.count, value[cursor] == UInt8(ascii: " ") { cursor += 1 }
            var terminators: Set<UInt8> = [UInt8(ascii: ";"), UInt8(ascii: " "), UInt8(ascii: "\t")]
            if cursor < value.count, value[cursor] == UInt8(ascii: "\"") || value[cursor] == UInt8(ascii: "'") {
                terminators = [value[cursor]]
                cursor += 1
            }
            let end = value[cursor...].firstIndex(where: terminators.contains) ?? value.count
            let label = String(decoding: value[cursor..<end], as: UTF8.self)
            return label.isEmpty ? nil : label
        }
        return nil
    }

    private static func decodeWindows1252(_ bytes: some Collection<UInt8>) -> String {
        if bytes.allSatisfy({ $0 < 0x80 }) {
            return String(decoding: bytes, as: UTF8.self)
        }
        var scalars = String.UnicodeScalarView()
        for byte in bytes {
            let value = (0x80..<0xA0).contains(byte) ? windows1252C1[Int(byte - 0x80)] : UInt32(byte)
            scalars.append(Unicode.Scalar(value) ?? "\u{FFFD}")
        }
        return String(scalars)
    }

    /// Windows-1252's characters for 0x80–0x9F; the five unassigned bytes keep their C1 code
    /// points, as browsers do.
    private static let windows1252C1: [UInt32] = [
        0x20AC, 0x81, 0x201A, 0x0192, 0x201E, 0x2026, 0x2020, 0x2021,
        0x02C6, 0x2030, 0x0160, 0x2039, 0x0152, 0x8D, 0x017D, 0x8F,
        0x90, 0x2018, 0x2019, 0x201C, 0x201D, 0x2022, 0x2013, 0x2014,
        0x02DC, 0x2122, 0x0161, 0x203A, 0x0153, 0x9D, 0x017E, 0x0178,
    ]

    private static func decodeUTF16(_ bytes: [UInt8], bigEndian: Bool) -> String {
        var units: [UInt16] = []
        units.reserveCapacity(bytes.count / 2)
        var index = 0
        while index + 1 < bytes.count {
            let (first, second) = (UInt16(bytes[index]), UInt16(bytes[index + 1]))
            units.append(bigEndian ? first << 8 | second : second << 8 | first)
            index += 2
        }
        let text = String(decoding: units, as: UTF16.self)
        return bytes.count % 2 == 0 ? text : text + "\u{FFFD}"
    }
}
