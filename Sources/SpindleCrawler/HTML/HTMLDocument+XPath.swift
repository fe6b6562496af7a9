import CLibXML2
import Foundation

extension HTMLDocument {
    /// Evaluates `expression` with `node` as the context node and returns the selected elements.
    ///
    /// Compiled expressions are kept per document rather than shared between threads, because
    /// libxml2 does not document compiled expressions as safe to evaluate concurrently.
    func evaluate(_ expression: String, on node: xmlNodePtr) throws(XPathError) -> [HTMLElement] {
        let context = makeContextIfNeeded()
        xpathErrors.reset()
        // A few libxml2 XPath errors (unknown functions, undefined prefixes) bypass the context's
        // handler and go to the generic handler, which prints to stderr. That handler is
        // per-thread state, so set it for this synchronous call only and restore it.
        let sink = Unmanaged.passUnretained(xpathErrors).toOpaque()
        let previousHandler = __xmlGenericError().pointee
        let previousContext = __xmlGenericErrorContext().pointee
        xmlSetGenericErrorFunc(sink, genericErrorHandler)
        defer { xmlSetGenericErrorFunc(previousContext, previousHandler) }

        let compiled: xmlXPathCompExprPtr
        var ownsCompiled = false
        if let cached = compiledExpressions[expression] {
            compiled = cached
        } else {
            guard let fresh = xmlXPathCtxtCompile(context, expression) else {
                throw xpathErrors.error(for: expression, fallback: "libxml2 could not compile the expression")
            }
            compiled = fresh
            // Bounded so a caller generating expressions from data cannot grow a document forever.
            if compiledExpressions.count < 64 {
                compiledExpressions[expression] = fresh
            } else {
                ownsCompiled = true
            }
        }
        defer {
            if ownsCompiled { xmlXPathFreeCompExpr(compiled) }
        }

        xpathErrors.isEvaluating = true
        context.pointee.node = node
        guard let result = xmlXPathCompiledEval(compiled, context) else {
            throw xpathErrors.error(for: expression, fallback: "libxml2 could not evaluate the expression")
        }
        defer { xmlXPathFreeObject(result) }
        guard result.pointee.type == XPATH_NODESET else {
            throw XPathError(expression: expression, message: "the expression does not select nodes")
        }
        guard let nodes = result.pointee.nodesetval, nodes.pointee.nodeNr > 0, let table = nodes.pointee.nodeTab else {
            return []
        }
        var elements: [HTMLElement] = []
        elements.reserveCapacity(Int(nodes.pointee.nodeNr))
        for index in 0..<Int(nodes.pointee.nodeNr) {
            if let match = table[index], match.pointee.type == XML_ELEMENT_NODE {
                elements.append(HTMLElement(document: self, node: match))
            }
        }
        return elements
    }

    private func makeContextIfNeeded() -> xmlXPathContextPtr {
        if let xpathContext {
            return xpathContext
        }
        guard let context = xmlXPathNewContext(doc) else {
            fatalError("libxml2 could not allocate an XPath context")
        }
        // Numbers the elements once so that sorting results into document order is a
        // comparison of indexes instead of a walk up both nodes' ancestors.
        xmlXPathOrderDocElems(doc)
        // Reuses XPath value objects between predicate evaluations instead of allocating each
        // one; it roughly halves the cost of class predicates.
        xmlXPathContextSetCache(context, 1, -1, 0)
        // Errors go to this context's handler instead of libxml2's default, which prints to
        // stderr; the handler is per context, so no thread-global state is touched.
        context.pointee.userData = Unmanaged.passUnretained(xpathErrors).toOpaque()
        context.pointee.error = { userData, error in
            guard let userData, let error else { return }
            Unmanaged<XPathErrorSink>.fromOpaque(userData).takeUnretainedValue().record(
                message: error.pointee.message.map { String(cString: $0) },
                code: Int(error.pointee.code),
                offset: Int(error.pointee.int1)
            )
        }
        xpathContext = context
        return context
    }
}

/// Receives libxml2's generic error messages: the format string only, since a Swift function
/// cannot read C variadic arguments.
///
/// libxml2 declares the handler variadic, but it only reads the two named arguments, which the
/// x86-64 System V and AArch64 calling conventions pass in the same registers for variadic and
/// non-variadic calls; the ignored variadic arguments are the only difference.
private var genericErrorHandler: OpaquePointer {
    let handler: @convention(c) (UnsafeMutableRawPointer?, UnsafePointer<CChar>?) -> Void = { context, format in
        guard let context, let format else { return }
        Unmanaged<XPathErrorSink>.fromOpaque(context).takeUnretainedValue().recordGeneric(String(cString: format))
    }
    return unsafeBitCast(handler, to: OpaquePointer.self)
}

/// Collects the first error libxml2 reports for one XPath compilation or evaluation.
///
/// Owned by one ``HTMLDocument`` and only touched on the thread using it.
final class XPathErrorSink {
    /// Whether the expression compiled; offsets reported after that do not point at a syntax error.
    var isEvaluating = false
    private var message: String?
    private var offset: Int?
    private var genericMessage: String?

    func reset() {
        isEvaluating = false
        message = nil
        offset = nil
        genericMessage = nil
    }

    /// Records a structured error; libxml2 before 2.12 leaves `message` empty for XPath errors.
    func record(message: String?, code: Int, offset: Int) {
        guard self.message == nil else { return }
        let trimmed = message?.trimmingCharacters(in: .whitespacesAndNewlines) ?? ""
        self.message = trimmed.isEmpty ? Self.describe(code: code) : trimmed
        self.offset = isEvaluating ? nil : offset
    }

    func recordGeneric(_ format: String) {
        guard genericMessage == nil else { return }
        var text = format.trimmingCharacters(in: .whitespacesAndNewlines)
        if let colon = text.range(of: ": "), text[..<colon.lowerBound].hasPrefix("xmlXPath") {
            text = String(text[colon.upperBound...])
        }
        genericMessage = text.replacingOccurrences(of: "%s", with: "…")
    }

    func error(for expression: String, fallback: String) -> XPathError {
        XPathError(expression: expression, message: message ?? genericMessage ?? fallback, offset: message == nil ? nil : offset)
    }

    /// libxml2's messages for `xmlXPathError`, indexed from `XML_XPATH_EXPRESSION_OK` (1200).
    private static func describe(code: Int) -> String {
        let messages = [
            "Ok", "Number encoding", "Unfinished literal", "Start of literal", "Expected $ for variable reference",
            "Undefined variable", "Invalid predicate", "Invalid expression", "Missing closing curly brace",
            "Unregistered function", "Invalid operand", "Invalid type", "Invalid number of arguments",
            "Invalid context size", "Invalid context position", "Memory allocation error", "Syntax error",
            "Resource error", "Sub resource error", "Undefined namespace prefix", "Encoding error",
            "Char out of XML range", "Invalid or incomplete context", "Stack usage error", "Forbidden variable",
            "Operation limit exceeded", "Recursion limit exceeded",
        ]
        let index = code - Int(XML_XPATH_EXPRESSION_OK.rawValue)
        return messages.indices.contains(index) ? messages[index] : "XPath error \(code)"
    }
}
