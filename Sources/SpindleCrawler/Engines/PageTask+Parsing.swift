import Foundation

extension PageTask {
    /// A task for the URL written in `text` (surrounding whitespace ignored).
    ///
    /// - Throws: ``CrawlInputError`` when `text` is not an absolute `http` or `https` URL with a
    ///   host and a port from 0 to 65535, or carries credentials, saying which part is wrong.
    public init(parsing text: String) throws(CrawlInputError) {
        let trimmed = text.trimmingCharacters(in: .whitespaces)
        guard !trimmed.isEmpty else {
            throw CrawlInputError("an empty URL: give an http:// or https:// URL")
        }
        guard let url = URL(string: trimmed), let scheme = url.scheme?.lowercased() else {
            throw CrawlInputError("'\(text)' is not a URL: give an http:// or https:// URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw CrawlInputError("'\(text)' is not an http(s) URL: the scheme '\(scheme)' is not supported")
        }
        guard let host = url.host, !host.isEmpty else {
            throw CrawlInputError("'\(text)' has no host: give a URL such as http://127.0.0.1:8080/")
        }
        if url.user != nil || url.password != nil {
            throw CrawlInputError("'\(text)' carries credentials (user:password@): Spindle neither sends nor stores them; remove them")
        }
        // Foundation accepts any port number; the fetch must never see one that wraps or is dropped.
        do {
            _ = try CanonicalURL(trimmed)
        } catch {
            throw CrawlInputError(error.description)
        }
        self.init(url: url)
    }

    /// The tasks of a URL list: one URL per line; blank lines and lines starting with `#` are
    /// skipped.
    ///
    /// - Parameters:
    ///   - contents: The list's text.
    ///   - source: The list's name for messages (a file path).
    /// - Throws: ``CrawlInputError`` naming the source and line of the first bad URL.
    public static func tasks(fromList contents: String, source: String) throws(CrawlInputError) -> [PageTask] {
        var tasks: [PageTask] = []
        var lineNumber = 0
        for line in contents.split(separator: "\n", omittingEmptySubsequences: false) {
            lineNumber += 1
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty || text.hasPrefix("#") { continue }
            do {
                tasks.append(try PageTask(parsing: text))
            } catch {
                throw CrawlInputError("\(source):\(lineNumber): \(error.description)")
            }
        }
        return tasks
    }

    /// The tasks of the URL list in the file at `path` (see ``tasks(fromList:source:)``).
    ///
    /// - Throws: ``CrawlInputError`` when the file cannot be read (with the system's reason) or
    ///   is not UTF-8 text, or names a bad URL.
    public static func tasks(fromFile path: String) throws(CrawlInputError) -> [PageTask] {
        // open(2) first, for the system's reason when the file cannot be read.
        let descriptor = open(path, O_RDONLY)
        guard descriptor >= 0 else {
            throw CrawlInputError("cannot read '\(path)': \(String(cString: strerror(errno)))")
        }
        close(descriptor)
        guard let contents = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw CrawlInputError("cannot read '\(path)' as UTF-8 text")
        }
        return try tasks(fromList: contents, source: path)
    }
}
