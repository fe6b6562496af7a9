import Foundation
import SpindleCrawler
import Testing

/// The record files `spindle crawl` writes: exact JSON Lines and CSV, chosen by name, written
/// in batches.
@Suite("Record sinks")
struct CrawlOutputTests {
    private static let awkward: [CrawlRecord] = [
        .selection(page: "http://h/p/1", href: "http://h/a,b", text: "Hello, \"world\""),
        .selection(page: "http://h/p/1", href: nil, text: "two\nlines\r\nand a \\ backslash"),
        .selection(page: "http://h/p/2", href: "http://h/é", text: " padded "),
    ]

    private func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("spindle-\(UUID().uuidString)-\(name)").path
    }

    private func written(_ path: String) throws -> String {
        defer { try? FileManager.default.removeItem(atPath: path) }
        return try String(contentsOfFile: path, encoding: .utf8)
    }

    @Test("JSON Lines: one object per line, keys in order, strings escaped, null for a missing href")
    func jsonLines() throws {
        let path = temporaryPath("out.jsonl")
        let sink = try RecordSinks.open(path: path, shape: .selection)
        try sink.write(Self.awkward)
        try sink.write([.page(page: "http://h/", status: 200, bytes: 5120, title: nil)])
        try sink.finish()
        #expect(try written(path) == """
            {"page":"http://h/p/1","href":"http://h/a,b","text":"Hello, \\"world\\""}
            {"page":"http://h/p/1","href":null,"text":"two\\nlines\\r\\nand a \\\\ backslash"}
            {"page":"http://h/p/2","href":"http://h/é","text":" padded "}
            {"page":"http://h/","status":200,"bytes":5120,"title":null}

            """)
    }

    @Test("JSON Lines: U+2028 and U+2029 escaped, other text (CJK, curly quotes, emoji) written as it is")
    func jsonLinesNonASCII() throws {
        let path = temporaryPath("unicode.jsonl")
        let sink = try RecordSinks.open(path: path, shape: .selection)
        try sink.write([
            .selection(page: "http://h/", href: "http://h/文", text: "并发编程 “引号” 🧵"),
            .selection(page: "http://h/", href: nil, text: "line\u{2028}para\u{2029}end"),
        ])
        try sink.finish()
        #expect(try written(path) == """
            {"page":"http://h/","href":"http://h/文","text":"并发编程 “引号” 🧵"}
            {"page":"http://h/","href":null,"text":"line\\u2028para\\u2029end"}

            """)
    }

    @Test("CSV: header row, CRLF, quoting of commas, quotes, line breaks and edge spaces; empty field for nil")
    func csvSelection() throws {
        let path = temporaryPath("out.csv")
        let sink = try RecordSinks.open(path: path, shape: .selection)
        try sink.write(Self.awkward)
        try sink.finish()
        let expected = "page,href,text\r\n"
            + "http://h/p/1,\"http://h/a,b\",\"Hello, \"\"world\"\"\"\r\n"
            + "http://h/p/1,,\"two\nlines\r\nand a \\ backslash\"\r\n"
            + "http://h/p/2,http://h/é,\" padded \"\r\n"
        #expect(try written(path) == expected)
    }

    @Test("CSV of page records has the page columns; a selection record in it is refused")
    func csvPages() throws {
        let path = temporaryPath("pages.csv")
        let sink = try RecordSinks.open(path: path, shape: .page)
        try sink.write([
            .page(page: "http://h/1", status: 200, bytes: 10, title: "A, B"),
            .page(page: "http://h/2", status: 200, bytes: 0, title: nil),
        ])
        #expect(throws: RecordOutputError.self) {
            try sink.write([.selection(page: "http://h/1", href: nil, text: "x")])
        }
        try sink.finish()
        #expect(try written(path) == "page,status,bytes,title\r\nhttp://h/1,200,10,\"A, B\"\r\nhttp://h/2,200,0,\r\n")
    }

    @Test("an empty crawl still writes the CSV header")
    func csvHeaderOnly() throws {
        let path = temporaryPath("empty.csv")
        try RecordSinks.open(path: path, shape: .selection).finish()
        #expect(try written(path) == "page,href,text\r\n")
    }

    @Test("the format follows the name: .jsonl, .ndjson, .csv (any case), - for standard output; others are refused")
    func formatByName() throws {
        #expect(try RecordFormat(path: "-") == .jsonLines)
        #expect(try RecordFormat(path: "out.jsonl") == .jsonLines)
        #expect(try RecordFormat(path: "dir/out.NDJSON") == .jsonLines)
        #expect(try RecordFormat(path: "OUT.CSV") == .csv)
        for name in ["out.txt", "out", "out.json"] {
            #expect {
                _ = try RecordFormat(path: name)
            } throws: { error in
                (error as? CrawlInputError)?.description.contains("'\(name)'") == true
            }
        }
    }

    @Test("a file that cannot be created is refused at once, naming the path and the reason")
    func unwritable() {
        let path = "/nonexistent-\(UUID().uuidString)/out.csv"
        #expect {
            _ = try RecordSinks.open(path: path, shape: .selection)
        } throws: { error in
            (error as? RecordOutputError)?.description == "cannot write '\(path)': No such file or directory"
        }
    }

    @Test("writes larger than the buffer arrive whole and in order")
    func largeOutput() throws {
        let path = temporaryPath("big.jsonl")
        let sink = try RecordSinks.open(path: path, shape: .selection)
        let records = (0..<5_000).map { CrawlRecord.selection(page: "http://h/\($0)", href: nil, text: String(repeating: "x", count: $0 % 97)) }
        for chunk in stride(from: 0, to: records.count, by: 7) {
            try sink.write(Array(records[chunk..<min(chunk + 7, records.count)]))
        }
        try sink.finish()
        let lines = try written(path).split(separator: "\n").map(String.init)
        #expect(lines == records.map(\.jsonLine))
        #expect(lines.joined().utf8.count > BufferedOutput.bufferSize)
    }

    @Test("writing after finish is an error, finishing twice is not")
    func writeAfterFinish() throws {
        let path = temporaryPath("closed.jsonl")
        let sink = try RecordSinks.open(path: path, shape: .selection)
        try sink.finish()
        try sink.finish()
        #expect(throws: RecordOutputError.self) { try sink.write(Self.awkward) }
        _ = try written(path)
    }
}
