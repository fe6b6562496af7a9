import Foundation

extension HTMLDocument {
    /// Resolves a link found in the page against ``baseURL``.
    ///
    /// Surrounding whitespace and embedded tabs and newlines are removed first, as browsers do.
    /// Characters that `URL` rejects, such as spaces or non-ASCII letters, are percent-encoded
    /// as UTF-8. An empty `href` refers to the base URL without its fragment.
    ///
    /// - Returns: An absolute URL with a scheme and without credentials (`user:password@` is
    ///   removed), or `nil` for `javascript:` links, for relative
    ///   links when the document has no base URL, and for text that is not a URL even once
    ///   encoded. `mailto:`, `tel:` and other schemes are returned as they are: check
    ///   ``resolveHTTP(_:)`` or the scheme when only web pages are wanted.
    public func resolve(_ href: String) -> URL? {
        LinkResolution.resolve(href, against: baseURL)
    }

    /// Resolves a link like ``resolve(_:)`` and keeps it only when its scheme is `http` or `https`.
    public func resolveHTTP(_ href: String) -> URL? {
        guard let url = resolve(href), LinkResolution.isHTTP(url) else { return nil }
        return url
    }
}
