/// A URL reference split into its RFC 3986 parts, and resolved against a base (section 5.2).
struct URLReference {
    var scheme: String
    var authority: String
    var path: String
    var query: String?

    /// Splits `text` (after removing whitespace as browsers do), resolves it against `base`
    /// when it has no scheme, and drops the fragment.
    static func resolve(_ text: String, against base: CanonicalURL?) throws(URLCanonicalizationError) -> URLReference {
        var cleaned = Substring(text.trimmingASCIIWhitespace())
        cleaned.removeAll { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        if let hash = cleaned.firstIndex(of: "#") {
            cleaned = cleaned[..<hash]
        }

        var rest = cleaned
        var scheme: String?
        if let colon = rest.firstIndex(where: { $0 == ":" || $0 == "/" || $0 == "?" }), rest[colon] == ":",
           isScheme(rest[..<colon]) {
            scheme = rest[..<colon].lowercased()
            rest = rest[rest.index(after: colon)...]
        }
        var authority: String?
        if rest.hasPrefix("//") {
            let afterSlashes = rest.index(rest.startIndex, offsetBy: 2)
            let end = rest[afterSlashes...].firstIndex(where: { $0 == "/" || $0 == "?" }) ?? rest.endIndex
            authority = String(rest[afterSlashes..<end])
            rest = rest[end...]
        }
        var path = rest
        var query: String?
        if let questionMark = rest.firstIndex(of: "?") {
            path = rest[..<questionMark]
            query = String(rest[rest.index(after: questionMark)...])
        }

        if let scheme {
            guard scheme == "http" || scheme == "https" else {
                throw URLCanonicalizationError(input: text, reason: .unsupportedScheme(scheme))
            }
            guard let authority else {
                throw URLCanonicalizationError(input: text, reason: .missingHost)
            }
            return URLReference(scheme: scheme, authority: authority, path: String(path), query: query)
        }
        guard let base else {
            throw URLCanonicalizationError(input: text, reason: .relativeWithoutBase)
        }
        if let authority {
            return URLReference(scheme: base.scheme, authority: authority, path: String(path), query: query)
        }
        var resolved = URLReference(scheme: base.scheme, authority: base.authority, path: base.path, query: query)
        if path.isEmpty {
            resolved.query = query ?? base.query
        } else if path.hasPrefix("/") {
            resolved.path = String(path)
        } else {
            // Merge: the base path up to its last `/`, then the reference.
            let directory = base.path.lastIndex(of: "/").map { base.path[...$0] } ?? "/"
            resolved.path = String(directory) + path
        }
        return resolved
    }

    /// RFC 3986 section 5.2.4: resolves `.` and `..` segments. `..` never climbs above the root.
    static func removingDotSegments(_ path: String) -> String {
        guard path.contains(".") else { return path }
        var input = Substring(path)
        var output: [Substring] = []
        var trailingSlash = false
        let absolute = input.hasPrefix("/")
        if absolute { input = input.dropFirst() }
        let segments = input.split(separator: "/", omittingEmptySubsequences: false)
        for (offset, segment) in segments.enumerated() {
            let isLast = offset == segments.count - 1
            switch segment {
            case ".":
                trailingSlash = isLast
            case "..":
                if !output.isEmpty { output.removeLast() }
                trailingSlash = isLast
            default:
                output.append(segment)
                trailingSlash = false
            }
        }
        var result = (absolute ? "/" : "") + output.joined(separator: "/")
        if trailingSlash && !result.hasSuffix("/") { result += "/" }
        return result
    }

    private static func isScheme(_ text: Substring) -> Bool {
        guard let first = text.unicodeScalars.first, first.isASCIILetter else { return false }
        return text.unicodeScalars.allSatisfy { $0.isASCIILetter || ("0"..."9").contains($0) || $0 == "+" || $0 == "-" || $0 == "." }
    }
}

/// The authority of an http(s) URL: a lower-cased host and a non-default port; credentials
/// (`user:password@`) are skipped.
struct Authority {
    var host: String
    var port: Int?

    init(parsing text: String, scheme: String, input: String) throws(URLCanonicalizationError) {
        var rest = Substring(text)
        if let at = rest.lastIndex(of: "@") {
            rest = rest[rest.index(after: at)...]
        }
        var portText: Substring?
        if rest.hasPrefix("[") {
            guard let close = rest.firstIndex(of: "]") else {
                throw URLCanonicalizationError(input: input, reason: .invalidHost(String(rest)))
            }
            host = rest[...close].lowercased()
            let afterHost = rest[rest.index(after: close)...]
            if afterHost.hasPrefix(":") {
                portText = afterHost.dropFirst()
            } else if !afterHost.isEmpty {
                throw URLCanonicalizationError(input: input, reason: .invalidHost(String(rest)))
            }
            let address = host.dropFirst().dropLast()
            guard !address.isEmpty, address.unicodeScalars.allSatisfy({ $0.properties.isASCIIHexDigit || $0 == ":" || $0 == "." }) else {
                throw URLCanonicalizationError(input: input, reason: .invalidHost(host))
            }
        } else {
            if let colon = rest.lastIndex(of: ":") {
                portText = rest[rest.index(after: colon)...]
                rest = rest[..<colon]
            }
            host = rest.lowercased()
            guard !host.isEmpty else {
                throw URLCanonicalizationError(input: input, reason: .missingHost)
            }
            guard host.unicodeScalars.allSatisfy(Self.isHostCharacter) else {
                throw URLCanonicalizationError(input: input, reason: .invalidHost(host))
            }
        }
        if let portText, !portText.isEmpty {
            guard portText.count <= 5, portText.unicodeScalars.allSatisfy({ ("0"..."9").contains($0) }),
                  let number = Int(portText), number <= 65535 else {
                throw URLCanonicalizationError(input: input, reason: .invalidPort(String(portText)))
            }
            let isDefault = (scheme == "http" && number == 80) || (scheme == "https" && number == 443)
            port = isDefault ? nil : number
        }
    }

    /// Letters, digits and `-._~`: host names and IPv4 addresses. Internationalised names must
    /// be given in their ASCII (punycode) form.
    private static func isHostCharacter(_ scalar: Unicode.Scalar) -> Bool {
        scalar.isASCIILetter || ("0"..."9").contains(scalar) || scalar == "-" || scalar == "." || scalar == "_" || scalar == "~"
    }
}


extension Unicode.Scalar {
    fileprivate var isASCIILetter: Bool {
        ("a"..."z").contains(self) || ("A"..."Z").contains(self)
    }
}

extension String {
    /// The string without leading and trailing ASCII spaces and control characters.
    func trimmingASCIIWhitespace() -> Substring {
        let isSpace: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" || $0 == "\u{0C}" || $0 == "\u{0B}" }
        guard let first = firstIndex(where: { !isSpace($0) }), let last = lastIndex(where: { !isSpace($0) }) else { return "" }
        return self[first...last]
    }
}
