/// Percent-encoding normalisation shared by ``CanonicalURL`` and ``RobotsPolicy``, so that a
/// URL and a robots.txt rule that differ only in how they escape characters compare equal.
///
/// RFC 3986 section 6.2.2.2: escapes of unreserved characters (`%41` → `A`, `%7E` → `~`) are
/// decoded, other escapes get uppercase hex digits, and characters that may not appear in the
/// component as written (spaces, non-ASCII letters, `<`, `"` …) are encoded as UTF-8. Reserved
/// characters keep whatever form they had, because `/` and `%2F` mean different things.
enum PercentEncoding {
    /// Which characters may stand unencoded.
    enum Component {
        /// A path: unreserved, sub-delimiters, `:`, `@` and `/`.
        case path
        /// A query: what a path allows, plus `?`.
        case query

        fileprivate func allows(_ byte: UInt8) -> Bool {
            if PercentEncoding.isUnreserved(byte) { return true }
            switch byte {
            case UInt8(ascii: "!"), UInt8(ascii: "$"), UInt8(ascii: "&"), UInt8(ascii: "'"),
                UInt8(ascii: "("), UInt8(ascii: ")"), UInt8(ascii: "*"), UInt8(ascii: "+"),
                UInt8(ascii: ","), UInt8(ascii: ";"), UInt8(ascii: "="), UInt8(ascii: ":"),
                UInt8(ascii: "@"), UInt8(ascii: "/"):
                return true
            case UInt8(ascii: "?"):
                return self == .query
            default:
                return false
            }
        }
    }

    /// `text` with its escapes normalised and its disallowed characters encoded.
    static func normalize(_ text: some StringProtocol, as component: Component) -> String {
        let bytes = Array(text.utf8)
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == UInt8(ascii: "%") {
                if index + 2 < bytes.count, let high = hexValue(bytes[index + 1]), let low = hexValue(bytes[index + 2]) {
                    let decoded = high << 4 | low
                    if isUnreserved(decoded) {
                        output.append(decoded)
                    } else {
                        appendEscape(decoded, to: &output)
                    }
                    index += 3
                    continue
                }
                // A lone `%` is data, not the start of an escape.
                appendEscape(byte, to: &output)
            } else if component.allows(byte) {
                output.append(byte)
            } else {
                appendEscape(byte, to: &output)
            }
            index += 1
        }
        return String(decoding: output, as: UTF8.self)
    }

    /// RFC 3986 unreserved: `A-Z a-z 0-9 - . _ ~`.
    static func isUnreserved(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"),
            UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }

    private static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return byte - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return byte - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return byte - UInt8(ascii: "A") + 10
        default: return nil
        }
    }

    private static let hexDigits = Array("0123456789ABCDEF".utf8)

    private static func appendEscape(_ byte: UInt8, to output: inout [UInt8]) {
        output.append(UInt8(ascii: "%"))
        output.append(hexDigits[Int(byte >> 4)])
        output.append(hexDigits[Int(byte & 0x0F)])
    }
}
