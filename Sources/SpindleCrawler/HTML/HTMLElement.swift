import CLibXML2
import Foundation

/// An element of an ``HTMLDocument``: a handle that reads from the tree when asked.
///
/// An element keeps its document alive, so it stays valid however long it is kept. Like its
/// document it is not `Sendable`; extract the strings and URLs you need before crossing tasks.
/// Two handles are equal when they refer to the same node.
public struct HTMLElement {
    /// The document this element belongs to.
    public let document: HTMLDocument

    /// The node in `document`'s tree; valid because `document` is retained.
    let node: xmlNodePtr

    init(document: HTMLDocument, node: xmlNodePtr) {
        self.document = document
        self.node = node
    }

    /// The tag name, lowercased by the HTML parser: `a`, `div`.
    public var name: String {
        node.pointee.name.map { String(cString: $0) } ?? ""
    }

    /// The text of all descendant text nodes, concatenated as they are, like the DOM's
    /// `textContent` (so it includes the contents of `<script>` and `<style>`).
    public var text: String {
        guard let buffer = xmlBufferCreate() else { return "" }
        defer { xmlBufferFree(buffer) }
        xmlNodeBufGetContent(buffer, node)
        return Self.string(from: buffer)
    }

    /// ``text`` with each run of whitespace replaced by one space and the ends trimmed.
    public var trimmedText: String {
        Self.trimmed(text)
    }

    /// `text` trimmed and collapsed as ``trimmedText`` does, for text gathered without a tree.
    static func trimmed(_ text: String) -> String {
        // ASCII whitespace at the ends cannot be part of a longer character when what lies
        // between is collapsed already (ASCII and CJK only): trim it on bytes.
        let utf8 = text.utf8
        var start = utf8.startIndex
        var end = utf8.endIndex
        while start < end, Self.isASCIIWhitespace(utf8[start]) { start = utf8.index(after: start) }
        while end > start, Self.isASCIIWhitespace(utf8[utf8.index(before: end)]) { end = utf8.index(before: end) }
        let inner = utf8[start..<end]
        if Self.isCollapsed(inner) {
            return start == utf8.startIndex && end == utf8.endIndex ? text : String(Substring(inner))
        }
        return text.split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// Whether collapsing whitespace would leave `utf8` as it is, decided on its bytes: no
    /// whitespace at either end, no two spaces in a row, no tab or line break, and nothing but
    /// ASCII and CJK ideographs (U+4000–U+9FFF), so there is no other whitespace and no mark
    /// that could join a space into one character. Most link texts pass; the rest take the
    /// character-by-character path.
    static func isCollapsed(_ utf8: some Collection<UInt8>) -> Bool {
        var previous: UInt8 = 0x20
        for byte in utf8 {
            switch byte {
            case 0x20 where previous == 0x20: return false
            case 0x09...0x0D: return false
            case 0x00...0x7F, 0x80...0xBF, 0xE4...0xE9: break
            default: return false
            }
            previous = byte
        }
        return previous != 0x20 || utf8.isEmpty
    }

    private static func isASCIIWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || (0x09...0x0D).contains(byte)
    }

    /// All attributes by (lowercased) name. Attributes written without a value map to the empty
    /// string, except the boolean attributes libxml2 knows (`disabled`, `checked`, `selected`…),
    /// which it gives their own name as value.
    public var attributes: [String: String] {
        var result: [String: String] = [:]
        var attribute = node.pointee.properties
        while let current = attribute {
            if let name = current.pointee.name {
                result[String(cString: name)] = Self.value(of: current)
            }
            attribute = current.pointee.next
        }
        return result
    }

    /// The value of the attribute `name` (matched case-insensitively, since the HTML parser
    /// lowercases attribute names), or `nil` when the element has no such attribute. See
    /// ``attributes`` for attributes written without a value.
    public func attribute(_ name: String) -> String? {
        xmlHasProp(node, name.lowercased()).map(Self.value(of:))
    }

    /// The value of the attribute `name`; the same as ``attribute(_:)``.
    public subscript(attribute name: String) -> String? {
        attribute(name)
    }

