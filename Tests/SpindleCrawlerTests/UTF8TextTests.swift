import Foundation
@testable import SpindleCrawler
@testable import SpindleServer
import Testing

/// The crawl parses a body as it is when it is already the page's UTF-8 text; these check that
/// this shortcut gives exactly what decoding would.
@Suite("UTF-8 text without decoding")
struct UTF8TextTests {
    private static func isValid(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBufferPointer { TextDecoding.isValidUTF8($0) }
    }

    @Test("the validator agrees with the standard library on edge cases")
    func edgeCases() {
        let cases: [[UInt8]] = [
            [], Array("plain ASCII, longer than eight bytes".utf8), Array("café 博客园 😀".utf8),
            [0xC2, 0x80], [0xDF, 0xBF], [0xE0, 0xA0, 0x80], [0xEF, 0xBF, 0xBF], [0xF0, 0x90, 0x80, 0x80], [0xF4, 0x8F, 0xBF, 0xBF],
            // Overlong forms, surrogates, beyond U+10FFFF, stray continuation bytes, bad leads.
            [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x9F, 0xBF], [0xF0, 0x8F, 0xBF, 0xBF], [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF],
            [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xFF], [0x80], [0xBF, 0x41],
            // Truncated at the end, and after eight ASCII bytes (the word-at-a-time path).
            [0xE2, 0x82], Array("12345678".utf8) + [0xF0, 0x9F, 0x98], Array("12345678".utf8) + [0xC3],
            [0xE2, 0x41, 0x82], Array("abcdefg".utf8) + [0xC3, 0xA9] + Array("abcdefgh".utf8),
        ]
        for bytes in cases {
            #expect(Self.isValid(bytes) == (String(validating: bytes, as: UTF8.self) != nil), "\(bytes)")
        }
    }

    @Test("the validator agrees with the standard library on random bytes")
    func randomBytes() {
        var random = SplitMix64(seed: 0x0007_F8)
        // Mostly ASCII with UTF-8 sequences, some of them broken: the mix a crawl meets.
        let pieces: [[UInt8]] = [
            Array("a".utf8), Array("<p class=\"x\">".utf8), Array("é".utf8), Array("园".utf8), Array("😀".utf8),
            [0x80], [0xC3], [0xE5, 0x9B], [0xED, 0xA0, 0x80], [0xF8],
        ]
        var invalidSeen = 0
        for _ in 0..<3000 {
            var bytes: [UInt8] = []
            for _ in 0..<Int.random(in: 0...40, using: &random) {
                let piece = Int.random(in: 0..<100, using: &random)
                bytes += piece < 60 ? pieces[0] : piece < 75 ? pieces[1] : pieces[2 + piece % (pieces.count - 2)]
            }
            let expected = String(validating: bytes, as: UTF8.self) != nil
            if !expected { invalidSeen += 1 }
            #expect(Self.isValid(bytes) == expected, "\(bytes)")
        }
        #expect(invalidSeen > 100 && invalidSeen < 2900)
    }

    @Test("the body is the text when it decodes as UTF-8 and is valid; otherwise there is no shortcut")
    func shortcutOnlyWhenExact() {
        let utf8Page = Array("<html><head><meta charset=\"utf-8\"></head><body><a href=\"/x\">博客</a></body></html>".utf8)
        let cases: [(body: [UInt8], header: String?, shortcut: Bool)] = [
            (utf8Page, nil, true),
            (utf8Page, "text/html; charset=UTF-8", true),
            ([0xEF, 0xBB, 0xBF] + utf8Page, "text/html; charset=iso-8859-1", true),  // the BOM wins
            (utf8Page, "text/html; charset=iso-8859-1", false),
            (Array("<p>caf".utf8) + [0xE9] + Array("</p>".utf8), nil, false),  // invalid UTF-8
            ([0xFF, 0xFE, 0x3C, 0x00], nil, false),  // UTF-16
        ]
        for (body, header, shortcut) in cases {
            let page = FetchedPage(
                requestedURL: URL(string: "http://127.0.0.1/")!, url: URL(string: "http://127.0.0.1/")!, status: 200,
                headers: header.map { ["Content-Type": $0] } ?? [:], body: body)
            let text = page.withUTF8Text { Array($0) }
            #expect((text != nil) == shortcut, "\(body.prefix(8)) \(header ?? "-")")
            if let text {
                #expect(text == Array(page.decoded().text.utf8))
            }
        }
    }

    @Test("extracting from a page gives what extracting from its decoded text gives, shortcut or not")
    func extractionIsTheSame() throws {
        let extractor = try #require(HTMLStreamExtractor([HTMLStreamQuery(try CSSSelector("a"))], title: true))
        let html = "<html><head><title> Café 博客 </title><base href=\"/base/\"></head><body><a href=\"p?q=é\">Zoë</a><a href=x>ü</a></body></html>"
        let bodies: [(body: [UInt8], header: String?)] = [
            (Array(html.utf8), nil),
            (Array(html.utf8), "text/html; charset=windows-1252"),
            (Array(html.utf8) + [0xC3], nil),
        ]
        for (body, header) in bodies {
            let page = FetchedPage(
                requestedURL: URL(string: "http://127.0.0.1/a/b")!, url: URL(string: "http://127.0.0.1/a/b")!, status: 200,
                headers: header.map { ["Content-Type": $0] } ?? [:], body: body)
            let direct = extractor.extract(page)
            let decoded = extractor.extract(html: page.decoded().text, url: page.url)
            #expect(direct.matches == decoded.matches)
            #expect(direct.title == decoded.title)
            #expect(direct.baseURL == decoded.baseURL)
            #expect(direct.matches[0].count == 2)
        }
    }
}
