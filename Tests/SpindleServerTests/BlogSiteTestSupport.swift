import Foundation
import HummingbirdTesting
import NIOCore
import SpindleServer
import Testing

/// Helpers the blog site's tests share: one-shot GETs, anchor extraction with plain string
/// matching (this target does not link the crawler's HTML parser), and bounded waiting.
enum BlogSiteTestSupport {
    /// GET `path` on its own connection; `timeout` bounds the whole response (the test client
    /// counts from the request, not from the last byte read).
    static func get(_ site: BlogSite, _ path: String, userAgent: String? = nil, timeout: Duration = .seconds(15)) async throws -> TestClient.Response {
        try await TestClient.withClient(host: "127.0.0.1", port: site.baseURL.port!, configuration: .init(timeout: timeout)) { client in
            if let userAgent {
                return try await client.get(path, headers: [.userAgent: userAgent])
            }
            return try await client.get(path)
        }
    }

    /// The body as bytes and as UTF-8 text.
    static func bytes(_ response: TestClient.Response) -> [UInt8] {
        response.body.map { Array($0.readableBytesView) } ?? []
    }

    static func text(_ response: TestClient.Response) -> String {
        String(decoding: bytes(response), as: UTF8.self)
    }

    /// How many times `needle` occurs in `text`.
    static func occurrences(of needle: String, in text: String) -> Int {
        text.components(separatedBy: needle).count - 1
    }

    /// The `<a class="post-item-title" href="…" …>text</a>` anchors of a page in document order,
    /// as (raw href, raw inner text). The site writes this exact attribute order and quoting.
    static func titleAnchors(in html: String) -> [(href: String, text: String)] {
        var anchors: [(String, String)] = []
        var rest = html[...]
        let opening = "<a class=\"post-item-title\" href=\""
        while let start = rest.range(of: opening) {
            rest = rest[start.upperBound...]
            guard let hrefEnd = rest.firstIndex(of: "\"") else { break }
            let href = String(rest[..<hrefEnd])
            guard let tagEnd = rest.firstIndex(of: ">"), let close = rest.range(of: "</a>") else { break }
            anchors.append((href, String(rest[rest.index(after: tagEnd)..<close.lowerBound])))
            rest = rest[close.upperBound...]
        }
        return anchors
    }

    /// The links of a list page's `<div class="pager">`, read with plain string matching.
    struct Pager {
        /// The numbered links (`class="p_N"`), in order.
        var numbered: [Int] = []
        /// The numbered link marked `current`.
        var current: Int?
        var previous: Int?
        var next: Int?
        /// How many `…` gaps the pager shows.
        var gaps = 0

        /// Every page the pager links.
        var allTargets: [Int] { numbered + [previous, next].compactMap { $0 } }
    }

    /// The pager of a list page.
    static func pager(in html: String) throws -> Pager {
        let start = try #require(html.range(of: "<div class=\"pager\">")).upperBound
        let end = try #require(html[start...].range(of: "</div>")).lowerBound
        var pager = Pager()
        for line in html[start..<end].split(separator: "\n") {
            if line.contains("class=\"p_gap\"") {
                pager.gaps += 1
                continue
            }
            let prefix = "<a href=\"/sitehome/p/"
            guard line.hasPrefix(prefix), let quote = line.dropFirst(prefix.count).firstIndex(of: "\"") else { continue }
            let target = try #require(Int(line[line.index(line.startIndex, offsetBy: prefix.count)..<quote]), "\(line)")
            if line.contains("class=\"p_prev\"") {
                pager.previous = target
            } else if line.contains("class=\"p_next\"") {
                pager.next = target
            } else {
                pager.numbered.append(target)
                if line.contains(" current\"") { pager.current = target }
            }
        }
        return pager
    }

    /// Decodes the entities the site writes (`&amp; &lt; &gt; &quot; &#39;`).
    static func decodeEntities(_ text: String) -> String {
        text.replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"")
            .replacingOccurrences(of: "&#39;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
    }

    /// Polls `condition` every 10 ms until it holds, failing the test after `timeout`.
    static func waitUntil(
        timeout: Duration = .seconds(10),
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ condition: () -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        while !condition() {
            guard ContinuousClock.now < deadline else {
                Issue.record("timed out after \(timeout) waiting until \(what)", sourceLocation: sourceLocation)
                return
            }
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    /// Runs `operation`, failing the test if it has not finished after `timeout`: a hang
    /// detector, not a performance check. The operation runs in a task of its own, so a hung one
    /// cannot hang the test run.
    static func finishes<T: Sendable>(
        within timeout: Duration,
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation,
        _ operation: @escaping @Sendable () async throws -> T
    ) async throws -> T? {
        let once = FirstResult<T>()
        let result = await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>?, Never>) in
            once.install(continuation)
            Task {
                do { once.resume(.success(try await operation())) } catch { once.resume(.failure(error)) }
            }
            Task {
                try? await Task.sleep(for: timeout)
                once.resume(nil)
            }
        }
        guard let result else {
            Issue.record("\(what) did not finish within \(timeout)", sourceLocation: sourceLocation)
            return nil
        }
        return try result.get()
    }
}

/// Resumes a continuation with whichever result comes first.
private final class FirstResult<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    /// Protected by `lock`.
    private var continuation: CheckedContinuation<Result<T, any Error>?, Never>?

    func install(_ continuation: CheckedContinuation<Result<T, any Error>?, Never>) {
        lock.withLock { self.continuation = continuation }
    }

    func resume(_ result: Result<T, any Error>?) {
        let continuation = lock.withLock {
            defer { self.continuation = nil }
            return self.continuation
        }
        continuation?.resume(returning: result)
    }
}
