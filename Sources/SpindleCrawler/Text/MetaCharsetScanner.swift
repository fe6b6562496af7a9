/// Finds the charset declared by a `<meta>` tag by scanning bytes as ASCII, without parsing the
/// page: a simplified form of the WHATWG "prescan a byte stream to determine its encoding".
///
/// Comments are skipped so a commented-out declaration does not count; the first `<meta>` with
/// a `charset` attribute, or with `http-equiv="Content-Type"` and a `content` naming a charset,
/// wins.
struct MetaCharsetScanner {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var index = 0

    init(_ bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// The declared charset label, as written (not yet validated).
    mutating func scan() -> String? {
        while index < bytes.count {
            if hasPrefix("<!--") {
                index = firstIndex(of: "-->").map { $0 + 3 } ?? bytes.count
            } else if hasPrefix("<meta"), index + 5 < bytes.count, isSpace(bytes[index + 5]) || bytes[index + 5] == slash {
                index += 5
                if let charset = metaCharset() {
                    return charset
                }
            } else if bytes[index] == lessThan, index + 1 < bytes.count, isLetter(bytes[index + 1]) || bytes[index + 1] == slash {
                // Skip other tags whole, so attribute values are not scanned for "<meta".
                index = firstIndex(of: ">").map { $0 + 1 } ?? bytes.count
            } else {
                index += 1
            }
        }
        return nil
    }

    private mutating func metaCharset() -> String? {
        var charset: String?
        var isContentTypePragma = false
        var content: String?
        while let (name, value) = nextAttribute() {
            switch name {
            case "charset" where charset == nil:
                charset = value
            case "http-equiv":
                isContentTypePragma = value.lowercased() == "content-type"
            case "content" where content == nil:
                content = value
            default:
                break
            }
        }
        if let charset, !charset.isEmpty {
            return charset
        }
        if isContentTypePragma, let content {
            return TextDecoding.charsetParameter(in: Array(content.utf8))
        }
        return nil
    }

    /// The next `name=value` pair of the current tag, or `nil` after its `>`.
    private mutating func nextAttribute() -> (String, String)? {
        while true {
            while index < bytes.count, isSpace(bytes[index]) || bytes[index] == slash {
                index += 1
            }
            guard index < bytes.count, bytes[index] != greaterThan else {
                index += 1
                return nil
            }
            let nameStart = index
            while index < bytes.count, !isSpace(bytes[index]), ![equals, greaterThan, slash].contains(bytes[index]) {
                index += 1
            }
            if index == nameStart {
                index += 1  // a stray "=": not an attribute
                continue
            }
            let name = String(decoding: bytes[nameStart..<index], as: UTF8.self).lowercased()
            skipSpaces()
            guard index < bytes.count, bytes[index] == equals else {
                return (name, "")
            }
            index += 1
            skipSpaces()
            guard index < bytes.count else { return (name, "") }
            let valueRange: Range<Int>
            let quote = bytes[index]
            if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
                let end = bytes[(index + 1)...].firstIndex(of: quote) ?? bytes.count
                valueRange = (index + 1)..<end
                index = end + 1
            } else {
                let start = index
                while index < bytes.count, !isSpace(bytes[index]), bytes[index] != greaterThan {
                    index += 1
                }
                valueRange = start..<index
            }
            return (name, String(decoding: bytes[valueRange], as: UTF8.self))
        }
    }

    private mutating func skipSpaces() {
        while index < bytes.count, isSpace(bytes[index]) {
            index += 1
        }
    }

    /// Whether the bytes at `index` start with `prefix`, ignoring ASCII case.
    private func hasPrefix(_ prefix: StaticString) -> Bool {
        let count = prefix.utf8CodeUnitCount
        guard index + count <= bytes.count else { return false }
        let start = prefix.utf8Start
        for offset in 0..<count where lowercased(bytes[index + offset]) != start[offset] {
            return false
        }
        return true
    }

    private func firstIndex(of needle: StaticString) -> Int? {
        var scanner = self
        while scanner.index < bytes.count {
            if scanner.hasPrefix(needle) {
                return scanner.index
            }
            scanner.index += 1
        }
        return nil
    }

    private func lowercased(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte | 0x20 : byte
    }

    private func isLetter(_ byte: UInt8) -> Bool {
        (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(lowercased(byte))
    }

    private func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }

    private let slash = UInt8(ascii: "/")
    private let lessThan = UInt8(ascii: "<")
    private let greaterThan = UInt8(ascii: ">")
    private let equals = UInt8(ascii: "=")
}
