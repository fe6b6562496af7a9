import CLibXML2

/// The selectors of one extraction, compiled for a streaming parse.
///
/// Each distinct compound is evaluated once per start tag, into a bit of a mask. Each step of a
/// chain (a compound and the combinator before it) is a bit too: an element "reaches" step k
/// when it matches the step's compound and its parent (for `>`) or one of its ancestors (for a
/// space) reached step k − 1. An element matches a query when it reaches the last step of one
/// of its chains. Every element is decided from its parent's entry alone, in time linear in
/// the number of steps, however deep the page nests.
struct HTMLStreamProgram: Sendable {
    struct Step: Sendable {
        /// The bit of the compound this step matches.
        var compound: Int
        /// The bit of the step before it in its chain, if any.
        var previous: Int?
        /// Whether the previous step must be reached by the parent, not any ancestor.
        var child: Bool
    }

    /// At most 64, so that what an element matches fits in one `UInt64`.
    var compounds: [HTMLStreamSelector.Compound] = []
    /// At most 64, for the same reason.
    var steps: [Step] = []
    /// Per query, the bits of its chains' last steps.
    var queries: [UInt64] = []
    /// Per query, whether its matches need their text.
    var wantsText: [Bool] = []

    static let maximumBits = 64
    static let maximumQueries = 32

    /// The program for `selectors`, or nil when they have more compounds, steps or queries
    /// than fit.
    init?(_ selectors: [(HTMLStreamSelector, text: Bool)]) {
        guard selectors.count <= Self.maximumQueries else { return nil }
        var numbers: [HTMLStreamSelector.Compound: Int] = [:]
        for (selector, text) in selectors {
            var finals: UInt64 = 0
            for chain in selector.chains {
                var previous: Int?
                for (compound, child) in zip(chain.compounds, chain.childOfPrevious) {
                    let number: Int
                    if let known = numbers[compound] {
                        number = known
                    } else {
                        guard compounds.count < Self.maximumBits else { return nil }
                        number = compounds.count
                        numbers[compound] = number
                        compounds.append(compound)
                    }
                    guard steps.count < Self.maximumBits else { return nil }
                    steps.append(Step(compound: number, previous: previous, child: child))
                    previous = steps.count - 1
                }
                finals |= 1 << UInt64(steps.count - 1)
            }
            queries.append(finals)
            wantsText.append(text)
        }
    }
}

/// The state of one streaming parse, driven by libxml2's SAX callbacks (see
/// ``HTMLStreamExtractor``): a stack of open elements, each with the selector steps it reached,
/// and the text of matched elements still open.
///
/// The text gathered is the text the tree would hold: with blanks kept (libxml2's default,
/// which HTMLDocument keeps), the parser reports every piece of text, whitespace included, to the
/// `characters` callback, and the tree builder keeps all of it — except at the document level,
/// outside any element.
///
/// One thing the tree builder does cannot be seen in the events alone: after `</html>`, more
/// content starts a new `<html>`, which libxml2 2.9's tree builder (`xmlSAX2StartElement`)
/// appends to the document's first child when that is the first root element — so the page's
/// root element gets a second `<html>` inside it, its text grows, and `html > html` matches.
/// The stack does the same: it reopens the first root element around each later one.
struct HTMLStreamParse {
    struct OpenElement {
        /// Bit i: the element reaches step i of the program.
        var reached: UInt64
        /// `reached` of this element and all its ancestors together.
        var reachedOnPath: UInt64
        var childElements = 0
        /// The capture gathering this element's text, if any.
        var capture: Int?
    }

    /// What an element name alone decides: which compounds' type it has (or that have none,
    /// `*`), and whether it is `<title>` or `<base>`.
    struct NameFacts {
        var compoundsOfType: UInt64 = 0
        var isTitle = false
        var isBase = false
    }

    /// A matched element (or the title), in document order.
    struct Capture {
        var queries: UInt32
        var isTitle: Bool
        var href: String?
        var textStart: Int
        var text: String?
    }

    let program: HTMLStreamProgram
    let wantsTitle: Bool

    /// Index 0 stands for the document, so every element has a parent entry.
    private(set) var stack = [OpenElement(reached: 0, reachedOnPath: 0)]
    /// The text of the open captures: each starts at its `textStart` and ends where the buffer
    /// stood when its element ended (nested captures share it).
    private var text: [UInt8] = []
    private(set) var captures: [Capture] = []
    private var openCaptures = 0
    private var titleFound = false
    /// The `href` of the first `<base>` that has one.
    private(set) var baseHref: String?

    /// What the document's first child is: nothing yet, the first root element, or something
    /// else (a DOCTYPE, which the tree always puts first, a comment, a processing instruction).
    private enum FirstChild { case none, rootElement, other }
    private var firstChild = FirstChild.none
    /// The first root element once it has ended, to be reopened around later root elements.
    private var closedRoot: OpenElement?
    /// Whether `stack[1]` is the reopened first root element.
    private var rootReopened = false
    /// The facts of each element name met so far, by the name's address. A page has a few
    /// dozen distinct names among hundreds of elements, and libxml2's HTML parser hands each
    /// one out from the parser context's dictionary (or, for the elements it implies, from a
    /// static string), so one name has one address for the whole parse and no address ever
    /// holds another name. Most elements are then decided by a pointer comparison instead of
    /// string comparisons and the reference counting that reading the program's arrays costs.
    private var names: [(name: UnsafePointer<xmlChar>, facts: NameFacts)] = []

