import Foundation

/// Writes records as CSV (RFC 4180): a header row with the columns of the record shape, then one
/// row per record, lines ending in CRLF.
///
/// A field is quoted when it contains a comma, a double quote, a CR or an LF, or starts or
/// ends with a space; a double quote inside is doubled. A missing value (`href` of an element
/// without a link, `title` of a page without one) is an empty field.
///
/// ```
/// page,href,text
/// http://127.0.0.1:8080/sitehome/p/1,http://127.0.0.1:8080/post/1.html,"Hello, ""world"""
/// ```
public final class CSVSink: RecordSink, Sendable {
    /// The shape every record must have.
    public let shape: RecordShape
    private let output: BufferedOutput

    /// A sink writing records of `shape` to `output`; writes the header row at once.
    ///
    /// - Throws: ``RecordOutputError`` when the header cannot be written.
    public init(output: BufferedOutput, shape: RecordShape) throws {
        self.output = output
        self.shape = shape
        try output.write(Self.row(shape.columns))
    }

    /// Writes one row per record.
    ///
    /// - Throws: ``RecordOutputError`` when writing fails, or when a record does not have the
    ///   sink's ``shape`` (the columns would not match the header).
    public func write(_ records: [CrawlRecord]) throws {
        var text = ""
        for record in records {
            switch (record, shape) {
            case (.selection(let page, let href, let text_), .selection):
                text += Self.row([page, href ?? "", text_])
            case (.page(let page, let status, let bytes, let title), .page):
                text += Self.row([page, String(status), String(bytes), title ?? ""])
            default:
                throw RecordOutputError(path: "CSV", reason: "a \(record) record does not fit the columns \(shape.columns.joined(separator: ","))")
            }
        }
        try output.write(text)
    }

    /// Writes out what is buffered and closes the output.
    public func finish() throws {
        try output.close()
    }

    /// One CSV row, with its CRLF.
    public static func row(_ fields: [String]) -> String {
        fields.map(field).joined(separator: ",") + "\r\n"
    }

    /// `value` as a CSV field, quoted when it has to be.
    public static func field(_ value: String) -> String {
        let needsQuotes = value.utf8.contains { byte in
            byte == UInt8(ascii: ",") || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\n") || byte == UInt8(ascii: "\r")
        } || value.hasPrefix(" ") || value.hasSuffix(" ")
        guard needsQuotes else { return value }
        return "\"" + value.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
