import Synchronization

/// A CSS selector, validated and translated to an XPath 1.0 expression that libxml2 evaluates.
///
/// The supported subset covers what scrapers use:
/// - type selectors (`a`, matched case-insensitively because the HTML parser lowercases names)
///   and the universal selector `*`;
/// - `.class` (one token of a whitespace-separated `class`), `#id`;
/// - attribute selectors `[attr]`, `[attr=v]`, `[attr^=v]`, `[attr$=v]`, `[attr*=v]`,
///   `[attr~=v]`, `[attr|=v]`, with quoted or unquoted values and an optional ` i` flag for
///   ASCII case-insensitive values;
/// - `:first-child`, `:last-child`, `:only-child`, `:empty`, `:nth-child(…)` and
///   `:nth-last-child(…)` (an integer, `odd`, `even` or `an+b`), and `:not(compound)`;
/// - the descendant (whitespace), child (`>`), adjacent (`+`) and general sibling (`~`)
///   combinators, and `,` groups.
///
/// Selectors match descendants of the node they are evaluated on: from a document that is the
/// whole page, from an element its subtree without the element itself. Groups are translated
/// to an XPath union, so results come in document order without duplicates.
public struct CSSSelector: Hashable, Sendable, CustomStringConvertible {
    /// The selector as written.
    public let source: String

    /// The equivalent XPath expression, relative to the context node (it starts with `descendant::`).
    public let xpath: String

    /// Set for a single compound of type, classes and ids, which is matched by walking the tree
    /// rather than evaluating ``xpath`` (same elements, a fraction of the work).
    let matcher: CompoundSelectorMatcher?

    /// Parses and translates `source`.
    ///
    /// Translations are cached per selector string, so building the same selector repeatedly
    /// (for example once per page) costs a dictionary lookup.
    ///
    /// - Throws: ``SelectorError`` when `source` is empty, malformed, or uses syntax outside the
    ///   supported subset (pseudo-elements, namespaces, unknown pseudo-classes).
    public init(_ source: String) throws(SelectorError) {
        self.source = source
        self.xpath = try Self.translate(source)
        self.matcher = CompoundSelectorMatcher(source)
    }

    /// The selector as written.
    public var description: String { source }

    static func translate(_ css: String) throws(SelectorError) -> String {
        if let cached = cache.withLock({ $0[css] }) {
            return cached
        }
        var parser = SelectorParser(css)
        let xpath = try parser.parseSelectorList()
        cache.withLock { cache in
            // Selectors come from code, so a few hundred entries cover a crawler; the bound
            // only stops a caller that builds selectors from data from growing it forever.
            if cache.count >= 512 {
                cache.removeAll(keepingCapacity: true)
            }
            cache[css] = xpath
        }
        return xpath
    }

    /// Translations keyed by selector source.
    private static let cache = Mutex<[String: String]>([:])
}

/// A recursive-descent parser that emits XPath while it reads the selector.
struct SelectorParser {
    let source: String
    let chars: [Character]
    var index = 0

    init(_ source: String) {
        self.source = source
        self.chars = Array(source)
    }

    var atEnd: Bool { index >= chars.count }
    var peek: Character { chars[index] }

    mutating func parseSelectorList() throws(SelectorError) -> String {
        var groups: [String] = []
        skipWhitespace()
        if atEnd { throw error("empty selector") }
        while true {
            skipWhitespace()
            if atEnd || peek == "," {
                throw error(groups.isEmpty ? "expected a selector" : "expected a selector after \",\"")
            }
            groups.append(try parseComplex())
            skipWhitespace()
            if atEnd { break }
            guard peek == "," else { throw error("unexpected \"\(peek)\"") }
            index += 1
        }
        return groups.joined(separator: " | ")
    }

    private mutating func parseComplex() throws(SelectorError) -> String {
        // descendant::x[p] rather than .//x[p]: equal for the non-positional predicates emitted
        // here, and libxml2 evaluates it as one axis walk instead of a child step per node.
        var path = "descendant::" + (try parseCompound())
        while true {
            let hadWhitespace = skipWhitespace()
            if atEnd || peek == "," { return path }
            var combinator: Character = " "
            if ">+~".contains(peek) {
                combinator = peek
                index += 1
                skipWhitespace()
            } else if !hadWhitespace {
                throw error("unexpected \"\(peek)\"")
            }
            if atEnd || ",>+~".contains(peek) {
                let after = combinator == " " ? "" : " after \"\(combinator)\""
                throw error("expected a selector\(after)")
            }
            let step = try parseCompound()
            switch combinator {
            case ">": path += "/" + step
            case "+": path += "/following-sibling::*[1]/self::" + step
            case "~": path += "/following-sibling::" + step
            default: path += "/descendant::" + step
            }
        }
    }

    /// Parses a compound selector such as `a.title[href]:first-child` into a node test followed
    /// by predicates, usable after any axis.
    private mutating func parseCompound() throws(SelectorError) -> String {
        let start = index
        var step = "*"
        if !atEnd, peek == "*" {
            index += 1
        } else if !atEnd, Self.isNameStart(peek) || peek == "\\" {
            step = Self.nameTest(try parseIdentifier("element name").lowercased())
        }
        while !atEnd {
            switch peek {
            case ".":
                index += 1
                let name = try parseIdentifier("class name")
                step += "[contains(concat(' ', normalize-space(@class), ' '), \(xpathLiteral(" \(name) ")))]"
            case "#":
                index += 1
                step += "[@id = \(xpathLiteral(try parseIdentifier("id")))]"
            case "[":
                step += try parseAttribute()
            case ":":
                step += try parsePseudoClass()
            default:
                if index == start { throw error("expected a selector") }
                return step
            }
        }
        return step
    }

