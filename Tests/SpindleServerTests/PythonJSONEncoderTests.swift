import Foundation
import SpindleServer
import Testing

@Suite("PythonJSONEncoder")
struct PythonJSONEncoderTests {
    private struct Sample: Encodable {
        var zeta = 1.0
        var alpha = 0.1235
        var text = "a/b\u{01}\u{08}\u{0C}é\"\\\n\t\r"
        var small = 0.00001234
        var count = 6000
        var list = [1, 2]
        var nested = Nested()
        var missing: String? = nil
        var emptyObject = Empty()
        var emptyList: [Int] = []
    }

    private struct Nested: Encodable {
        var flags: [Bool?] = [true, nil]
    }

    private struct Empty: Encodable {}

    /// Keys in an order no hash would keep, to catch an encoder that loses it.
    private struct ManyKeys: Encodable {
        var keys: [String]

        func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: Key.self)
            for (index, key) in keys.enumerated() { try container.encode(index, forKey: Key(stringValue: key)) }
        }

        struct Key: CodingKey {
            var stringValue: String
            init(stringValue: String) { self.stringValue = stringValue }
            var intValue: Int? { nil }
            init?(intValue: Int) { nil }
        }
    }

    @Test("writes what Python's json.dumps(ensure_ascii=False) writes, members in encoding order")
    func pythonLayout() throws {
        // python3 -c 'import json; print(json.dumps({"zeta": 1.0, "alpha": 0.1235,
        //   "text": "a/b\x01\x08\x0cé\"\\\n\t\r", "small": 0.00001234, "count": 6000, "list": [1, 2],
        //   "nested": {"flags": [True, None]}, "emptyObject": {}, "emptyList": []}, ensure_ascii=False))'
        let expected = #"{"zeta": 1.0, "alpha": 0.1235, "text": "a/b\u0001\b\fé\"\\\n\t\r", "small": 1.234e-05, "count": 6000, "list": [1, 2], "nested": {"flags": [true, null]}, "emptyObject": {}, "emptyList": []}"#
        #expect(try PythonJSONEncoder().encode(Sample()) == expected)
    }

    @Test("compact separators are Flask jsonify's")
    func compactLayout() throws {
        #expect(try PythonJSONEncoder(separators: .compact).encode(Nested()) == #"{"flags":[true,null]}"#)
        #expect(try PythonJSONEncoder(separators: .compact).encode(["a": [1, 2]]) == #"{"a":[1,2]}"#)
    }

    @Test("keeps the order of many members")
    func memberOrder() throws {
        let keys = (1...40).map { String($0 * 7919 % 1000) }
        let expected = "{" + keys.enumerated().map { "\"\($1)\": \($0)" }.joined(separator: ", ") + "}"
        #expect(try PythonJSONEncoder().encode(ManyKeys(keys: keys)) == expected)
    }

    @Test("a number JSON cannot hold is an encoding error, not text Python would reject")
    func nonFiniteNumbers() {
        for value in [Double.nan, .infinity, -.infinity] {
            #expect(throws: EncodingError.self) { try PythonJSONEncoder().encode(["value": value]) }
        }
    }

    @Test("top-level scalars and a key encoded twice keeps its last value")
    func scalarsAndRepeatedKeys() throws {
        #expect(try PythonJSONEncoder().encode("x") == #""x""#)
        #expect(try PythonJSONEncoder().encode(Int64.min) == "-9223372036854775808")
        #expect(try PythonJSONEncoder().encode(UInt64.max) == "18446744073709551615")
        #expect(try PythonJSONEncoder().encode(ManyKeys(keys: ["a", "b", "a"])) == #"{"a": 2, "b": 1}"#)
    }
}
