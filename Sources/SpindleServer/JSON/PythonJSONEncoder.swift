import Foundation

/// Encodes `Encodable` values as JSON text laid out as Python's `json.dumps` writes it
/// (`{"a": 1, "b": [1, 2]}`), or compactly as Flask's `jsonify` does (`{"a":1}`), with object
/// members in the order the value encodes them.
///
/// Spindle's JSON keeps the formats the course's Python programs print and users parse, field
/// order included. Foundation's `JSONEncoder` on Linux writes an object's members in hash order
/// (different from run to run) and has no `json.dumps` separators, so this small `Encoder` is the
/// one JSON writer of the servers and the CLI. Strings are escaped as `json.dumps` escapes them,
/// except that text beyond ASCII is written as UTF-8 (`ensure_ascii=False`); `/` is not escaped.
package struct PythonJSONEncoder: Sendable {
    /// Where spaces go between the parts of arrays and objects.
    package enum Separators: Sendable {
        /// `", "` and `": "`, as `json.dumps` writes by default.
        case python
        /// `","` and `":"`, as Flask's `jsonify` writes.
        case compact
    }

    /// The separators written.
    package var separators: Separators

    /// An encoder writing `separators`.
    package init(separators: Separators = .python) {
        self.separators = separators
    }

    /// `value` as JSON text.
    ///
    /// - Throws: `EncodingError.invalidValue` for a non-finite floating-point number (JSON has
    ///   none), or what `value`'s `encode(to:)` throws.
    package func encode(_ value: some Encodable) throws -> String {
        let root = JSONNode()
        try value.encode(to: JSONNodeEncoder(node: root, codingPath: []))
        var text = ""
        root.write(into: &text, separators: separators)
        return text
    }

    /// `text` as a JSON string literal, escaped as `json.dumps(text, ensure_ascii=False)` does.
    package static func quoted(_ text: String) -> String {
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case "\u{08}": out += "\\b"
            case "\u{0C}": out += "\\f"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out + "\""
    }
}

/// One JSON value being built: a literal, or an array or object whose parts are still filled in
/// through the containers handed out for it.
private final class JSONNode {
    enum Kind { case unset, literal, array, object }

    var kind = Kind.unset
    var literal = ""
    var elements: [JSONNode] = []
    var members: [(key: String, value: JSONNode)] = []

    func setLiteral(_ text: String) {
        kind = .literal
        literal = text
    }

    /// Makes this node an object (keeping the members it has if it is one already).
    func becomeObject() {
        if kind != .object { kind = .object; members = [] }
    }

    /// Makes this node an array (keeping the elements it has if it is one already).
    func becomeArray() {
        if kind != .array { kind = .array; elements = [] }
    }

    /// The node for member `key`, made on first use; a key encoded twice keeps its last value.
    func member(_ key: String) -> JSONNode {
        if let existing = members.first(where: { $0.key == key }) {
            existing.value.kind = .unset
            return existing.value
        }
        let node = JSONNode()
        members.append((key, node))
        return node
    }

    func appendElement() -> JSONNode {
        let node = JSONNode()
        elements.append(node)
        return node
    }

    func write(into out: inout String, separators: PythonJSONEncoder.Separators) {
        let (comma, colon) = separators == .python ? (", ", ": ") : (",", ":")
        switch kind {
        case .literal:
            out += literal
        case .array:
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += comma }
                element.write(into: &out, separators: separators)
            }
            out += "]"
        case .object, .unset:
            // A value that encoded nothing is an empty object, as with `JSONEncoder`.
            out += "{"
            for (index, member) in members.enumerated() {
                if index > 0 { out += comma }
                out += PythonJSONEncoder.quoted(member.key) + colon
                member.value.write(into: &out, separators: separators)
            }
            out += "}"
        }
    }
}

private struct JSONNodeEncoder: Encoder {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        node.becomeObject()
        return KeyedEncodingContainer(JSONKeyedContainer<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        node.becomeArray()
        return JSONUnkeyedContainer(node: node, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        JSONSingleValueContainer(node: node, codingPath: codingPath)
    }
}

private struct JSONKeyedContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws {
        node.member(key.stringValue).setLiteral("null")
    }

    mutating func encode(_ value: some Encodable, forKey key: Key) throws {
        try value.encode(to: JSONNodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type, forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        JSONNodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        JSONNodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        JSONNodeEncoder(node: node.member("super"), codingPath: codingPath)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        JSONNodeEncoder(node: node.member(key.stringValue), codingPath: codingPath + [key])
    }
}

private struct JSONUnkeyedContainer: UnkeyedEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]
    var count: Int { node.elements.count }

    mutating func encodeNil() throws {
        node.appendElement().setLiteral("null")
    }

    mutating func encode(_ value: some Encodable) throws {
        let path = codingPath + [ElementKey(index: count)]
        try value.encode(to: JSONNodeEncoder(node: node.appendElement(), codingPath: path))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        let path = codingPath + [ElementKey(index: count)]
        return JSONNodeEncoder(node: node.appendElement(), codingPath: path).container(keyedBy: keyType)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        let path = codingPath + [ElementKey(index: count)]
        return JSONNodeEncoder(node: node.appendElement(), codingPath: path).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        JSONNodeEncoder(node: node.appendElement(), codingPath: codingPath + [ElementKey(index: count)])
    }
}

/// The position of an array element in a coding path.
private struct ElementKey: CodingKey {
    let index: Int
    init(index: Int) { self.index = index }
    init?(stringValue: String) { nil }
    init?(intValue: Int) { self.index = intValue }
    var stringValue: String { "Index \(index)" }
    var intValue: Int? { index }
}

private struct JSONSingleValueContainer: SingleValueEncodingContainer {
    let node: JSONNode
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws { node.setLiteral("null") }
    mutating func encode(_ value: Bool) throws { node.setLiteral(value ? "true" : "false") }
    mutating func encode(_ value: String) throws { node.setLiteral(PythonJSONEncoder.quoted(value)) }
    mutating func encode(_ value: Double) throws { node.setLiteral(try number(value)) }
    mutating func encode(_ value: Float) throws { node.setLiteral(try number(Double(value))) }
    mutating func encode(_ value: Int) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: Int8) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: Int16) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: Int32) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: Int64) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: UInt) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: UInt8) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: UInt16) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: UInt32) throws { node.setLiteral(String(value)) }
    mutating func encode(_ value: UInt64) throws { node.setLiteral(String(value)) }

    mutating func encode(_ value: some Encodable) throws {
        try value.encode(to: JSONNodeEncoder(node: node, codingPath: codingPath))
    }

    /// Python's `repr` of a float (`1.0`, `0.25`, `1e-05`); JSON has no infinities or NaN.
    private func number(_ value: Double) throws -> String {
        guard value.isFinite else {
            throw EncodingError.invalidValue(
                value, .init(codingPath: codingPath, debugDescription: "\(value) is not a number JSON can hold"))
        }
        return "\(value)"
    }
}
