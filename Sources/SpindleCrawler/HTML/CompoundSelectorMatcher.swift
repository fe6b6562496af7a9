import CLibXML2

/// A selector made of one compound — an optional type, then classes and ids, such as
/// `a.post-item-title`, `div#main.content` or `.post` — matched by walking libxml2's tree
/// instead of evaluating the XPath translation.
///
/// It is the shape crawlers use most, and the XPath form costs libxml2 string functions on
/// every candidate element (`normalize-space`, `concat`, `contains`: about 1.5 M instructions
/// on a 64 KB blog page, a tenth of parsing it); the walk compares bytes in place. It selects
/// exactly what the XPath translation selects (a test compares the two): a type matches an
/// element of that lowercased name and no namespace, a class one token of the first `class`
/// attribute split at XML whitespace, an id the whole first `id` attribute.
///
/// Only plain ASCII names are taken (`[A-Za-z_][A-Za-z0-9_-]*`, no escapes, no whitespace);
/// anything else is left to XPath.
struct CompoundSelectorMatcher: Hashable, Sendable {
    /// The element name, lowercased; `nil` for any element.
    let type: [UInt8]?
    let classes: [[UInt8]]
    let ids: [[UInt8]]

    /// The matcher for a parsed selector, or `nil` when it is not a single compound of plain
    /// names (or is a bare `*`).
    init?(_ syntax: SelectorList) {
        guard syntax.alternatives.count == 1, let compound = syntax.alternatives[0].compounds.first,
            syntax.alternatives[0].compounds.count == 1
        else { return nil }
        var classes: [[UInt8]] = []
        var ids: [[UInt8]] = []
        for condition in compound.conditions {
            switch condition {
            case .class(let name):
                guard let bytes = Self.plainName(name) else { return nil }
                classes.append(bytes)
            case .id(let name):
                guard let bytes = Self.plainName(name) else { return nil }
                ids.append(bytes)
            default:
                return nil
            }
        }
        var type: [UInt8]?
        if let name = compound.type {
            guard let bytes = Self.plainName(name) else { return nil }
            type = bytes
        }
        // A bare `*` is not worth a special case.
        guard type != nil || !classes.isEmpty || !ids.isEmpty else { return nil }
        self.type = type
        self.classes = classes
        self.ids = ids
    }

    /// The bytes of a name written `[A-Za-z_][A-Za-z0-9_-]*`, without escapes.
    private static func plainName(_ name: SelectorText) -> [UInt8]? {
        guard name.isPlainASCIIName, let first = name.value.utf8.first, isNameStart(first) else { return nil }
        return Array(name.value.utf8)
    }

    /// The matching elements below `root` (not `root` itself), in document order.
    func elements(below root: xmlNodePtr) -> [xmlNodePtr] {
        var found: [xmlNodePtr] = []
        HTMLTreeWalk.forEachElement(below: root) { node in
            if matches(node) { found.append(node) }
            return true
        }
        return found
    }

    func matches(_ node: xmlNodePtr) -> Bool {
        if let type {
            guard node.pointee.ns == nil, let name = node.pointee.name, HTMLTreeWalk.equals(name, type) else { return false }
        }
        if !ids.isEmpty {
            let matched = HTMLTreeWalk.withAttributeValue(of: node, named: Self.idAttribute) { value in
                ids.allSatisfy { value.elementsEqual($0) }
            }
            guard matched == true else { return false }
        }
        if !classes.isEmpty {
            let matched = HTMLTreeWalk.withAttributeValue(of: node, named: Self.classAttribute) { value in
                classes.allSatisfy { Self.containsToken($0, in: value) }
            }
            guard matched == true else { return false }
        }
        return true
    }

    private static let idAttribute = Array("id".utf8)
    private static let classAttribute = Array("class".utf8)

