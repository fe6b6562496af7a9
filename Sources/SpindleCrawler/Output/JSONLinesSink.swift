/// Writes each record as one line of JSON (``CrawlRecord/jsonLine``), keys in a fixed order:
///
/// ```
/// {"page":"http://127.0.0.1:8080/sitehome/p/1","href":"http://127.0.0.1:8080/post/1.html","text":"A title"}
/// {"page":"http://127.0.0.1:8080/sitehome/p/1","status":200,"bytes":61234,"title":"Home"}
/// ```
public final class JSONLinesSink: RecordSink, Sendable {
    private let output: BufferedOutput

    /// A sink writing to `output`.
    public init(output: BufferedOutput) {
        self.output = output
    }

    /// Writes one line per record.
    public func write(_ records: [CrawlRecord]) throws {
        var text = ""
        text.reserveCapacity(records.count * 200)
        for record in records {
            text += record.jsonLine
            text += "\n"
        }
        try output.write(text)
    }

    /// Writes out what is buffered and closes the output.
    public func finish() throws {
        try output.close()
    }
}