    private mutating func parseAttribute() throws(SelectorError) -> String {
        index += 1
        skipWhitespace()
        let attribute = Self.attributeReference(try parseIdentifier("attribute name").lowercased())
        skipWhitespace()
        if atEnd { throw error("expected \"]\"") }
        if peek == "]" {
            index += 1
            return "[\(attribute)]"
        }
        let op: String
        if peek == "=" {
            op = "="
            index += 1
        } else if "^$*~|".contains(peek), index + 1 < chars.count, chars[index + 1] == "=" {
            op = String(peek) + "="
            index += 2
        } else {
            throw error("expected \"]\" or an attribute operator")
        }
        skipWhitespace()
        if atEnd { throw error("expected an attribute value") }
        var value = peek == "\"" || peek == "'" ? try parseString() : try parseIdentifier("attribute value", allowLeadingDigit: true)
        skipWhitespace()
        var subject = attribute
        var guardPresence = ""
        if !atEnd, peek == "i" || peek == "I" {
            index += 1
            skipWhitespace()
            subject = "translate(\(attribute), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
            // translate() turns a missing attribute into "", which would match [a="" i].
            guardPresence = "\(attribute) and "
            value = value.lowercased()
        }
        if atEnd || peek != "]" { throw error("expected \"]\"") }
        index += 1
        let literal = xpathLiteral(value)
        switch op {
        case "=":
            return "[\(guardPresence)\(subject) = \(literal)]"
        case "^=" where !value.isEmpty:
            return "[starts-with(\(subject), \(literal))]"
        case "$=" where !value.isEmpty:
            return "[substring(\(subject), string-length(\(subject)) - string-length(\(literal)) + 1) = \(literal)]"
        case "*=" where !value.isEmpty:
            return "[contains(\(subject), \(literal))]"
        case "~=" where !value.isEmpty && !value.contains(where: \.isWhitespace):
            return "[contains(concat(' ', normalize-space(\(subject)), ' '), \(xpathLiteral(" \(value) ")))]"
        case "|=":
            return "[\(guardPresence)(\(subject) = \(literal) or starts-with(\(subject), \(xpathLiteral(value + "-"))))]"
        default:
            // CSS defines these operators with an empty (or, for ~=, spaced) value as matching nothing.
            return "[false()]"
        }
    }

    private mutating func parsePseudoClass() throws(SelectorError) -> String {
        let start = index
        index += 1
        if !atEnd, peek == ":" { throw error("pseudo-elements are not supported", at: start) }
        let name = try parseIdentifier("pseudo-class name").lowercased()
        switch name {
        case "first-child": return "[not(preceding-sibling::*)]"
        case "last-child": return "[not(following-sibling::*)]"
        case "only-child": return "[not(preceding-sibling::*) and not(following-sibling::*)]"
        case "empty": return "[not(*) and not(text())]"
        case "nth-child", "nth-last-child":
            let axis = name == "nth-child" ? "preceding-sibling" : "following-sibling"
            let (a, b) = try parseNthArgument()
            return Self.nthPredicate(a: a, b: b, axis: axis)
        case "not":
            try expect("(")
            skipWhitespace()
            let inner = try parseCompound()
            skipWhitespace()
            try expect(")")
            return "[not(self::\(inner))]"
        default:
            throw error("unsupported pseudo-class \":\(name)\"", at: start)
        }
    }

    /// Parses `(odd)`, `(even)`, `(3)` or `(an+b)` into the pair (a, b).
    private mutating func parseNthArgument() throws(SelectorError) -> (Int, Int) {
        try expect("(")
        skipWhitespace()
        let argumentStart = index
        guard let close = chars[index...].firstIndex(of: ")") else {
            index = chars.count
            throw error("expected \")\"")
        }
        let argument = String(chars[argumentStart..<close].filter { !$0.isWhitespace }).lowercased()
        guard let parsed = Self.parseAnPlusB(argument) else {
            throw error("expected an integer, \"odd\", \"even\" or an+b", at: argumentStart)
        }
        index = close + 1
        return parsed
    }

    static func parseAnPlusB(_ text: String) -> (Int, Int)? {
        switch text {
        case "odd": return (2, 1)
        case "even": return (2, 0)
        default: break
        }
        guard let n = text.firstIndex(of: "n") else {
            return Int(text).map { (0, $0) }
        }
        let aText = text[..<n]
        let bText = text[text.index(after: n)...]
        let a: Int? = aText.isEmpty || aText == "+" ? 1 : aText == "-" ? -1 : Int(aText)
        let b: Int? = bText.isEmpty ? 0 : bText.first == "+" || bText.first == "-" ? Int(bText) : nil
        guard let a, let b, abs(a) < 1_000_000, abs(b) < 1_000_000 else { return nil }
        return (a, b)
    }

    /// Matches the elements whose 1-based index among element siblings is a·k + b for some k ≥ 0.
    static func nthPredicate(a: Int, b: Int, axis: String) -> String {
        let position = "(count(\(axis)::*) + 1)"
        if a == 0 {
            return b >= 1 ? "[count(\(axis)::*) = \(b - 1)]" : "[false()]"
        }
        if a > 0 {
            let lowerBound = b > 1 ? " and \(position) >= \(b)" : ""
            return "[(\(position) - \(b)) mod \(a) = 0\(lowerBound)]"
        }
        guard b >= 1 else { return "[false()]" }
        return "[(\(b) - \(position)) mod \(-a) = 0 and \(position) <= \(b)]"
    }
}
