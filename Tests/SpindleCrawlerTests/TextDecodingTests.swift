import Foundation
import SpindleCrawler
import Testing

@Suite("TextDecoding")
struct TextDecodingTests {
    /// "café" in ISO-8859-1.
    private static let cafeLatin1: [UInt8] = [0x63, 0x61, 0x66, 0xE9]

    private static func ascii(_ text: String) -> [UInt8] {
        Array(text.utf8)
    }

    @Test("uses the charset from the Content-Type header")
    func header() {
        let decoded = decodeHTML(body: Self.cafeLatin1, contentTypeHeader: "text/html; charset=ISO-8859-1")
        #expect(decoded.text == "café")
        #expect(decoded.encoding == .isoLatin1)
        #expect(decoded.source == .contentTypeHeader)

        let quoted = decodeHTML(body: [0x93, 0x68, 0x69, 0x94, 0x80], contentTypeHeader: "text/html;CharSet=\"windows-1252\"")
        #expect(quoted.text == "\u{201C}hi\u{201D}€")
        #expect(quoted.encoding == .windowsCP1252)
    }

    @Test("single-byte labels decode as windows-1252, as browsers do")
    func latinFamily() {
        let bytes: [UInt8] = [0x80, 0x20, 0x96, 0x20, 0xE9, 0x20, 0x81]
        for label in ["iso-8859-1", "latin1", "us-ascii", "windows-1252"] {
            let decoded = decodeHTML(body: bytes, contentTypeHeader: "text/html; charset=\(label)")
            #expect(decoded.text == "€ – é \u{81}", "\(label)")
        }
        #expect(decodeHTML(body: bytes, contentTypeHeader: "text/html; charset=us-ascii").encoding == .ascii)
    }

    @Test("finds <meta charset> near the start of the body")
    func metaCharset() {
        let body = Self.ascii("<!doctype html><html><head><META Charset='ISO-8859-1'><title>") + Self.cafeLatin1 + Self.ascii("</title>")
        let decoded = decodeHTML(body: body, contentTypeHeader: "text/html")
        #expect(decoded.text.hasSuffix("<title>café</title>"))
        #expect(decoded.encoding == .isoLatin1)
        #expect(decoded.source == .metaTag)
    }

    @Test("finds <meta http-equiv=Content-Type> near the start of the body")
    func metaHTTPEquiv() {
        let body = Self.ascii("<head><meta content=\"text/html; charset=latin1\" http-equiv=\"Content-Type\" /></head><p>")
            + Self.cafeLatin1
        let decoded = decodeHTML(body: body, contentTypeHeader: nil)
        #expect(decoded.text.hasSuffix("<p>café"))
        #expect(decoded.source == .metaTag)
        // A content attribute without http-equiv is not a declaration.
        let withoutPragma = Self.ascii("<meta name=x content=\"charset=latin1\">") + Self.cafeLatin1
        #expect(decodeHTML(body: withoutPragma, contentTypeHeader: nil).source == .defaultUTF8)
    }

    @Test("ignores declarations in comments, in attribute values, and beyond the first 4096 bytes")
    func ignoredDeclarations() {
        let utf8 = Self.ascii("café")
        let commented = Self.ascii("<!-- <meta charset=latin1> -->") + utf8
        #expect(decodeHTML(body: commented, contentTypeHeader: nil).text.hasSuffix("café"))
        let inAttribute = Self.ascii("<div title=\"<meta charset=latin1>\">") + utf8
        #expect(decodeHTML(body: inAttribute, contentTypeHeader: nil).source == .defaultUTF8)
        let late = Self.ascii("<p>" + String(repeating: " ", count: 4096) + "<meta charset=latin1>") + utf8
        #expect(decodeHTML(body: late, contentTypeHeader: nil).source == .defaultUTF8)
    }

