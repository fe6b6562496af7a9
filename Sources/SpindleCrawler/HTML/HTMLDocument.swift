import CLibXML2
import Foundation

/// An HTML page parsed by libxml2's forgiving HTML parser, queried with CSS selectors or XPath.
///
/// Any input parses: unclosed tags, stray end tags, NUL bytes and binary junk are repaired the
/// way libxml2 repairs them, and input with nothing in it gives an empty document.
///
/// ```swift
/// let document = HTMLDocument(html: body, url: pageURL)
/// for link in try document.select("a.post-item-title") {
///     print(link.trimmedText, link.absoluteURL(for: "href") as Any)
/// }
/// ```
///
/// A document owns libxml2's tree and frees it when the last reference to it, including the
/// references held by its ``HTMLElement``s, goes away. It is not `Sendable`: libxml2 trees are
/// not safe to read from two threads at once, and even reads update the XPath caches kept here.
/// Parse and query a page on one task; send the extracted values, not the document.
public final class HTMLDocument {
    /// The address the page was fetched from, used to resolve relative links.
    public let url: URL?

    /// libxml2's tree, owned by this object.
    let doc: htmlDocPtr

    /// Created on first use: an XPath context, and expressions compiled for this document.
    var xpathContext: xmlXPathContextPtr?
    var compiledExpressions: [String: xmlXPathCompExprPtr] = [:]
    let xpathErrors = XPathErrorSink()

    private var cachedBaseURL: URL??

    /// Parses `html`.
    ///
    /// libxml2 receives the string's UTF-8 and is told it is UTF-8, so a `<meta charset>` in
    /// the page cannot make it decode the text a second time.
    ///
    /// - Parameters:
    ///   - html: The page's text, however broken.
    ///   - url: The page's address, used by ``baseURL`` and ``resolve(_:)``.
    public init(html: String, url: URL? = nil) {
        LibXML2.initialize()
        self.url = url
        var html = html
        self.doc = html.withUTF8(Self.parse)
    }

    /// Decodes `bytes` and parses the result.
    ///
    /// - Parameters:
    ///   - bytes: The response body.
    ///   - encoding: The encoding of `bytes` when known; when `nil` it is detected from a
    ///     byte-order mark or a `<meta>` charset declaration, defaulting to UTF-8, as
    ///     ``decodeHTML(body:contentTypeHeader:)`` does. Invalid sequences become U+FFFD.
    ///   - url: The page's address, used by ``baseURL`` and ``resolve(_:)``.
    public convenience init(bytes: some Collection<UInt8>, encoding: String.Encoding? = nil, url: URL? = nil) {
        let text: String
        if let encoding {
            text = TextDecoding.decode(bytes, as: encoding)
        } else {
            text = decodeHTML(body: bytes, contentTypeHeader: nil).text
        }
        self.init(html: text, url: url)
    }

    /// Decodes a response body using its `Content-Type` header, then parses it.
    ///
    /// - Parameters:
    ///   - bytes: The response body.
    ///   - contentTypeHeader: The response's `Content-Type` value, such as
    ///     `text/html; charset=ISO-8859-1`; see ``decodeHTML(body:contentTypeHeader:)``.
    ///   - url: The page's address, used by ``baseURL`` and ``resolve(_:)``.
    public convenience init(bytes: some Collection<UInt8>, contentTypeHeader: String?, url: URL? = nil) {
        self.init(html: decodeHTML(body: bytes, contentTypeHeader: contentTypeHeader).text, url: url)
    }

    deinit {
        for expression in compiledExpressions.values {
            xmlXPathFreeCompExpr(expression)
        }
        if let xpathContext {
            xmlXPathFreeContext(xpathContext)
        }
        xmlFreeDoc(doc)
    }

    private static func parse(_ utf8: UnsafeBufferPointer<UInt8>) -> htmlDocPtr {
        // libxml2 stops reading at a NUL in some states (at the very start, for one), losing
        // the rest of the page; browsers treat it as U+FFFD, and so does this.
        if let base = utf8.baseAddress, memchr(base, 0, utf8.count) != nil {
            var repaired: [UInt8] = []
            repaired.reserveCapacity(utf8.count + 16)
            for byte in utf8 {
                if byte == 0 {
                    repaired.append(contentsOf: [0xEF, 0xBF, 0xBD])
                } else {
                    repaired.append(byte)
                }
            }
            return repaired.withUnsafeBufferPointer(parseWithoutNUL)
        }
        return parseWithoutNUL(utf8)
    }

