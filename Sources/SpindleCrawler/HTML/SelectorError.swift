/// A CSS selector that could not be parsed, or uses syntax outside the supported subset.
///
/// ```swift
/// do { _ = try document.select("a[href") }
/// catch let error as SelectorError {
///     print(error) // invalid selector "a[href": expected "]" at position 7
/// }
/// ```
public struct SelectorError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The selector exactly as it was given.
    public let selector: String

    /// The 1-based position, in characters, where parsing failed.
    ///
    /// A position one past the last character means the selector ended too early.
    public let position: Int

    /// What was wrong at ``position``, for example `expected "]"`.
    public let message: String

    /// Creates an error for `selector` at the 1-based character `position`.
    public init(selector: String, position: Int, message: String) {
        self.selector = selector
        self.position = position
        self.message = message
    }

    /// A one-line explanation: `invalid selector "a[href": expected "]" at position 7`.
    public var description: String {
        "invalid selector \"\(selector)\": \(message) at position \(position)"
    }
}

/// An XPath expression that libxml2 rejected, either when compiling or when evaluating it.
///
/// Raw XPath from ``HTMLDocument/select(xpath:)`` can fail this way; translated CSS selectors
/// should not, so seeing this error for a CSS selector indicates a bug in the translation.
public struct XPathError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The expression that failed.
    public let expression: String

    /// libxml2's message, for example `Invalid expression`, or a message from Spindle when the
    /// expression evaluated to something other than a node set.
    public let message: String

    /// The 0-based offset into ``expression`` that libxml2 reported, when it reported one.
    public let offset: Int?

    /// Creates an error for `expression`.
    public init(expression: String, message: String, offset: Int? = nil) {
        self.expression = expression
        self.message = message
        self.offset = offset
    }

    /// A one-line explanation including the expression and, when known, the offset.
    public var description: String {
        let location = offset.map { " at offset \($0)" } ?? ""
        return "invalid XPath \"\(expression)\": \(message)\(location)"
    }
}
