/// Tokens of the selector grammar: identifiers, strings, escapes and whitespace.
extension SelectorParser {
    /// Skips CSS whitespace and reports whether there was any.
    @discardableResult
    mutating func skipWhitespace() -> Bool {
        let start = index
        while !atEnd, peek.isWhitespace {
            index += 1
        }
        return index > start
    }

    mutating func expect(_ character: Character) throws(SelectorError) {
        guard !atEnd, peek == character else { throw error("expected \"\(character)\"") }
        index += 1
    }

    /// Reads a CSS identifier (with backslash escapes), reporting `what` was expected otherwise.
    mutating func parseIdentifier(_ what: String, allowLeadingDigit: Bool = false) throws(SelectorError) -> SelectorText {
        let start = index
        if !allowLeadingDigit, !atEnd {
            let next = index + 1 < chars.count ? chars[index + 1] : nil
            if peek.isASCIIDigit || (peek == "-" && next?.isASCIIDigit == true) {
                throw error("expected \(what)")
            }
        }
        var result = ""
        var escaped = false
        while !atEnd {
            if peek == "\\" {
                result.append(try parseEscape())
                escaped = true
            } else if Self.isNameCharacter(peek) {
                result.append(peek)
                index += 1
            } else {
                break
            }
        }
        if result.isEmpty || (!allowLeadingDigit && result == "-") {
            throw error("expected \(what)", at: start)
        }
        return SelectorText(value: result, isEscaped: escaped)
    }

    /// Reads a single- or double-quoted string; the opening quote is at `index`.
    mutating func parseString() throws(SelectorError) -> SelectorText {
        let quote = peek
        index += 1
        var result = ""
        var escaped = false
        while !atEnd, peek != quote {
            if peek == "\\" {
                escaped = true
                if index + 1 < chars.count, chars[index + 1].isNewline {
                    index += 2  // an escaped newline continues the string
                } else {
                    result.append(try parseEscape())
                }
            } else {
                result.append(peek)
                index += 1
            }
        }
        if atEnd { throw error("expected \(quote) to end the string") }
        index += 1
        return SelectorText(value: result, isEscaped: escaped)
    }

    /// Reads `\X` or a hexadecimal escape `\26 ` (up to six digits and one optional space).
    mutating func parseEscape() throws(SelectorError) -> Character {
        index += 1
        guard !atEnd, !peek.isNewline else { throw error("expected an escaped character") }
        guard peek.isHexDigit else {
            defer { index += 1 }
            return peek
        }
        var value: UInt32 = 0
        var digits = 0
        while !atEnd, digits < 6, let digit = peek.hexDigitValue {
            value = value * 16 + UInt32(digit)
            digits += 1
            index += 1
        }
        if !atEnd, peek.isWhitespace {
            index += 1
        }
        guard value != 0, let scalar = Unicode.Scalar(value) else { return "\u{FFFD}" }
        return Character(scalar)
    }

    /// An error at the current position, or at the 0-based `offset` given.
    func error(_ message: String, at offset: Int? = nil) -> SelectorError {
        SelectorError(selector: source, position: (offset ?? index) + 1, message: message)
    }

    static func isNameStart(_ character: Character) -> Bool {
        isNameCharacter(character) && !character.isASCIIDigit
    }

    static func isNameCharacter(_ character: Character) -> Bool {
        if character.isASCII {
            return character.isLetter || character.isNumber || character == "-" || character == "_"
        }
        return !character.isWhitespace
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
