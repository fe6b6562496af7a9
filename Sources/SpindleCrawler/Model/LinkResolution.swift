import Foundation

/// How a link found in a page becomes an absolute URL (see ``HTMLDocument/resolve(_:)``).
enum LinkResolution {
    static func resolve(_ href: String, against base: URL?) -> URL? {
        var cleaned = href
        if needsCleaning(href) {
            cleaned = href.trimmingCharacters(in: .whitespacesAndNewlines)
            cleaned.removeAll { $0 == "\t" || $0 == "\n" || $0 == "\r" || $0 == "\r\n" }
        }
        if cleaned.isEmpty {
            return base.map(removingFragment)
        }
        if isJavaScript(cleaned) {
            return nil
        }
        if let url = absolute(cleaned, base) {
            return url
        }
        return absolute(percentEncodingInvalidCharacters(cleaned), base)
    }

    /// Whether trimming or removing tabs and line breaks could change `href`: false for the
    /// usual link, which starts and ends with visible ASCII and has no tab or line break, so the
    /// (Foundation, comparatively slow) trimming is skipped.
    private static func needsCleaning(_ href: String) -> Bool {
        let utf8 = href.utf8
        guard let first = utf8.first, let last = utf8.last else { return false }
        let visibleASCII: ClosedRange<UInt8> = 0x21...0x7E
        guard visibleASCII.contains(first), visibleASCII.contains(last) else { return true }
        return utf8.contains { $0 == 0x09 || $0 == 0x0A || $0 == 0x0D }
    }

    /// Whether `href` starts with `javascript:`, in any case.
    private static func isJavaScript(_ href: String) -> Bool {
        let scheme = "javascript:".utf8
        var utf8 = href.utf8.makeIterator()
        for expected in scheme {
            guard let byte = utf8.next(), byte | (byte >= 0x41 && byte <= 0x5A ? 0x20 : 0) == expected else { return false }
        }
        return true
    }

    static func isHTTP(_ url: URL) -> Bool {
        guard let scheme = url.scheme?.lowercased() else { return false }
        return scheme == "http" || scheme == "https"
    }

    private static func absolute(_ text: String, _ base: URL?) -> URL? {
        guard let url = URL(string: text, relativeTo: base)?.absoluteURL, url.scheme != nil else { return nil }
        // Credentials come only from the link's own text: the crawler's page URLs carry none
        // (seeds with credentials are refused, redirects drop them).
        return text.utf8.contains(UInt8(ascii: "@")) ? removingCredentials(url) : url
    }

    /// `url` without `user:password@`: credentials a page links with are never written to a
    /// record or followed with.
    static func removingCredentials(_ url: URL) -> URL {
        guard url.user != nil || url.password != nil,
              var components = URLComponents(url: url, resolvingAgainstBaseURL: true) else { return url }
        components.user = nil
        components.password = nil
        return components.url ?? url
    }

    private static func removingFragment(_ url: URL) -> URL {
        guard url.fragment != nil, var components = URLComponents(url: url, resolvingAgainstBaseURL: true) else {
            return url
        }
        components.fragment = nil
        return components.url ?? url
    }

    /// Percent-encodes, as UTF-8, every character that may not appear in a URL reference, keeping
    /// existing `%XX` escapes and the first `#` (later ones cannot be delimiters).
    static func percentEncodingInvalidCharacters(_ text: String) -> String {
        let scalars = Array(text.unicodeScalars)
        var result = ""
        var seenFragment = false
        for (index, scalar) in scalars.enumerated() {
            if scalar == "%" {
                let isEscape = index + 2 < scalars.count && isHexDigit(scalars[index + 1]) && isHexDigit(scalars[index + 2])
                result += isEscape ? "%" : "%25"
            } else if scalar == "#" && !seenFragment {
                seenFragment = true
                result.unicodeScalars.append(scalar)
            } else if scalar.isASCII, allowed.contains(UInt8(scalar.value)) {
                result.unicodeScalars.append(scalar)
            } else {
                for byte in String(scalar).utf8 {
                    result += "%" + String(byte, radix: 16, uppercase: true).leftPadded(to: 2)
                }
            }
        }
        return result
    }

    private static func isHexDigit(_ scalar: Unicode.Scalar) -> Bool {
        scalar.properties.isASCIIHexDigit
    }

    /// RFC 3986 unreserved and reserved characters, except the delimiters `#` (handled
    /// separately) and `[`/`]` (legal only around an IPv6 host).
    private static let allowed: Set<UInt8> = Set(
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~:/?@!$&'()*+,;=".utf8
    )
}

extension String {
    fileprivate func leftPadded(to length: Int) -> String {
        count >= length ? self : String(repeating: "0", count: length - count) + self
    }
}
