/// A recursive-descent parser from a selector's text to its ``SelectorList``, which reports
/// syntax errors and syntax outside the supported subset (see ``CSSSelector``).
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

    mutating func parseSelectorList() throws(SelectorError) -> SelectorList {
        var alternatives: [ComplexSelector] = []
        skipWhitespace()
        if atEnd { throw error("empty selector") }
        while true {
            skipWhitespace()
            if atEnd || peek == "," {
                throw error(alternatives.isEmpty ? "expected a selector" : "expected a selector after \",\"")
            }
            alternatives.append(try parseComplex())
            skipWhitespace()
            if atEnd { break }
            guard peek == "," else { throw error("unexpected \"\(peek)\"") }
            index += 1
        }
        return SelectorList(alternatives: alternatives)
    }

    private mutating func parseComplex() throws(SelectorError) -> ComplexSelector {
        var complex = ComplexSelector(compounds: [try parseCompound()], combinators: [])
        while true {
            let hadWhitespace = skipWhitespace()
            if atEnd || peek == "," { return complex }
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
            complex.compounds.append(try parseCompound())
            switch combinator {
            case ">": complex.combinators.append(.child)
            case "+": complex.combinators.append(.nextSibling)
            case "~": complex.combinators.append(.subsequentSibling)
            default: complex.combinators.append(.descendant)
            }
        }
    }

    /// Parses a compound selector such as `a.title[href]:first-child`.
    private mutating func parseCompound() throws(SelectorError) -> CompoundSelector {
        let start = index
        var compound = CompoundSelector(type: nil, conditions: [])
        if !atEnd, peek == "*" {
            index += 1
        } else if !atEnd, Self.isNameStart(peek) || peek == "\\" {
            var name = try parseIdentifier("element name")
            name.value = name.value.lowercased()
            compound.type = name
        }
        while !atEnd {
            switch peek {
            case ".":
                index += 1
                compound.conditions.append(.class(try parseIdentifier("class name")))
            case "#":
                index += 1
                compound.conditions.append(.id(try parseIdentifier("id")))
            case "[":
                compound.conditions.append(try parseAttribute())
            case ":":
                compound.conditions.append(try parsePseudoClass())
            default:
                if index == start { throw error("expected a selector") }
                return compound
            }
        }
        return compound
    }

    private mutating func parseAttribute() throws(SelectorError) -> SelectorCondition {
        index += 1
        skipWhitespace()
        var name = try parseIdentifier("attribute name")
        name.value = name.value.lowercased()
        skipWhitespace()
        if atEnd { throw error("expected \"]\"") }
        if peek == "]" {
            index += 1
            return .hasAttribute(name)
        }
        let op: SelectorAttributeOperator
        if peek == "=" {
            op = .equals
            index += 1
        } else if index + 1 < chars.count, chars[index + 1] == "=", let two = Self.operators[peek] {
            op = two
            index += 2
        } else {
            throw error("expected \"]\" or an attribute operator")
        }
        skipWhitespace()
        if atEnd { throw error("expected an attribute value") }
        var value = peek == "\"" || peek == "'" ? try parseString() : try parseIdentifier("attribute value", allowLeadingDigit: true)
        skipWhitespace()
        var caseInsensitive = false
        if !atEnd, peek == "i" || peek == "I" {
            index += 1
            skipWhitespace()
            caseInsensitive = true
            value.value = value.value.lowercased()
        }
        if atEnd || peek != "]" { throw error("expected \"]\"") }
        index += 1
        return .attribute(name, op, value: value, caseInsensitive: caseInsensitive)
    }

    private static let operators: [Character: SelectorAttributeOperator] = [
        "^": .prefix, "$": .suffix, "*": .substring, "~": .token, "|": .dashPrefix,
    ]

    private mutating func parsePseudoClass() throws(SelectorError) -> SelectorCondition {
        let start = index
        index += 1
        if !atEnd, peek == ":" { throw error("pseudo-elements are not supported", at: start) }
        let name = try parseIdentifier("pseudo-class name").value.lowercased()
        switch name {
        case "first-child": return .firstChild
        case "last-child": return .lastChild
        case "only-child": return .onlyChild
        case "empty": return .empty
        case "nth-child":
            let (a, b) = try parseNthArgument()
            return .nthChild(a: a, b: b)
        case "nth-last-child":
            let (a, b) = try parseNthArgument()
            return .nthLastChild(a: a, b: b)
        case "not":
            try expect("(")
            skipWhitespace()
            let inner = try parseCompound()
            skipWhitespace()
            try expect(")")
            return .not(inner)
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
}
