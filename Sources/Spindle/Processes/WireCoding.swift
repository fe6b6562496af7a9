/// A compact binary encoding for `Codable` values, for the frames between a ``ProcessPool`` and
/// its workers. Foundation's JSON coders on Linux cost about 2 µs per array element; this costs
/// tens of nanoseconds. Both ends are the same program, so the format needs no versioning.
///
/// A value is a tree of nodes: a nil, a scalar (raw little-endian bytes or UTF-8), an array, or
/// a keyed container. Each node starts with a tag byte.
enum WireCoding {
    enum Node {
        case null
        case number(UInt64)
        case scalar([UInt8])
        case array([Node])
        case keyed([String: Node])
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    static func encode<T: Encodable>(_ value: T) throws -> [UInt8] {
        if let packed = PackedArray.encode(value) { return packed }
        let box = NodeBox()
        try encodeValue(value, into: box, codingPath: [])
        var out: [UInt8] = []
        write(box.resolved(), into: &out)
        return out
    }

    static func decode<T: Decodable>(_ type: T.Type, from bytes: [UInt8]) throws -> T {
        if let packed = try PackedArray.decode(type, from: bytes) { return packed }
        var offset = 0
        let node = try read(bytes, &offset)
        guard offset == bytes.count else { throw Failure(description: "\(bytes.count - offset) trailing bytes") }
        return try T(from: NodeDecoder(node: node, codingPath: []))
    }

    // MARK: - Bytes

    private static func write(_ node: Node, into out: inout [UInt8]) {
        switch node {
        case .null:
            out.append(0)
        case .number(let value):
            out.append(4)
            out.appendLittleEndian(value)
        case .scalar(let bytes):
            out.append(1)
            out.appendBytes(bytes)
        case .array(let items):
            out.append(2)
            out.appendLittleEndian(UInt32(clamping: items.count))
            for item in items { write(item, into: &out) }
        case .keyed(let fields):
            out.append(3)
            out.appendLittleEndian(UInt32(clamping: fields.count))
            for (key, value) in fields {
                out.appendBytes(Array(key.utf8))
                write(value, into: &out)
            }
        }
    }

    private static func read(_ bytes: [UInt8], _ offset: inout Int) throws -> Node {
        func take(_ n: Int) throws -> ArraySlice<UInt8> {
            guard n >= 0, n <= bytes.count - offset else { throw Failure(description: "truncated value") }
            defer { offset += n }
            return bytes[offset..<offset + n]
        }
        func count() throws -> Int {
            let b = try take(4)
            return b.reversed().reduce(0) { $0 << 8 | Int($1) }
        }
        switch try take(1).first! {
        case 0: return .null
        case 4:
            let b = try take(8)
            return .number(b.reversed().reduce(0) { $0 << 8 | UInt64($1) })
        case 1: return .scalar(Array(try take(try count())))
        case 2: return .array(try (0..<count()).map { _ in try read(bytes, &offset) })
        case 3:
            var fields: [String: Node] = [:]
            for _ in 0..<(try count()) {
                let key = String(decoding: try take(try count()), as: UTF8.self)
                fields[key] = try read(bytes, &offset)
            }
            return .keyed(fields)
        case let tag: throw Failure(description: "unknown tag \(tag)")
        }
    }
}

// MARK: - Packed arrays

/// The common case of a process pool's chunk, an array of integers, flags or numbers, as one tag,
/// a count and the raw 8-byte (or 1-byte) values: no node per element. Only whole values of these
/// types are packed; an array inside another value takes the general path.
enum PackedArray {
    static let intTag: UInt8 = 5
    static let doubleTag: UInt8 = 6
    static let boolTag: UInt8 = 7

    static func encode<T>(_ value: T) -> [UInt8]? {
        switch value {
        case let ints as [Int]: return pack(ints, tag: intTag) { UInt64(bitPattern: Int64($0)) }
        case let doubles as [Double]: return pack(doubles, tag: doubleTag) { $0.bitPattern }
        case let flags as [Bool]:
            var out: [UInt8] = [boolTag]
            out.reserveCapacity(5 + flags.count)
            out.appendLittleEndian(UInt32(clamping: flags.count))
            for flag in flags { out.append(flag ? 1 : 0) }
            return out
        default: return nil
        }
    }

