/// A CSS selector as ``SelectorParser`` reads it: the one parse of a ``CSSSelector`` that every
/// backend works from — the XPath translation (``SelectorList/xpath``), the tree walk
/// (``CompoundSelectorMatcher``) and the start-tag matching of the stream
/// (``HTMLStreamSelector``). Names are already lowercased where CSS ignores case (element and
/// attribute names, values under the ` i` flag), so the backends only translate.
struct SelectorList: Hashable, Sendable {
    /// The alternatives of a `,` group, in the order written.
    var alternatives: [ComplexSelector]
}

/// Compounds joined by combinators, left to right: `div > ul a` is compounds `[div, ul, a]`
/// with combinators `[.child, .descendant]`.
struct ComplexSelector: Hashable, Sendable {
    var compounds: [CompoundSelector]
    /// `combinators[i]` joins `compounds[i]` and `compounds[i + 1]`.
    var combinators: [SelectorCombinator]
}

enum SelectorCombinator: Hashable, Sendable {
    /// Whitespace.
    case descendant
    /// `>`.
    case child
    /// `+`.
    case nextSibling
    /// `~`.
    case subsequentSibling
}

/// An optional element name and conditions all of which must hold: `a.title[href]:first-child`.
struct CompoundSelector: Hashable, Sendable {
    /// The lowercased element name; `nil` for `*` or no name.
    var type: SelectorText?
    var conditions: [SelectorCondition]
}

/// A name or a value as written in the selector, escapes resolved.
struct SelectorText: Hashable, Sendable {
    var value: String
    /// Whether the text was written with a backslash escape (or, for a string, a continued line).
    var isEscaped: Bool

    /// Whether the text is plain ASCII name characters (`[A-Za-z0-9_-]`) written as they are,
    /// which the byte-comparing backends require of names.
    var isPlainASCIIName: Bool {
        !isEscaped && value.utf8.allSatisfy { byte in
            (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || (0x30...0x39).contains(byte)
                || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_")
        }
    }
}

enum SelectorCondition: Hashable, Sendable {
    /// `.name`: one of the whitespace-separated words of `class`.
    case `class`(SelectorText)
    /// `#name`: `id` equals.
    case id(SelectorText)
    /// `[name]`, the name lowercased.
    case hasAttribute(SelectorText)
    /// `[name op value]` and `[name op value i]`, the name lowercased, and the value too with
    /// the ` i` flag (`caseInsensitive`), as the attribute's value is compared ASCII-lowercased.
    case attribute(SelectorText, SelectorAttributeOperator, value: SelectorText, caseInsensitive: Bool)
    case firstChild
    case lastChild
    case onlyChild
    case empty
    /// `:nth-child(an+b)`.
    case nthChild(a: Int, b: Int)
    /// `:nth-last-child(an+b)`.
    case nthLastChild(a: Int, b: Int)
    /// `:not(compound)`.
    case not(CompoundSelector)
}

enum SelectorAttributeOperator: Hashable, Sendable {
    /// `=`.
    case equals
    /// `^=`.
    case prefix
    /// `$=`.
    case suffix
    /// `*=`.
    case substring
    /// `~=`: one of the whitespace-separated words.
    case token
    /// `|=`: equals, or starts with the value and `-`.
    case dashPrefix

    /// Whether CSS defines the test as matching nothing for `value`: `^=`, `$=` and `*=` with
    /// an empty value, `~=` with an empty value or one containing whitespace.
    func matchesNothing(_ value: String) -> Bool {
        switch self {
        case .prefix, .suffix, .substring: value.isEmpty
        case .token: value.isEmpty || value.contains(where: \.isWhitespace)
        case .equals, .dashPrefix: false
        }
    }
}