    private static func parseWithoutNUL(_ utf8: UnsafeBufferPointer<UInt8>) -> htmlDocPtr {
        // XML_PARSE_HUGE lifts the nesting limit of 256, past which libxml2 silently stops
        // parsing; pages of unclosed tags reach it. libxml2 walks deep trees iteratively.
        let options = HTML_PARSE_RECOVER.rawValue | HTML_PARSE_NOERROR.rawValue | HTML_PARSE_NOWARNING.rawValue
            | HTML_PARSE_NONET.rawValue | HTML_PARSE_COMPACT.rawValue | HTML_PARSE_IGNORE_ENC.rawValue
            | XML_PARSE_HUGE.rawValue
        // libxml2 takes an Int32 length; a body over 2 GiB is truncated rather than rejected.
        let length = Int32(clamping: utf8.count)
        if length > 0, let base = utf8.baseAddress {
            let parsed = base.withMemoryRebound(to: CChar.self, capacity: Int(length)) { characters in
                htmlReadMemory(characters, length, nil, "UTF-8", Int32(bitPattern: options))
            }
            if let parsed {
                return parsed
            }
        }
        // libxml2 returns no document for empty input; an empty tree keeps every query valid.
        guard let empty = htmlNewDocNoDtD(nil, nil) else {
            fatalError("libxml2 could not allocate an empty document")
        }
        return empty
    }

    /// The root `<html>` element, or `nil` for a document with no elements.
    public var root: HTMLElement? {
        xmlDocGetRootElement(doc).map { HTMLElement(document: self, node: $0) }
    }

    /// The trimmed text of the first `<title>`, with runs of whitespace collapsed, or `nil`
    /// when the page has no title element.
    public var title: String? {
        HTMLTreeWalk.firstElement(below: documentNode, named: "title").map { HTMLElement(document: self, node: $0).trimmedText }
    }

    /// The elements matching `selector`, in document order and without duplicates.
    ///
    /// - Throws: ``SelectorError`` when `selector` cannot be parsed. Matching nothing is not an
    ///   error: the result is empty.
    public func select(_ selector: String) throws -> [HTMLElement] {
        try select(CSSSelector(selector))
    }

    /// The elements matching a selector parsed in advance, in document order.
    public func select(_ selector: CSSSelector) throws -> [HTMLElement] {
        try select(selector, below: documentNode)
    }

    /// The elements below `node` matching `selector`: walked for a simple compound, else by XPath.
    func select(_ selector: CSSSelector, below node: xmlNodePtr) throws -> [HTMLElement] {
        if let matcher = selector.matcher {
            return matcher.elements(below: node).map { HTMLElement(document: self, node: $0) }
        }
        return try evaluate(selector.xpath, on: node)
    }

    /// The first element matching `selector` in document order, if any.
    ///
    /// - Throws: ``SelectorError`` when `selector` cannot be parsed.
    public func selectFirst(_ selector: String) throws -> HTMLElement? {
        try select(selector).first
    }

    /// The elements an XPath 1.0 expression selects, evaluated with the document as context.
    ///
    /// Nodes that are not elements (text, attributes, comments) are left out of the result.
    ///
    /// - Throws: ``XPathError`` when libxml2 rejects the expression, or when it evaluates to a
    ///   number, string or boolean rather than a node set.
    public func select(xpath: String) throws -> [HTMLElement] {
        try evaluate(xpath, on: documentNode)
    }

    /// The first element an XPath 1.0 expression selects, if any.
    ///
    /// - Throws: ``XPathError`` as ``select(xpath:)`` does.
    public func selectFirst(xpath: String) throws -> HTMLElement? {
        try select(xpath: xpath).first
    }

    /// The document node, which libxml2 lays out as a node so it can be an XPath context.
    var documentNode: xmlNodePtr {
        xmlNodePtr(OpaquePointer(doc))
    }

    /// The URL relative links resolve against: the first `<base href>` resolved against
    /// ``url``, or ``url`` itself when there is no usable base element.
    public var baseURL: URL? {
        if let cachedBaseURL {
            return cachedBaseURL
        }
        var base = url
        if let node = HTMLTreeWalk.firstElement(below: documentNode, named: "base", withAttribute: "href"),
            let href = HTMLElement(document: self, node: node).attribute("href"),
            let resolved = LinkResolution.resolve(href, against: url)
        {
            base = resolved
        }
        cachedBaseURL = .some(base)
        return base
    }
}

@available(*, unavailable, message: "an HTMLDocument must stay on one task; send the values extracted from it")
extension HTMLDocument: Sendable {}

/// One-time process-wide setup that libxml2 requires before threads parse concurrently.
enum LibXML2 {
    private static let initialized: Void = xmlInitParser()

    static func initialize() {
        _ = initialized
    }
}
