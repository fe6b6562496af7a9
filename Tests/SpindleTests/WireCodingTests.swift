import Testing

@testable import Spindle

@Suite("WireCoding")
struct WireCodingTests {
    struct Inner: Codable, Equatable {
        var name: String
        var weight: Double?
    }

    enum Kind: String, Codable { case small, large }

    struct Outer: Codable, Equatable {
        var id: UInt64
        var count: Int
        var negative: Int32
        var flags: [Bool]
        var inner: Inner
        var optionalInner: Inner?
        var kind: Kind
        var tags: [String: Int]
        var byNumber: [Int: String]
        var nested: [[UInt8]]
        var text: String
    }

    @Test("values round-trip exactly, including optionals, enums, dictionaries and nesting")
    func roundTrip() throws {
        let value = Outer(
            id: .max, count: -42, negative: .min, flags: [true, false, true],
            inner: Inner(name: "é ✓ \u{0}", weight: nil), optionalInner: Inner(name: "", weight: 2.5),
            kind: .large, tags: ["a": 1, "b": -2], byNumber: [3: "three", -1: "minus one"],
            nested: [[], [0, 255]], text: String(repeating: "x", count: 10_000))
        let bytes = try WireCoding.encode(value)
        #expect(try WireCoding.decode(Outer.self, from: bytes) == value)
        #expect(try WireCoding.decode([Int].self, from: WireCoding.encode(Array(-50...50))) == Array(-50...50))
        #expect(try WireCoding.decode(UInt64.self, from: WireCoding.encode(UInt64(112_272_535_095_293))) == 112_272_535_095_293)
        #expect(try WireCoding.decode(Int?.self, from: WireCoding.encode(Int?.none)) == nil)
    }

    @Test("arrays of integers, doubles and flags are packed, round-trip exactly, and reject bad bytes")
    func packedArrays() throws {
        let ints = [0, 1, -1, Int.max, Int.min, 112_272_535_095_293]
        let packedInts = try WireCoding.encode(ints)
        #expect(packedInts.count == 5 + 8 * ints.count, "one tag, a count, 8 bytes each")
        #expect(try WireCoding.decode([Int].self, from: packedInts) == ints)
        let doubles = [0.0, -2.5, .infinity, .leastNonzeroMagnitude]
        #expect(try WireCoding.decode([Double].self, from: try WireCoding.encode(doubles)) == doubles)
        let flags = [true, false, false, true]
        #expect(try WireCoding.decode([Bool].self, from: try WireCoding.encode(flags)) == flags)
        #expect(try WireCoding.decode([Int].self, from: try WireCoding.encode([Int]())) == [])

        #expect(throws: WireCoding.Failure.self) { try WireCoding.decode([Int].self, from: Array(packedInts.dropLast())) }
        #expect(throws: WireCoding.Failure.self) { try WireCoding.decode([Int].self, from: try WireCoding.encode(flags)) }
        #expect(throws: WireCoding.Failure.self) { try WireCoding.decode([Bool].self, from: [7, 2, 0]) }
    }

    @Test("truncated, trailing or mistyped bytes are errors, not crashes")
    func malformed() throws {
        let bytes = try WireCoding.encode([1, 2, 3])
        #expect(throws: (any Error).self) { try WireCoding.decode([Int].self, from: Array(bytes.dropLast())) }
        #expect(throws: (any Error).self) { try WireCoding.decode([Int].self, from: bytes + [0]) }
        #expect(throws: (any Error).self) { try WireCoding.decode([String: Int].self, from: bytes) }
        #expect(throws: (any Error).self) { try WireCoding.decode(Int8.self, from: WireCoding.encode(1000)) }
        #expect(throws: (any Error).self) { try WireCoding.decode(Int.self, from: [9]) }
        #expect(throws: (any Error).self) { try WireCoding.decode(Int.self, from: []) }
    }
}
