import Foundation

/// A fetched body as text: the decoding (in the HTML folder) applied to a page (in the Fetch
/// folder), here so that neither folder refers to the other.
extension FetchedPage {
    /// The body as text, in the encoding the page declares (header, then `<meta charset>`,
    /// then UTF-8; see `decodeHTML(body:contentTypeHeader:)`).
    public func decoded() -> DecodedHTML {
        decodeHTML(body: body, contentTypeHeader: contentType)
    }

    /// The body as text (see ``decoded()``).
    public var text: String { decoded().text }

    /// Calls `body` with the UTF-8 of ``text`` without making a `String` of it, when that is
    /// the body itself — the body decodes as UTF-8 (see ``decoded()``) and is valid UTF-8, as
    /// most pages are — and returns its result; returns nil, without calling it, otherwise.
    public func withUTF8Text<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result? {
        let contentType = self.contentType
        return try self.body.withUnsafeBufferPointer { bytes in
            guard let text = TextDecoding.utf8Text(bytes, contentTypeHeader: contentType) else { return nil }
            return try body(text)
        }
    }
}