    /// The URL in attribute `attribute` resolved against the document's ``HTMLDocument/baseURL``,
    /// or `nil` when the attribute is missing or is not a usable link (see
    /// ``HTMLDocument/resolve(_:)``).
    public func absoluteURL(for attribute: String = "href") -> URL? {
        self.attribute(attribute).flatMap(document.resolve)
    }

    /// The element containing this one, or `nil` for the root element.
    public var parent: HTMLElement? {
        guard let parent = node.pointee.parent, parent.pointee.type == XML_ELEMENT_NODE else { return nil }
        return HTMLElement(document: document, node: parent)
    }

    /// The child elements, in document order; text and comments are skipped.
    public var children: [HTMLElement] {
        var result: [HTMLElement] = []
        var child = node.pointee.children
        while let current = child {
            if current.pointee.type == XML_ELEMENT_NODE {
                result.append(HTMLElement(document: document, node: current))
            }
            child = current.pointee.next
        }
        return result
    }

    /// The element serialised as HTML, including its own tags.
    public var outerHTML: String {
        serialize { output in
            htmlNodeDumpFormatOutput(output, document.doc, node, "UTF-8", 0)
        }
    }

    /// The element's children serialised as HTML.
    public var innerHTML: String {
        serialize { output in
            var child = node.pointee.children
            while let current = child {
                htmlNodeDumpFormatOutput(output, document.doc, current, "UTF-8", 0)
                child = current.pointee.next
            }
        }
    }

    /// The descendants of this element (not the element itself) matching `selector`, in
    /// document order. A combinator's left side must also lie inside this element.
    ///
    /// - Throws: ``SelectorError`` when `selector` cannot be parsed.
    public func select(_ selector: String) throws -> [HTMLElement] {
        try select(CSSSelector(selector))
    }

    /// The descendants matching a selector parsed in advance, in document order.
    public func select(_ selector: CSSSelector) throws -> [HTMLElement] {
        try document.select(selector, below: node)
    }

    /// The first descendant matching `selector`, if any.
    ///
    /// - Throws: ``SelectorError`` when `selector` cannot be parsed.
    public func selectFirst(_ selector: String) throws -> HTMLElement? {
        try select(selector).first
    }

    /// The elements an XPath 1.0 expression selects with this element as the context node
    /// (so `.//a` means links inside it, while `//a` still means every link in the page).
    ///
    /// - Throws: ``XPathError`` when libxml2 rejects the expression or it does not select nodes.
    public func select(xpath: String) throws -> [HTMLElement] {
        try document.evaluate(xpath, on: node)
    }

    private func serialize(_ body: (xmlOutputBufferPtr) -> Void) -> String {
        guard let buffer = xmlBufferCreate() else { return "" }
        defer { xmlBufferFree(buffer) }
        guard let output = xmlOutputBufferCreateBuffer(buffer, nil) else { return "" }
        body(output)
        xmlOutputBufferClose(output)
        return Self.string(from: buffer)
    }

    private static func string(from buffer: xmlBufferPtr) -> String {
        guard let content = xmlBufferContent(buffer) else { return "" }
        let bytes = UnsafeBufferPointer(start: content, count: Int(xmlBufferLength(buffer)))
        return String(decoding: bytes, as: UTF8.self)
    }

    /// An attribute's value: the HTML parser stores it as text children, entities already decoded.
    private static func value(of attribute: xmlAttrPtr) -> String {
        var value = ""
        var child = attribute.pointee.children
        while let current = child {
            if let content = current.pointee.content {
                value += String(cString: content)
            }
            child = current.pointee.next
        }
        return value
    }
}

extension HTMLElement: Hashable {
    /// Whether both handles refer to the same node.
    public static func == (lhs: HTMLElement, rhs: HTMLElement) -> Bool {
        lhs.node == rhs.node
    }

    /// Hashes the node's identity.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(node)
    }
}

extension HTMLElement: CustomStringConvertible {
    /// A short form for debugging, such as `<a class="title">`.
    public var description: String {
        let attributes = attributes.sorted { $0.key < $1.key }.map { " \($0.key)=\"\($0.value)\"" }.joined()
        return "<\(name)\(attributes)>"
    }
}

@available(*, unavailable, message: "an HTMLElement keeps a non-Sendable HTMLDocument alive; send the values extracted from it")
extension HTMLElement: Sendable {}