    init(program: HTMLStreamProgram, wantsTitle: Bool) {
        self.program = program
        self.wantsTitle = wantsTitle
        stack.reserveCapacity(64)
        text.reserveCapacity(1024)
    }

    // MARK: Events

    mutating func startElement(_ name: UnsafePointer<xmlChar>, _ attributes: UnsafeMutablePointer<UnsafePointer<xmlChar>?>?) {
        if stack.count == 1 {
            switch firstChild {
            case .none: firstChild = .rootElement
            case .rootElement: reopenRoot()
            case .other: break
            }
        }
        let parent = stack.count - 1
        stack[parent].childElements += 1
        let tag = HTMLStartTag(name: name, attributes: attributes, position: stack[parent].childElements)

        let facts = self.facts(of: name)
        var matched: UInt64 = 0
        var candidates = facts.compoundsOfType
        while candidates != 0 {
            let bit = candidates.trailingZeroBitCount
            candidates &= candidates - 1
            if program.compounds[bit].conditionsHold(for: tag) {
                matched |= 1 << UInt64(bit)
            }
        }
        var reached: UInt64 = 0
        if matched != 0 {
            for (bit, step) in program.steps.enumerated() where matched & (1 << UInt64(step.compound)) != 0 {
                if let previous = step.previous {
                    let before = step.child ? stack[parent].reached : stack[parent].reachedOnPath
                    guard before & (1 << UInt64(previous)) != 0 else { continue }
                }
                reached |= 1 << UInt64(bit)
            }
        }
        stack.append(OpenElement(reached: reached, reachedOnPath: stack[parent].reachedOnPath | reached))

        var queries: UInt32 = 0
        var needsText = false
        if reached != 0 {
            for (query, finals) in program.queries.enumerated() where reached & finals != 0 {
                queries |= 1 << UInt32(query)
                needsText = needsText || program.wantsText[query]
            }
        }
        let isTitle = wantsTitle && !titleFound && facts.isTitle
        if isTitle { titleFound = true }
        if queries != 0 || isTitle {
            let href = queries == 0 ? nil : tag.value(of: Self.hrefName).map { String(decoding: $0, as: UTF8.self) }
            captures.append(Capture(queries: queries, isTitle: isTitle, href: href, textStart: text.count))
            if needsText || isTitle {
                stack[stack.count - 1].capture = captures.count - 1
                openCaptures += 1
            }
        }
        if baseHref == nil, facts.isBase, let href = tag.value(of: Self.hrefName) {
            baseHref = String(decoding: href, as: UTF8.self)
        }
    }

    /// The ``NameFacts`` of `name`, from the cache when this address was seen before.
    private mutating func facts(of name: UnsafePointer<xmlChar>) -> NameFacts {
        let known = names.withUnsafeBufferPointer { names in names.first { $0.name == name } }
        if let known {
            return known.facts
        }
        var facts = NameFacts(isTitle: HTMLTreeWalk.equals(name, Self.titleName), isBase: HTMLTreeWalk.equals(name, Self.baseName))
        for (bit, compound) in program.compounds.enumerated() where compound.type.map({ HTMLTreeWalk.equals(name, $0) }) ?? true {
            facts.compoundsOfType |= 1 << UInt64(bit)
        }
        // Bounded: names past the first few hundred (tag soup) are decided without the cache.
        if names.count < 256 {
            names.append((name, facts))
        }
        return facts
    }

    mutating func endElement() {
        // The parser pairs every end with a start; the guard only keeps the document entry.
        guard stack.count > 1, let element = stack.popLast() else { return }
        if let capture = element.capture {
            finish(capture)
        }
        if stack.count == 2, rootReopened {
            rootReopened = false
            endElement()
        } else if stack.count == 1, firstChild == .rootElement {
            closedRoot = element
        }
    }

    /// A comment or processing instruction, which matters only as the document's first child.
    mutating func otherNode() {
        if stack.count == 1, firstChild == .none {
            firstChild = .other
        }
    }

    /// A DOCTYPE: the tree makes its DTD node the document's first child wherever it appears.
    mutating func doctype() {
        firstChild = .other
    }

    private mutating func reopenRoot() {
        guard let root = closedRoot else { return }
        closedRoot = nil
        if let capture = root.capture {
            captures[capture].textStart = text.count
            openCaptures += 1
        }
        stack.append(root)
        rootReopened = true
    }

    /// Text, from character data or a character reference, or the content of a `<script>` or
    /// `<style>` (a CDATA node in the tree).
    mutating func characters(_ characters: UnsafePointer<xmlChar>, count: Int) {
        guard openCaptures > 0, count > 0 else { return }
        text.append(contentsOf: UnsafeBufferPointer(start: characters, count: count))
    }

    /// Finishes captures whose elements the parser never ended (it ends them all at the end
    /// of the input, so this is a safeguard).
    mutating func finish() {
        while stack.count > 1 {
            endElement()
        }
    }

    private mutating func finish(_ capture: Int) {
        let start = captures[capture].textStart
        // A reopened root element's text continues what it had.
        captures[capture].text = (captures[capture].text ?? "") + String(decoding: text[start...], as: UTF8.self)
        openCaptures -= 1
        if openCaptures == 0 {
            text.removeAll(keepingCapacity: true)
        }
    }

    private static let titleName = Array("title".utf8)
    private static let baseName = Array("base".utf8)
    private static let hrefName = Array("href".utf8)
}
