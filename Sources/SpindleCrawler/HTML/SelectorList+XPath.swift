/// The XPath backend: a ``SelectorList`` as an XPath 1.0 expression libxml2 evaluates.
extension SelectorList {
    /// The expression, relative to the context node: each alternative starts with `descendant::`,
    /// and alternatives are joined in a union, so results come in document order without duplicates.
    var xpath: String {
        alternatives.map(\.xpath).joined(separator: " | ")
    }
}

extension ComplexSelector {
    var xpath: String {
        // descendant::x[p] rather than .//x[p]: equal for the non-positional predicates emitted
        // here, and libxml2 evaluates it as one axis walk instead of a child step per node.
        var path = "descendant::" + compounds[0].xpathStep
        for (combinator, compound) in zip(combinators, compounds.dropFirst()) {
            switch combinator {
            case .child: path += "/" + compound.xpathStep
            case .nextSibling: path += "/following-sibling::*[1]/self::" + compound.xpathStep
            case .subsequentSibling: path += "/following-sibling::" + compound.xpathStep
            case .descendant: path += "/descendant::" + compound.xpathStep
            }
        }
        return path
    }
}

extension CompoundSelector {
    /// A node test followed by predicates, usable after any axis.
    var xpathStep: String {
        (type.map { Self.nameTest($0.value) } ?? "*") + conditions.map(\.xpathPredicate).joined()
    }

    /// An XPath node test for an element name. Names that are not plain XPath names (escaped
    /// punctuation, for instance) are compared as strings instead.
    static func nameTest(_ name: String) -> String {
        isPlainXPathName(name) ? name : "*[name() = \(xpathLiteral(name))]"
    }

    static func attributeReference(_ name: String) -> String {
        isPlainXPathName(name) ? "@" + name : "@*[name() = \(xpathLiteral(name))]"
    }

    private static func isPlainXPathName(_ name: String) -> Bool {
        guard let first = name.unicodeScalars.first, first == "_" || ("a"..."z").contains(first) else {
            return false
        }
        return name.unicodeScalars.allSatisfy { scalar in
            ("a"..."z").contains(scalar) || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "_"
        }
    }
}

extension SelectorCondition {
    var xpathPredicate: String {
        switch self {
        case .class(let name):
            return "[contains(concat(' ', normalize-space(@class), ' '), \(xpathLiteral(" \(name.value) ")))]"
        case .id(let name):
            return "[@id = \(xpathLiteral(name.value))]"
        case .hasAttribute(let name):
            return "[\(CompoundSelector.attributeReference(name.value))]"
        case .attribute(let name, let op, let value, let caseInsensitive):
            return Self.attributePredicate(CompoundSelector.attributeReference(name.value), op, value.value, caseInsensitive)
        case .firstChild: return "[not(preceding-sibling::*)]"
        case .lastChild: return "[not(following-sibling::*)]"
        case .onlyChild: return "[not(preceding-sibling::*) and not(following-sibling::*)]"
        case .empty: return "[not(*) and not(text())]"
        case .nthChild(let a, let b): return Self.nthPredicate(a: a, b: b, axis: "preceding-sibling")
        case .nthLastChild(let a, let b): return Self.nthPredicate(a: a, b: b, axis: "following-sibling")
        case .not(let compound): return "[not(self::\(compound.xpathStep))]"
        }
    }

    private static func attributePredicate(
        _ attribute: String, _ op: SelectorAttributeOperator, _ value: String, _ caseInsensitive: Bool
    ) -> String {
        // CSS defines these operators with an empty (or, for ~=, spaced) value as matching nothing.
        if op.matchesNothing(value) { return "[false()]" }
        var subject = attribute
        var guardPresence = ""
        if caseInsensitive {
            subject = "translate(\(attribute), 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')"
            // translate() turns a missing attribute into "", which would match [a="" i].
            guardPresence = "\(attribute) and "
        }
        let literal = xpathLiteral(value)
        switch op {
        case .equals:
            return "[\(guardPresence)\(subject) = \(literal)]"
        case .prefix:
            return "[starts-with(\(subject), \(literal))]"
        case .suffix:
            return "[substring(\(subject), string-length(\(subject)) - string-length(\(literal)) + 1) = \(literal)]"
        case .substring:
            return "[contains(\(subject), \(literal))]"
        case .token:
            return "[contains(concat(' ', normalize-space(\(subject)), ' '), \(xpathLiteral(" \(value) ")))]"
        case .dashPrefix:
            return "[\(guardPresence)(\(subject) = \(literal) or starts-with(\(subject), \(xpathLiteral(value + "-"))))]"
        }
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

/// Quotes `value` as an XPath 1.0 string literal, which has no escape syntax: a value with
/// both kinds of quote is built with `concat()`. Characters XML forbids (most C0 controls),
/// which libxml2 refuses inside literals, become U+FFFD.
func xpathLiteral(_ value: String) -> String {
    var value = value
    if !value.unicodeScalars.allSatisfy(isXMLCharacter) {
        value = String(String.UnicodeScalarView(value.unicodeScalars.map { isXMLCharacter($0) ? $0 : "\u{FFFD}" }))
    }
    if !value.contains("'") { return "'\(value)'" }
    if !value.contains("\"") { return "\"\(value)\"" }
    let parts = value.split(separator: "'", omittingEmptySubsequences: false).map { "'\($0)'" }
    return "concat(\(parts.joined(separator: ", \"'\", ")))"
}

/// Whether XML allows `scalar` in a document (and libxml2 in an XPath literal).
func isXMLCharacter(_ scalar: Unicode.Scalar) -> Bool {
    switch scalar.value {
    case 0x09, 0x0A, 0x0D, 0x20...0xFFFD, 0x10000...: true
    default: false
    }
}
