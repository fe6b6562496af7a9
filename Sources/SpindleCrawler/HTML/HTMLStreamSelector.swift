import CLibXML2

/// A ``CSSSelector`` in a form a streaming parse can decide at each start tag, from the tag's
/// own name and attributes, its position among the element siblings before it and what its open
/// ancestors matched — no tree needed.
///
/// Streamable: type and `*`, `.class`, `#id`, every attribute selector (with the ` i` flag),
/// `:first-child`, `:nth-child(…)`, `:not(…)` of a streamable compound, the descendant and child
/// (`>`) combinators, and `,` groups. Not streamable, because they depend on what comes after
/// the start tag: the sibling combinators `+` and `~`, `:last-child`, `:only-child`,
/// `:nth-last-child(…)` and `:empty`. Escapes and non-ASCII names are left to the DOM as well,
/// to keep the byte comparisons here exact.
///
/// Each part decides exactly what its XPath translation (``CSSSelector/xpath``) decides: the
/// stream tests compare the two on many pages.
struct HTMLStreamSelector: Hashable, Sendable {
    /// The alternatives of the `,` group, each a chain of compounds.
    let chains: [Chain]

    /// Compounds joined by combinators, left to right: `div > ul a` is
    /// `[div, ul, a]` with `childOfPrevious` `[false, true, false]`.
    struct Chain: Hashable, Sendable {
        var compounds: [Compound]
        /// Whether compound `i` must be a child (rather than a descendant) of compound `i - 1`;
        /// the first entry is unused.
        var childOfPrevious: [Bool]
    }

    /// A compound: an optional element name and conditions all of which must hold.
    struct Compound: Hashable, Sendable {
        /// The lowercased element name, or nil for `*`.
        var type: [UInt8]?
        var conditions: [Condition]
    }

    indirect enum Condition: Hashable, Sendable {
        /// `[name]`.
        case hasAttribute([UInt8])
        /// `[name op value]`, `.class` (a token of `class`) and `#id` (`id` equals).
        case attribute([UInt8], AttributeTest, value: [UInt8], caseInsensitive: Bool)
        /// `:nth-child(an+b)`; `:first-child` is (0, 1).
        case position(a: Int, b: Int)
        case not(Compound)
        /// What the translation turns into `false()`: `[a^=""]` and the like.
        case never
    }

    enum AttributeTest: Hashable, Sendable {
        case equals, prefix, suffix, substring, token, dashPrefix
    }

    /// Why a selector cannot be streamed.
    struct NotStreamable: Error, Hashable, Sendable, CustomStringConvertible {
        var description: String
    }

    /// The streamable form of `source`, a selector ``CSSSelector`` accepted.
    static func parse(_ source: String) -> Result<HTMLStreamSelector, NotStreamable> {
        var parser = Parser(bytes: Array(source.utf8))
        do {
            return .success(HTMLStreamSelector(chains: try parser.parseList()))
        } catch {
            return .failure(error)
        }
    }
}

// MARK: - Parsing

