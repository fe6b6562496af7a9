import NIOConcurrencyHelpers

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
///
/// The text is parsed once (``SelectorParser``, into a ``SelectorList``); the XPath text, the
/// tree walk of a plain compound and the start-tag matching of ``HTMLStreamExtractor`` are all
/// made from that one parse, so they read every selector alike.
public struct CSSSelector: Hashable, Sendable, CustomStringConvertible {
    /// The selector as written.
    public let source: String

    /// The parse and the forms made from it, shared by every selector built from the same text.
    private let compiled: Compiled

    /// Parses and translates `source`.
    ///
    /// Parses are cached per selector string, so building the same selector repeatedly
    /// (for example once per page) costs a dictionary lookup.
    ///
    /// - Throws: ``SelectorError`` when `source` is empty, malformed, or uses syntax outside the
    ///   supported subset (pseudo-elements, namespaces, unknown pseudo-classes).
    public init(_ source: String) throws(SelectorError) {
        self.source = source
        self.compiled = try Self.compile(source)
    }

    /// The equivalent XPath expression, relative to the context node (it starts with `descendant::`).
    public var xpath: String { compiled.xpath }

    /// The selector as written.
    public var description: String { source }

    /// The parse every form below is made from.
    var syntax: SelectorList { compiled.syntax }

    /// Set for a single compound of type, classes and ids, which is matched by walking the tree
    /// rather than evaluating ``xpath`` (same elements, a fraction of the work).
    var matcher: CompoundSelectorMatcher? { compiled.matcher }

    /// The form ``HTMLStreamExtractor`` matches at start tags, or why there is none.
    var streamSelector: Result<HTMLStreamSelector, HTMLStreamSelector.NotStreamable> { compiled.stream }

    public static func == (lhs: CSSSelector, rhs: CSSSelector) -> Bool {
        lhs.source == rhs.source
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(source)
    }

    /// A selector's parse and the forms each backend made of it.
    private struct Compiled: Sendable {
        let syntax: SelectorList
        let xpath: String
        let matcher: CompoundSelectorMatcher?
        let stream: Result<HTMLStreamSelector, HTMLStreamSelector.NotStreamable>

        init(_ syntax: SelectorList) {
            self.syntax = syntax
            self.xpath = syntax.xpath
            self.matcher = CompoundSelectorMatcher(syntax)
            self.stream = Result { () throws(HTMLStreamSelector.NotStreamable) in try HTMLStreamSelector(syntax) }
        }
    }

    private static func compile(_ source: String) throws(SelectorError) -> Compiled {
        if let cached = cache.withLockedValue({ $0[source] }) {
            return cached
        }
        var parser = SelectorParser(source)
        let compiled = Compiled(try parser.parseSelectorList())
        cache.withLockedValue { cache in
            // Selectors come from code, so a few hundred entries cover a crawler; the bound
            // only stops a caller that builds selectors from data from growing it forever.
            if cache.count >= 512 {
                cache.removeAll(keepingCapacity: true)
            }
            cache[source] = compiled
        }
        return compiled
    }

    /// Parses keyed by selector source.
    private static let cache = NIOLockedValueBox<[String: Compiled]>([:])
}
