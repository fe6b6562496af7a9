import Foundation

/// One result of a crawl, stored by the frontier in the same transaction that marks its page
/// done, and exported as one JSON line.
///
/// Two shapes, each with a fixed set of keys in a fixed order:
/// - a selection (`--select`): `{"page":"http://…/","href":"http://…/p/1","text":"Title"}`
///   (`href` is `null` for an element without a link);
/// - a page: `{"page":"http://…/","status":200,"bytes":5120,"title":"Home"}`
///   (`title` is `null` when the page has none).
public enum CrawlRecord: Hashable, Sendable, Codable {
    /// An element picked by a CSS selector on `page`: its link, if any, and its text.
    case selection(page: String, href: String?, text: String)
    /// A fetched page: its status, body size in bytes and `<title>`.
    case page(page: String, status: Int, bytes: Int, title: String?)

    /// The page the record came from.
    public var page: String {
        switch self {
        case .selection(let page, _, _), .page(let page, _, _, _): return page
        }
    }

    /// The record as one line of JSON, without the newline, keys in the documented order.
    public var jsonLine: String {
        switch self {
        case .selection(let page, let href, let text):
            return "{\"page\":\(Self.quoted(page)),\"href\":\(href.map(Self.quoted) ?? "null"),\"text\":\(Self.quoted(text))}"
        case .page(let page, let status, let bytes, let title):
            return "{\"page\":\(Self.quoted(page)),\"status\":\(status),\"bytes\":\(bytes),\"title\":\(title.map(Self.quoted) ?? "null")}"
        }
    }

    private enum CodingKeys: String, CodingKey {
        case page, href, text, status, bytes, title
    }

    /// Encodes the keys of ``jsonLine`` (in whatever order the encoder chooses).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .selection(let page, let href, let text):
            try container.encode(page, forKey: .page)
            try container.encode(href, forKey: .href)
            try container.encode(text, forKey: .text)
        case .page(let page, let status, let bytes, let title):
            try container.encode(page, forKey: .page)
            try container.encode(status, forKey: .status)
            try container.encode(bytes, forKey: .bytes)
            try container.encode(title, forKey: .title)
        }
    }

    /// Decodes either shape: an object with `status` is a page record, otherwise a selection.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let page = try container.decode(String.self, forKey: .page)
        if container.contains(.status) {
            self = .page(
                page: page,
                status: try container.decode(Int.self, forKey: .status),
                bytes: try container.decode(Int.self, forKey: .bytes),
                title: try container.decodeIfPresent(String.self, forKey: .title)
            )
        } else {
            self = .selection(
                page: page,
                href: try container.decodeIfPresent(String.self, forKey: .href),
                text: try container.decode(String.self, forKey: .text)
            )
        }
    }

    /// A JSON string literal: quotes, backslashes and control characters escaped.
    static func quoted(_ text: String) -> String {
        // Most text needs no escape (0xE2 starts U+2028 and U+2029, and other characters).
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0xE2 }) {
            return "\"" + text + "\""
        }
        var result = "\""
        result.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case "\u{08}": result += "\\b"
            case "\u{0C}": result += "\\f"
            case _ where scalar.value < 0x20 || scalar == "\u{2028}" || scalar == "\u{2029}":
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default:
                result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}

/// A record with its position in the frontier's store, for reading records in batches.
public struct StoredRecord: Hashable, Sendable {
    /// Increases with every record stored; pass the last one seen to
    /// ``Frontier/records(after:limit:)`` to read on.
    public var sequence: Int64
    /// The record.
    public var record: CrawlRecord

    /// A stored record (frontiers make these).
    public init(sequence: Int64, record: CrawlRecord) {
        self.sequence = sequence
        self.record = record
    }
}
