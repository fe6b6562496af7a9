import CLibXML2

/// A ``CSSSelector`` in a form a streaming parse can decide at each start tag, from the tag's
/// own name and attributes, its position among the element siblings before it and what its open
/// ancestors matched — no tree needed.
///
/// Made from the selector's one parse (``SelectorList``). Streamable: type and `*`, `.class`,
/// `#id`, every attribute selector (with the ` i` flag), `:first-child`, `:nth-child(…)`,
/// `:not(…)` of a streamable compound, the descendant and child (`>`) combinators, and `,`
/// groups. Not streamable, because they depend on what comes after the start tag: the sibling
/// combinators `+` and `~`, `:last-child`, `:only-child`, `:nth-last-child(…)` and `:empty`.
/// Names written with escapes or non-ASCII characters, and values with escapes or characters
/// XML forbids, are left to the DOM as well, to keep the byte comparisons here exact.
///
/// Each part decides exactly what its XPath translation (``SelectorList/xpath``) of the same
/// parse decides: the stream tests compare the two on many pages.
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
        case attribute([UInt8], SelectorAttributeOperator, value: [UInt8], caseInsensitive: Bool)
        /// `:nth-child(an+b)`; `:first-child` is (0, 1).
        case position(a: Int, b: Int)
        case not(Compound)
        /// What the translation turns into `false()`: `[a^=""]` and the like.
        case never
    }

    /// Why a selector cannot be streamed.
    struct NotStreamable: Error, Hashable, Sendable, CustomStringConvertible {
        var description: String
    }

    /// The streamable form of a parsed selector, or ``NotStreamable`` with the first part, in
    /// the order written, that cannot be decided at a start tag.
    init(_ syntax: SelectorList) throws(NotStreamable) {
        chains = try syntax.alternatives.map { complex throws(NotStreamable) in try Chain(complex) }
    }
}

// MARK: - From the parse

extension HTMLStreamSelector.Chain {
    init(_ complex: ComplexSelector) throws(HTMLStreamSelector.NotStreamable) {
        compounds = [try HTMLStreamSelector.Compound(complex.compounds[0])]
        childOfPrevious = [false]
        for (combinator, compound) in zip(complex.combinators, complex.compounds.dropFirst()) {
            switch combinator {
            case .descendant, .child:
                childOfPrevious.append(combinator == .child)
            case .nextSibling, .subsequentSibling:
                let symbol = combinator == .nextSibling ? "+" : "~"
                throw .init(description: "the sibling combinator \"\(symbol)\" depends on the siblings before an element")
            }
            compounds.append(try HTMLStreamSelector.Compound(compound))
        }
    }
}

extension HTMLStreamSelector.Compound {
    init(_ compound: CompoundSelector) throws(HTMLStreamSelector.NotStreamable) {
        type = try compound.type.map { name throws(HTMLStreamSelector.NotStreamable) in try Self.bytes(ofName: name) }
        conditions = try compound.conditions.map { condition throws(HTMLStreamSelector.NotStreamable) in
            try HTMLStreamSelector.Condition(condition)
        }
    }

    /// A name's bytes, when they can be compared as they are: escapes and non-ASCII names are
    /// left to the DOM, to keep the byte comparisons exact.
    static func bytes(ofName name: SelectorText) throws(HTMLStreamSelector.NotStreamable) -> [UInt8] {
        guard name.isPlainASCIIName else {
            throw .init(description: "escapes and non-ASCII names are matched on the DOM")
        }
        return Array(name.value.utf8)
    }
}

extension HTMLStreamSelector.Condition {
    init(_ condition: SelectorCondition) throws(HTMLStreamSelector.NotStreamable) {
        typealias Compound = HTMLStreamSelector.Compound
        switch condition {
        case .class(let name):
            self = .attribute(Array("class".utf8), .token, value: try Compound.bytes(ofName: name), caseInsensitive: false)
        case .id(let name):
            self = .attribute(Array("id".utf8), .equals, value: try Compound.bytes(ofName: name), caseInsensitive: false)
        case .hasAttribute(let name):
            self = .hasAttribute(try Compound.bytes(ofName: name))
        case .attribute(let name, let op, let value, let caseInsensitive):
            let nameBytes = try Compound.bytes(ofName: name)
            if op.matchesNothing(value.value) {
                self = .never
                return
            }
            guard !value.isEscaped else { throw .init(description: "escapes in strings are matched on the DOM") }
            // The translation replaces the characters XML forbids, so they could not be compared as written.
            guard value.value.unicodeScalars.allSatisfy(isXMLCharacter) else {
                throw .init(description: "characters XML forbids are matched on the DOM")
            }
            self = .attribute(nameBytes, op, value: Array(value.value.utf8), caseInsensitive: caseInsensitive)
        case .firstChild:
            self = .position(a: 0, b: 1)
        case .nthChild(let a, let b):
            self = .position(a: a, b: b)
        case .not(let compound):
            self = .not(try Compound(compound))
        case .lastChild, .onlyChild, .nthLastChild, .empty:
            throw .init(description: "\(condition.pseudoClassName) depends on what follows an element's start tag")
        }
    }
}

extension SelectorCondition {
    /// `:last-child` and the like, for messages; empty for conditions that are not pseudo-classes.
    fileprivate var pseudoClassName: String {
        switch self {
        case .firstChild: ":first-child"
        case .lastChild: ":last-child"
        case .onlyChild: ":only-child"
        case .empty: ":empty"
        case .nthChild: ":nth-child"
        case .nthLastChild: ":nth-last-child"
        case .not: ":not"
        case .class, .id, .hasAttribute, .attribute: ""
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

    /// Whether `position` is a·k + b for some k ≥ 0: `SelectorCondition.nthPredicate`'s arithmetic.
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

extension SelectorAttributeOperator {
    /// Whether an attribute's value passes the test against `value`, as the XPath predicate decides.
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