extension HTMLStreamSelector {
    /// Reads the subset described on ``HTMLStreamSelector``, throwing ``NotStreamable`` on
    /// anything else. It only sees selectors ``SelectorParser`` accepted, so it need not explain
    /// syntax errors; it must only never accept a selector it would read differently.
    fileprivate struct Parser {
        let bytes: [UInt8]
        var index = 0

        var atEnd: Bool { index >= bytes.count }
        var peek: UInt8 { bytes[index] }

        mutating func parseList() throws(NotStreamable) -> [Chain] {
            var chains: [Chain] = []
            while true {
                skipWhitespace()
                chains.append(try parseChain())
                skipWhitespace()
                if atEnd { return chains }
                guard peek == UInt8(ascii: ",") else { throw unexpected() }
                index += 1
            }
        }

        private mutating func parseChain() throws(NotStreamable) -> Chain {
            var chain = Chain(compounds: [try parseCompound()], childOfPrevious: [false])
            while true {
                let hadWhitespace = skipWhitespace()
                if atEnd || peek == UInt8(ascii: ",") { return chain }
                var child = false
                switch peek {
                case UInt8(ascii: ">"):
                    child = true
                    index += 1
                    skipWhitespace()
                case UInt8(ascii: "+"), UInt8(ascii: "~"):
                    throw NotStreamable(description: "the sibling combinator \"\(Character(Unicode.Scalar(peek)))\" depends on the siblings before an element")
                default:
                    guard hadWhitespace else { throw unexpected() }
                }
                chain.compounds.append(try parseCompound())
                chain.childOfPrevious.append(child)
            }
        }

        private mutating func parseCompound() throws(NotStreamable) -> Compound {
            let start = index
            var compound = Compound(type: nil, conditions: [])
            if !atEnd, peek == UInt8(ascii: "*") {
                index += 1
            } else if !atEnd, Self.isNameStart(peek) || peek == UInt8(ascii: "-") {
                compound.type = Self.asciiLowercased(try parseIdentifier())
            }
            while !atEnd {
                switch peek {
                case UInt8(ascii: "."):
                    index += 1
                    let name = try parseIdentifier()
                    compound.conditions.append(.attribute(Array("class".utf8), .token, value: name, caseInsensitive: false))
                case UInt8(ascii: "#"):
                    index += 1
                    let id = try parseIdentifier()
                    compound.conditions.append(.attribute(Array("id".utf8), .equals, value: id, caseInsensitive: false))
                case UInt8(ascii: "["):
                    compound.conditions.append(try parseAttribute())
                case UInt8(ascii: ":"):
                    compound.conditions.append(try parsePseudoClass())
                default:
                    guard index > start else { throw unexpected() }
                    return compound
                }
            }
            guard index > start else { throw unexpected() }
            return compound
        }

        private mutating func parseAttribute() throws(NotStreamable) -> Condition {
            index += 1
            skipWhitespace()
            let name = Self.asciiLowercased(try parseIdentifier())
            skipWhitespace()
            guard !atEnd else { throw unexpected() }
            if peek == UInt8(ascii: "]") {
                index += 1
                return .hasAttribute(name)
            }
            let test: AttributeTest
            if peek == UInt8(ascii: "=") {
                test = .equals
                index += 1
            } else if index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "="),
                let operatorTest = Self.operators[peek]
            {
                test = operatorTest
                index += 2
            } else {
                throw unexpected()
            }
            skipWhitespace()
            guard !atEnd else { throw unexpected() }
            var value: String
            if peek == UInt8(ascii: "\"") || peek == UInt8(ascii: "'") {
                value = try parseString()
            } else {
                value = String(decoding: try parseIdentifier(allowLeadingDigit: true), as: UTF8.self)
            }
            skipWhitespace()
            var caseInsensitive = false
            if !atEnd, peek == UInt8(ascii: "i") || peek == UInt8(ascii: "I") {
                index += 1
                skipWhitespace()
                caseInsensitive = true
                // As the translation does: Unicode lowercasing of the value, ASCII of the attribute.
                value = value.lowercased()
            }
            guard !atEnd, peek == UInt8(ascii: "]") else { throw unexpected() }
            index += 1
            // The cases SelectorParser.parseAttribute translates to false().
            switch test {
            case .prefix where value.isEmpty, .suffix where value.isEmpty, .substring where value.isEmpty:
                return .never
            case .token where value.isEmpty || value.contains(where: \.isWhitespace):
                return .never
            default:
                return .attribute(name, test, value: Array(value.utf8), caseInsensitive: caseInsensitive)
            }
        }

        private mutating func parsePseudoClass() throws(NotStreamable) -> Condition {
            index += 1
            guard !atEnd, peek != UInt8(ascii: ":") else { throw NotStreamable(description: "pseudo-elements are not supported") }
            let name = String(decoding: Self.asciiLowercased(try parseIdentifier()), as: UTF8.self)
            switch name {
            case "first-child":
                return .position(a: 0, b: 1)
            case "nth-child":
                try expect(UInt8(ascii: "("))
                guard let close = bytes[index...].firstIndex(of: UInt8(ascii: ")")) else { throw unexpected() }
                let argument = String(decoding: bytes[index..<close].filter { !Self.isWhitespace($0) }, as: UTF8.self).lowercased()
                guard let (a, b) = SelectorParser.parseAnPlusB(argument) else { throw unexpected() }
                index = close + 1
                return .position(a: a, b: b)
            case "not":
                try expect(UInt8(ascii: "("))
                skipWhitespace()
                let inner = try parseCompound()
                skipWhitespace()
                try expect(UInt8(ascii: ")"))
                return .not(inner)
            case "last-child", "only-child", "nth-last-child", "empty":
                throw NotStreamable(description: ":\(name) depends on what follows an element's start tag")
            default:
                throw NotStreamable(description: "unsupported pseudo-class :\(name)")
            }
        }