    /// Whether `token` is one of the XML-whitespace-separated words of `list`, as
    /// `contains(concat(' ', normalize-space(list), ' '), ' token ')` decides.
    static func containsToken(_ token: [UInt8], in list: UnsafeBufferPointer<UInt8>) -> Bool {
        var start = 0
        while start < list.count {
            while start < list.count, isXMLWhitespace(list[start]) { start += 1 }
            var end = start
            while end < list.count, !isXMLWhitespace(list[end]) { end += 1 }
            if end > start, end - start == token.count, UnsafeBufferPointer(rebasing: list[start..<end]).elementsEqual(token) {
                return true
            }
            start = end
        }
        return false
    }

    private static func isNameStart(_ byte: UInt8) -> Bool {
        (0x41...0x5A).contains(byte) || (0x61...0x7A).contains(byte) || byte == UInt8(ascii: "_")
    }

    private static func isXMLWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }
}

/// Walks of libxml2's tree that need no XPath context.
enum HTMLTreeWalk {
    /// Calls `body` with every element below `root` (not `root` itself), in document order,
    /// until it returns `false`. Only elements are descended into, as XPath's descendant axis
    /// does (a document's DTD node is skipped).
    static func forEachElement(below root: xmlNodePtr, _ body: (xmlNodePtr) -> Bool) {
        var next = root.pointee.children
        while let node = next {
            if node.pointee.type == XML_ELEMENT_NODE {
                guard body(node) else { return }
                if let child = node.pointee.children {
                    next = child
                    continue
                }
            }
            // No children to enter: the next sibling, or the next sibling of the nearest
            // ancestor below `root` that has one.
            var current = node
            while current.pointee.next == nil {
                guard let parent = current.pointee.parent, parent != root else { return }
                current = parent
            }
            next = current.pointee.next
        }
    }

    /// The first element below `root` named `name` (lowercase, no namespace) that has the
    /// attribute `attribute`, if given: what `(descendant::name[@attribute])[1]` selects.
    static func firstElement(below root: xmlNodePtr, named name: String, withAttribute attribute: String? = nil) -> xmlNodePtr? {
        let name = Array(name.utf8)
        let attribute = attribute.map { Array($0.utf8) }
        var found: xmlNodePtr?
        forEachElement(below: root) { node in
            guard node.pointee.ns == nil, let nodeName = node.pointee.name, equals(nodeName, name) else { return true }
            if let attribute, self.attribute(of: node, named: attribute) == nil { return true }
            found = node
            return false
        }
        return found
    }

    /// The first attribute of `node` named `name` with no namespace, as XPath's `@name` finds it.
    static func attribute(of node: xmlNodePtr, named name: [UInt8]) -> xmlAttrPtr? {
        var attribute = node.pointee.properties
        while let current = attribute {
            if current.pointee.ns == nil, let attributeName = current.pointee.name, equals(attributeName, name) {
                return current
            }
            attribute = current.pointee.next
        }
        return nil
    }

    /// Calls `body` with the value of the attribute `name` (its text children concatenated;
    /// in place when there is one, as the HTML parser makes them) and returns its result, or
    /// `nil` when the element has no such attribute.
    static func withAttributeValue<Result>(
        of node: xmlNodePtr,
        named name: [UInt8],
        _ body: (UnsafeBufferPointer<UInt8>) -> Result
    ) -> Result? {
        guard let attribute = attribute(of: node, named: name) else { return nil }
        guard let first = attribute.pointee.children else {
            return body(UnsafeBufferPointer(start: nil, count: 0))
        }
        if first.pointee.next == nil {
            guard let content = first.pointee.content else { return body(UnsafeBufferPointer(start: nil, count: 0)) }
            return body(UnsafeBufferPointer(start: content, count: Int(xmlStrlen(content))))
        }
        var value: [UInt8] = []
        var child: xmlNodePtr? = first
        while let current = child {
            if let content = current.pointee.content {
                value.append(contentsOf: UnsafeBufferPointer(start: content, count: Int(xmlStrlen(content))))
            }
            child = current.pointee.next
        }
        return value.withUnsafeBufferPointer(body)
    }

    /// Whether the NUL-terminated `string` is exactly `bytes`.
    static func equals(_ string: UnsafePointer<xmlChar>, _ bytes: [UInt8]) -> Bool {
        for (offset, byte) in bytes.enumerated() where string[offset] != byte {
            return false
        }
        return string[bytes.count] == 0
    }
}