    /// The array if `bytes` hold a packed one of type `T`; nil when `T` is not a packable array.
    static func decode<T>(_ type: T.Type, from bytes: [UInt8]) throws -> T? {
        if T.self == [Int].self {
            return try unpack(bytes, tag: intTag, width: 8) { Int(Int64(bitPattern: $0)) } as? T
        } else if T.self == [Double].self {
            return try unpack(bytes, tag: doubleTag, width: 8) { Double(bitPattern: $0) } as? T
        } else if T.self == [Bool].self {
            return try unpack(bytes, tag: boolTag, width: 1) { $0 != 0 } as? T
        }
        return nil
    }

    private static func pack<E>(_ values: [E], tag: UInt8, _ bits: (E) -> UInt64) -> [UInt8] {
        var out: [UInt8] = [tag]
        out.reserveCapacity(5 + 8 * values.count)
        out.appendLittleEndian(UInt32(clamping: values.count))
        for value in values { out.appendLittleEndian(bits(value)) }
        return out
    }

    private static func unpack<E>(_ bytes: [UInt8], tag: UInt8, width: Int, _ make: (UInt64) -> E) throws -> [E] {
        guard bytes.count >= 5, bytes[0] == tag else {
            throw WireCoding.Failure(description: "expected a packed array (tag \(tag)), got tag \(bytes.first.map(String.init) ?? "none")")
        }
        let count = Int(bytes[1]) | Int(bytes[2]) << 8 | Int(bytes[3]) << 16 | Int(bytes[4]) << 24
        guard bytes.count == 5 + count * width else {
            throw WireCoding.Failure(description: "a packed array of \(count) needs \(5 + count * width) bytes, got \(bytes.count)")
        }
        return bytes.withUnsafeBytes { raw in
            (0..<count).map { index in
                let offset = 5 + index * width
                if width == 1 { return make(UInt64(raw[offset])) }
                return make(UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self)))
            }
        }
    }
}

// MARK: - Encoding

/// Where an encoder's node ends up: a box, so nested containers can fill it in later.
final class NodeBox {
    /// A child is a finished node, or a box a nested container is still filling.
    enum Child {
        case node(WireCoding.Node)
        case box(NodeBox)

        var resolved: WireCoding.Node {
            switch self {
            case .node(let node): node
            case .box(let box): box.resolved()
            }
        }
    }

    var node: WireCoding.Node = .null
    var array: [Child]?
    var keyed: [String: Child]?

    func resolved() -> WireCoding.Node {
        if let array { return .array(array.map(\.resolved)) }
        if let keyed { return .keyed(keyed.mapValues(\.resolved)) }
        return node
    }
}

/// The node of a value that needs no container, or nil.
private func scalarNode<T: Encodable>(_ value: T) -> WireCoding.Node? {
    switch value {
    case let v as Int: .number(UInt64(bitPattern: Int64(v)))
    case let v as UInt64: .number(v)
    case let v as String: .scalar(Array(v.utf8))
    case let v as Bool: .number(v ? 1 : 0)
    case let v as Double: .number(v.bitPattern)
    default: nil
    }
}

