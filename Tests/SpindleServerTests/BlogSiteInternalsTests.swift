import Foundation
@testable import SpindleServer
import Testing

@Suite("BlogSite internals")
struct BlogSiteInternalsTests {
    @Test("SplitMix64 produces the reference sequence")
    func splitMixReference() {
        // Reference outputs of Vigna's splitmix64.c for seed 1234567.
        var random = SplitMix64(seed: 1_234_567)
        #expect(random.next() == 6_457_827_717_110_365_317)
        #expect(random.next() == 3_203_168_211_198_807_973)
        #expect(random.next() == 9_817_491_932_198_370_423)
    }

    @Test("SplitMix64 range helpers stay in range")
    func splitMixRanges() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<1_000 {
            #expect((0..<3).contains(random.below(3)))
            #expect((5...9).contains(random.inRange(5...9)))
        }
    }

    @Test("CRC-32 matches the standard check value")
    func crc32() {
        #expect(GzipEncoding.crc32(Array("123456789".utf8)) == 0xCBF4_3926)
        #expect(GzipEncoding.crc32([]) == 0)
    }

    @Test("gzip output is a header, stored blocks that hold the input, and the CRC/size trailer", arguments: [0, 10, 65_535, 65_536, 200_000])
    func gzipStoredBlocks(size: Int) throws {
        let input = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let encoded = GzipEncoding.encode(input)
        #expect(encoded.prefix(4) == [0x1F, 0x8B, 8, 0])
        var offset = 10
        var decoded: [UInt8] = []
        var final = false
        while !final {
            let header = encoded[offset]
            final = header & 1 == 1
            #expect(header >> 1 == 0, "stored block")
            let length = Int(encoded[offset + 1]) | Int(encoded[offset + 2]) << 8
            let complement = Int(encoded[offset + 3]) | Int(encoded[offset + 4]) << 8
            #expect(length == ~complement & 0xFFFF)
            decoded += encoded[(offset + 5)..<(offset + 5 + length)]
            offset += 5 + length
        }
        #expect(decoded == input)
        let trailer = Array(encoded[offset...])
        #expect(trailer.count == 8)
        let crc = trailer[0..<4].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
        let length = trailer[4..<8].enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
        #expect(crc == GzipEncoding.crc32(input))
        #expect(length == UInt32(size))
    }

    @Test("HTML escaping covers the five special characters")
    func escaping() {
        #expect(HTMLEscaping.escape("a & b <c> \"d\" 'e'") == "a &amp; b &lt;c&gt; &quot;d&quot; &#39;e&#39;")
        #expect(HTMLEscaping.escape("并发编程") == "并发编程")
    }

    @Test("the catalog finds every post by id and by page, and nothing outside the site")
    func catalogLookup() {
        let catalog = BlogCatalog(seed: 3, pages: 4, postsPerPage: 6)
        for page in 1...4 {
            for post in catalog.posts(onPage: page) {
                #expect(catalog.post(id: post.id)?.title == post.title)
                #expect(catalog.post(id: post.id)?.page == page)
                #expect(post.title == post.title.trimmingCharacters(in: .whitespacesAndNewlines))
            }
        }
        #expect(catalog.post(id: BlogCatalog.firstPostID - 1) == nil)
        #expect(catalog.post(id: BlogCatalog.firstPostID + 24) == nil)
        #expect(catalog.posts(onPage: 5).isEmpty)
    }
}