        /// A plain ASCII identifier, as SelectorParser.parseIdentifier reads one without escapes.
        private mutating func parseIdentifier(allowLeadingDigit: Bool = false) throws(NotStreamable) -> [UInt8] {
            let start = index
            if !allowLeadingDigit, !atEnd {
                let next = index + 1 < bytes.count ? bytes[index + 1] : 0
                if Self.isDigit(peek) || (peek == UInt8(ascii: "-") && Self.isDigit(next)) { throw unexpected() }
            }
            while !atEnd, Self.isNameStart(peek) || Self.isDigit(peek) || peek == UInt8(ascii: "-") {
                index += 1
            }
            if !atEnd, peek == UInt8(ascii: "\\") || peek >= 0x80 {
                throw NotStreamable(description: "escapes and non-ASCII names are matched on the DOM")
            }
            let identifier = Array(bytes[start..<index])
            guard !identifier.isEmpty, allowLeadingDigit || identifier != [UInt8(ascii: "-")] else { throw unexpected() }
            return identifier
        }

        /// A quoted string without escapes whose characters XML allows (the translation replaces
        /// the others, so they could not be compared as written).
        private mutating func parseString() throws(NotStreamable) -> String {
            let quote = peek
            index += 1
            let start = index
            while !atEnd, peek != quote {
                guard peek != UInt8(ascii: "\\") else { throw NotStreamable(description: "escapes in strings are matched on the DOM") }
                index += 1
            }
            guard !atEnd else { throw unexpected() }
            let value = String(decoding: bytes[start..<index], as: UTF8.self)
            index += 1
            guard value.unicodeScalars.allSatisfy(Self.isXMLCharacter) else {
                throw NotStreamable(description: "characters XML forbids are matched on the DOM")
            }
            return value
        }

        private mutating func expect(_ byte: UInt8) throws(NotStreamable) {
            guard !atEnd, peek == byte else { throw unexpected() }
            index += 1
        }

        @discardableResult
        private mutating func skipWhitespace() -> Bool {
            let start = index
            while !atEnd, Self.isWhitespace(peek) { index += 1 }
            return index > start
        }

        private func unexpected() -> NotStreamable {
            if !atEnd, peek >= 0x80 {
                return NotStreamable(description: "escapes and non-ASCII names are matched on the DOM")
            }
            let what = atEnd ? "the end" : "\"\(Character(Unicode.Scalar(peek)))\""
            return NotStreamable(description: "unexpected \(what) at \(index + 1)")
        }

        private static let operators: [UInt8: AttributeTest] = [
            UInt8(ascii: "^"): .prefix, UInt8(ascii: "$"): .suffix, UInt8(ascii: "*"): .substring,
            UInt8(ascii: "~"): .token, UInt8(ascii: "|"): .dashPrefix,
        ]

        private static func isNameStart(_ byte: UInt8) -> Bool {
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
        }

        private static func isDigit(_ byte: UInt8) -> Bool {
            (0x30...0x39).contains(byte)
        }

        /// ASCII whitespace; other whitespace characters are non-ASCII and stop the parse.
        private static func isWhitespace(_ byte: UInt8) -> Bool {
            byte == 0x20 || (0x09...0x0D).contains(byte)
        }

        static func asciiLowercased(_ bytes: [UInt8]) -> [UInt8] {
            bytes.map { (0x41...0x5A).contains($0) ? $0 | 0x20 : $0 }
        }