private struct NodeEncoder: Encoder {
    let target: NodeBox
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    init(box: NodeBox, codingPath: [any CodingKey]) {
        self.target = box
        self.codingPath = codingPath
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        if target.keyed == nil { target.keyed = [:] }
        return KeyedEncodingContainer(KeyedNodeEncoder<Key>(box: target, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        if target.array == nil { target.array = [] }
        return UnkeyedNodeEncoder(box: target, codingPath: codingPath)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        SingleNodeEncoder(box: target, codingPath: codingPath)
    }
}


/// Encodes one value into `box`.
func encodeValue<T: Encodable>(_ value: T, into box: NodeBox, codingPath: [any CodingKey]) throws {
    if let node = scalarNode(value) {
        box.node = node
    } else {
        try value.encode(to: NodeEncoder(box: box, codingPath: codingPath))
    }
}

/// Encodes one value as a child: a finished node for scalars, a box otherwise.
private func encodeChild<T: Encodable>(_ value: T, codingPath: [any CodingKey]) throws -> NodeBox.Child {
    if let node = scalarNode(value) { return .node(node) }
    let box = NodeBox()
    try value.encode(to: NodeEncoder(box: box, codingPath: codingPath))
    return .box(box)
}

private struct SingleNodeEncoder: SingleValueEncodingContainer {
    let box: NodeBox
    var codingPath: [any CodingKey]
    mutating func encodeNil() throws { box.node = .null }
    mutating func encode(_ value: Bool) throws { box.node = .number(value ? 1 : 0) }
    mutating func encode(_ value: String) throws { box.node = .scalar(Array(value.utf8)) }
    mutating func encode(_ value: Double) throws { box.node = .number(value.bitPattern) }
    mutating func encode(_ value: Float) throws { box.node = .number(Double(value).bitPattern) }
    mutating func encode(_ value: Int) throws { box.node = .number(UInt64(bitPattern: Int64(value))) }
    mutating func encode(_ value: Int8) throws { box.node = .number(UInt64(bitPattern: Int64(value))) }
    mutating func encode(_ value: Int16) throws { box.node = .number(UInt64(bitPattern: Int64(value))) }
    mutating func encode(_ value: Int32) throws { box.node = .number(UInt64(bitPattern: Int64(value))) }
    mutating func encode(_ value: Int64) throws { box.node = .number(UInt64(bitPattern: value)) }
    mutating func encode(_ value: UInt) throws { box.node = .number(UInt64(value)) }
    mutating func encode(_ value: UInt8) throws { box.node = .number(UInt64(value)) }
    mutating func encode(_ value: UInt16) throws { box.node = .number(UInt64(value)) }
    mutating func encode(_ value: UInt32) throws { box.node = .number(UInt64(value)) }
    mutating func encode(_ value: UInt64) throws { box.node = .number(value) }
    mutating func encode<T: Encodable>(_ value: T) throws { try encodeValue(value, into: box, codingPath: codingPath) }
}

private struct UnkeyedNodeEncoder: UnkeyedEncodingContainer {
    let box: NodeBox
    var codingPath: [any CodingKey]
    var count: Int { box.array!.count }

    private func next() -> NodeBox {
        let child = NodeBox()
        box.array!.append(.box(child))
        return child
    }

    mutating func encodeNil() throws { box.array!.append(.node(.null)) }
    mutating func encode<T: Encodable>(_ value: T) throws { box.array!.append(try encodeChild(value, codingPath: codingPath)) }
    mutating func nestedContainer<K: CodingKey>(keyedBy keyType: K.Type) -> KeyedEncodingContainer<K> {
        NodeEncoder(box: next(), codingPath: codingPath).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        NodeEncoder(box: next(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { NodeEncoder(box: next(), codingPath: codingPath) }
}

private struct KeyedNodeEncoder<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let box: NodeBox
    var codingPath: [any CodingKey]

    private func child(_ key: String) -> NodeBox {
        let child = NodeBox()
        box.keyed![key] = .box(child)
        return child
    }

    mutating func encodeNil(forKey key: Key) throws { box.keyed![key.stringValue] = .node(.null) }
    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        box.keyed![key.stringValue] = try encodeChild(value, codingPath: codingPath + [key])
    }
    mutating func nestedContainer<K: CodingKey>(keyedBy keyType: K.Type, forKey key: Key) -> KeyedEncodingContainer<K> {
        NodeEncoder(box: child(key.stringValue), codingPath: codingPath + [key]).container(keyedBy: keyType)
    }
    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        NodeEncoder(box: child(key.stringValue), codingPath: codingPath + [key]).unkeyedContainer()
    }
    mutating func superEncoder() -> any Encoder { NodeEncoder(box: child("super"), codingPath: codingPath) }
    mutating func superEncoder(forKey key: Key) -> any Encoder { NodeEncoder(box: child(key.stringValue), codingPath: codingPath) }
}

// MARK: - Decoding

private struct NodeDecoder: Decoder {
    let node: WireCoding.Node
    var codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        guard case .keyed(let fields) = node else { throw mismatch("a keyed container", codingPath) }
        return KeyedDecodingContainer(KeyedNodeDecoder<Key>(fields: fields, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        guard case .array(let items) = node else { throw mismatch("an array", codingPath) }
        return UnkeyedNodeDecoder(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleNodeDecoder(node: node, codingPath: codingPath)
    }
}

private func mismatch(_ expected: String, _ path: [any CodingKey]) -> DecodingError {
    .typeMismatch(Any.self, .init(codingPath: path, debugDescription: "expected \(expected)"))
}

private func decodeValue<T: Decodable>(_ type: T.Type, from node: WireCoding.Node, codingPath: [any CodingKey]) throws -> T {
    try SingleNodeDecoder(node: node, codingPath: codingPath).decode(type)
}

private struct SingleNodeDecoder: SingleValueDecodingContainer {
    let node: WireCoding.Node
    var codingPath: [any CodingKey]

    func decodeNil() -> Bool {
        if case .null = node { return true }
        return false
    }

    private func bytes() throws -> [UInt8] {
        guard case .scalar(let bytes) = node else { throw mismatch("a scalar", codingPath) }
        return bytes
    }

    private func word() throws -> UInt64 {
        guard case .number(let value) = node else { throw mismatch("a number", codingPath) }
        return value
    }

    private func signed<T: FixedWidthInteger & SignedInteger>(_: T.Type) throws -> T {
        guard let value = T(exactly: Int64(bitPattern: try word())) else { throw mismatch("a number that fits \(T.self)", codingPath) }
        return value
    }

    private func unsigned<T: FixedWidthInteger & UnsignedInteger>(_: T.Type) throws -> T {
        guard let value = T(exactly: try word()) else { throw mismatch("a number that fits \(T.self)", codingPath) }
        return value
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        let value = try word()
        guard value <= 1 else { throw mismatch("a Bool", codingPath) }
        return value == 1
    }
    func decode(_ type: String.Type) throws -> String { String(decoding: try bytes(), as: UTF8.self) }
    func decode(_ type: Double.Type) throws -> Double { Double(bitPattern: try word()) }
    func decode(_ type: Float.Type) throws -> Float { Float(Double(bitPattern: try word())) }
    func decode(_ type: Int.Type) throws -> Int { try signed(Int.self) }
    func decode(_ type: Int8.Type) throws -> Int8 { try signed(Int8.self) }
    func decode(_ type: Int16.Type) throws -> Int16 { try signed(Int16.self) }
    func decode(_ type: Int32.Type) throws -> Int32 { try signed(Int32.self) }
    func decode(_ type: Int64.Type) throws -> Int64 { try signed(Int64.self) }
    func decode(_ type: UInt.Type) throws -> UInt { try unsigned(UInt.self) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try unsigned(UInt8.self) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try unsigned(UInt16.self) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try unsigned(UInt32.self) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try unsigned(UInt64.self) }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        switch type {
        case is Int.Type: return try decode(Int.self) as! T
        case is UInt64.Type: return try decode(UInt64.self) as! T
        case is String.Type: return try decode(String.self) as! T
        case is Bool.Type: return try decode(Bool.self) as! T
        case is Double.Type: return try decode(Double.self) as! T
        default: return try T(from: NodeDecoder(node: node, codingPath: codingPath))
        }
    }
}

private struct UnkeyedNodeDecoder: UnkeyedDecodingContainer {
    let items: [WireCoding.Node]
    var codingPath: [any CodingKey]
    var currentIndex = 0
    var count: Int? { items.count }
    var isAtEnd: Bool { currentIndex >= items.count }

    init(items: [WireCoding.Node], codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    private mutating func next() throws -> WireCoding.Node {
        guard !isAtEnd else {
            throw DecodingError.valueNotFound(Any.self, .init(codingPath: codingPath, debugDescription: "array ended"))
        }
        defer { currentIndex += 1 }
        return items[currentIndex]
    }

    mutating func decodeNil() throws -> Bool {
        guard !isAtEnd, case .null = items[currentIndex] else { return false }
        currentIndex += 1
        return true
    }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T { try decodeValue(type, from: next(), codingPath: codingPath) }
    mutating func nestedContainer<K: CodingKey>(keyedBy type: K.Type) throws -> KeyedDecodingContainer<K> {
        try NodeDecoder(node: next(), codingPath: codingPath).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(node: next(), codingPath: codingPath).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder { NodeDecoder(node: try next(), codingPath: codingPath) }
}

private struct KeyedNodeDecoder<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let fields: [String: WireCoding.Node]
    var codingPath: [any CodingKey]
    var allKeys: [Key] { fields.keys.compactMap { Key(stringValue: $0) } }

    private func node(_ key: Key) throws -> WireCoding.Node {
        guard let node = fields[key.stringValue] else {
            throw DecodingError.keyNotFound(key, .init(codingPath: codingPath, debugDescription: "no value for \(key.stringValue)"))
        }
        return node
    }

    func contains(_ key: Key) -> Bool { fields[key.stringValue] != nil }
    func decodeNil(forKey key: Key) throws -> Bool {
        if case .null = try node(key) { return true }
        return false
    }
    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(type, from: node(key), codingPath: codingPath + [key])
    }
    func nestedContainer<K: CodingKey>(keyedBy type: K.Type, forKey key: Key) throws -> KeyedDecodingContainer<K> {
        try NodeDecoder(node: node(key), codingPath: codingPath + [key]).container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try NodeDecoder(node: node(key), codingPath: codingPath + [key]).unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { NodeDecoder(node: fields["super"] ?? .null, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder { NodeDecoder(node: try node(key), codingPath: codingPath) }
}