    @Test("the header wins over meta, and unknown labels fall through")
    func precedence() {
        let body = Self.ascii("<meta charset=iso-8859-1>café")
        let byHeader = decodeHTML(body: body, contentTypeHeader: "text/html; charset=utf-8")
        #expect(byHeader.text == "<meta charset=iso-8859-1>café")
        #expect(byHeader.source == .contentTypeHeader)

        let unknownHeader = decodeHTML(body: Self.ascii("<meta charset=latin1>") + Self.cafeLatin1, contentTypeHeader: "text/html; charset=x-klingon")
        #expect(unknownHeader.source == .metaTag)
        #expect(unknownHeader.text.hasSuffix("café"))

        let unknownEverywhere = decodeHTML(body: Self.ascii("<meta charset=x-klingon>caf") + [0xE9], contentTypeHeader: "text/html; charset=ebcdic-x")
        #expect(unknownEverywhere.encoding == .utf8)
        #expect(unknownEverywhere.source == .defaultUTF8)
        #expect(unknownEverywhere.text.hasSuffix("caf\u{FFFD}"))
    }

    @Test("invalid UTF-8 becomes replacement characters")
    func invalidUTF8() {
        let decoded = decodeHTML(body: [0x61, 0xFF, 0x62, 0xC3, 0x28, 0xE2, 0x82], contentTypeHeader: "text/html; charset=utf-8")
        #expect(decoded.text == "a\u{FFFD}b\u{FFFD}(\u{FFFD}")
        #expect(decodeHTML(body: [UInt8](), contentTypeHeader: nil).text == "")
    }

    @Test("a byte-order mark selects UTF-8 or UTF-16 and wins over declarations")
    func byteOrderMarks() {
        let utf16LE: [UInt8] = [0xFF, 0xFE, 0x68, 0x00, 0xE9, 0x00, 0x3D, 0xD8, 0x32, 0xDE]
        let little = decodeHTML(body: utf16LE, contentTypeHeader: "text/html; charset=iso-8859-1")
        #expect(little.text == "hé😲")
        #expect(little.encoding == .utf16LittleEndian)
        #expect(little.source == .byteOrderMark)

        let big = decodeHTML(body: [0xFE, 0xFF, 0x00, 0x68, 0x00, 0xE9, 0x00], contentTypeHeader: nil)
        #expect(big.text == "hé\u{FFFD}")  // the odd trailing byte
        #expect(big.encoding == .utf16BigEndian)

        let utf8 = decodeHTML(body: [0xEF, 0xBB, 0xBF] + Self.ascii("café"), contentTypeHeader: nil)
        #expect(utf8.text == "café")
        #expect(utf8.source == .byteOrderMark)
    }

    @Test("a UTF-16 meta declaration in an ASCII-readable page means UTF-8")
    func utf16Meta() {
        let decoded = decodeHTML(body: Self.ascii("<meta charset=utf-16>café"), contentTypeHeader: nil)
        #expect(decoded.encoding == .utf8)
        #expect(decoded.text.hasSuffix("café"))
    }

    @Test("accepts collections without contiguous storage")
    func lazyCollection() {
        let decoded = decodeHTML(body: Self.cafeLatin1.lazy.map { $0 }, contentTypeHeader: "text/html; charset=latin1")
        #expect(decoded.text == "café")
    }

    @Test("HTMLDocument decodes bytes with a header, a meta tag or an explicit encoding")
    func documentFromBytes() throws {
        let page = Self.ascii("<html><head><title>") + Self.cafeLatin1 + Self.ascii("</title></head></html>")
        #expect(HTMLDocument(bytes: page, contentTypeHeader: "text/html; charset=iso-8859-1").title == "café")
        #expect(HTMLDocument(bytes: page, encoding: .isoLatin1).title == "café")
        #expect(HTMLDocument(bytes: page).title == "caf\u{FFFD}")

        let declared = Self.ascii("<meta http-equiv=content-type content='text/html;charset=windows-1252'><title>") + [0x93, 0x78, 0x94]
        #expect(HTMLDocument(bytes: declared).title == "\u{201C}x\u{201D}")
    }
}