        private static func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
            switch scalar.value {
            case 0x09, 0x0A, 0x0D, 0x20...0xFFFD, 0x10000...: true
            default: false
            }
        }
    }
}

// MARK: - Matching a start tag

/// A start tag as libxml2's SAX handler receives it, with the element's 1-based position among
/// its parent's element children.
struct HTMLStartTag {
    let name: UnsafePointer<xmlChar>
    /// Name and value pointers in turn, ending with a nil name; a nil value for an attribute
    /// written without one.
    let attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?
    let position: Int

    /// The value the DOM gives the attribute `name`, or nil when the tag has none. Like the
    /// tree builder, an attribute without a value is empty, except the boolean attributes
    /// libxml2 knows, which get their own name.
    func value(of name: [UInt8]) -> UnsafeBufferPointer<UInt8>? {
        guard let attributes else { return nil }
        var index = 0
        while let attribute = attributes[index] {
            if HTMLTreeWalk.equals(attribute, name) {
                guard let value = attributes[index + 1] else {
                    if htmlIsBooleanAttr(attribute) != 0 {
                        return UnsafeBufferPointer(start: attribute, count: Int(xmlStrlen(attribute)))
                    }
                    return UnsafeBufferPointer(start: nil, count: 0)
                }
                return UnsafeBufferPointer(start: value, count: Int(xmlStrlen(value)))
            }
            index += 2
        }
        return nil
    }
}

extension HTMLStreamSelector.Compound {
    /// Whether the element `tag` opens matches this compound, as the XPath step would.
    func matches(_ tag: HTMLStartTag) -> Bool {
        if let type, !HTMLTreeWalk.equals(tag.name, type) {
            return false
        }
        return conditionsHold(for: tag)
    }

    /// Whether `tag` meets every condition, its name left aside (the caller knows it matches).
    func conditionsHold(for tag: HTMLStartTag) -> Bool {
        conditions.allSatisfy { $0.holds(for: tag) }
    }
}

extension HTMLStreamSelector.Condition {
    func holds(for tag: HTMLStartTag) -> Bool {
        switch self {
        case .hasAttribute(let name):
            return tag.value(of: name) != nil
        case .attribute(let name, let test, let value, let caseInsensitive):
            guard let attribute = tag.value(of: name) else { return false }
            if caseInsensitive {
                // translate(@a, 'A…Z', 'a…z'): ASCII only.
                var lowered = Array(attribute)
                for index in lowered.indices where (0x41...0x5A).contains(lowered[index]) {
                    lowered[index] |= 0x20
                }
                return lowered.withUnsafeBufferPointer { test.holds(on: $0, value) }
            }
            return test.holds(on: attribute, value)
        case .position(let a, let b):
            return Self.isPosition(tag.position, a: a, b: b)
        case .not(let compound):
            return !compound.matches(tag)
        case .never:
            return false
        }
    }

    /// Whether `position` is a·k + b for some k ≥ 0: SelectorParser.nthPredicate's arithmetic.
    static func isPosition(_ position: Int, a: Int, b: Int) -> Bool {
        if a == 0 {
            return b >= 1 && position == b
        }
        if a > 0 {
            return (position - b) % a == 0 && (b <= 1 || position >= b)
        }
        return b >= 1 && (b - position) % -a == 0 && position <= b
    }
}

extension HTMLStreamSelector.AttributeTest {
    func holds(on attribute: UnsafeBufferPointer<UInt8>, _ value: [UInt8]) -> Bool {
        switch self {
        case .equals:
            return attribute.elementsEqual(value)
        case .prefix:
            return attribute.starts(with: value)
        case .suffix:
            return attribute.count >= value.count && attribute[(attribute.count - value.count)...].elementsEqual(value)
        case .substring:
            guard value.count <= attribute.count else { return false }
            return (0...(attribute.count - value.count)).contains { start in
                attribute[start..<(start + value.count)].elementsEqual(value)
            }
        case .token:
            return CompoundSelectorMatcher.containsToken(value, in: attribute)
        case .dashPrefix:
            return attribute.elementsEqual(value)
                || (attribute.count > value.count && attribute.starts(with: value) && attribute[value.count] == UInt8(ascii: "-"))
        }
    }
}
