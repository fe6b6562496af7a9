import Foundation
import GRDB
@testable import SpindleCrawler
import SpindleServer
import Testing

/// What a hostile user or server gives the crawler: ports past 65535, credentials in URLs, an
/// output path that is the crawl's own state, a state file copied without its journal.
@Suite("spindle crawl (hostile input)")
struct CrawlHostileInputTests {
    @Test("a port past 65535 in a URL argument or --urls-from is refused with exit 64 before any fetch (it used to trap or wrap)",
          arguments: ["http://127.0.0.1:99999/", "http://[::1]:99999/", "http://localhost:84186/ok", "http://127.0.0.1:99999999999999999999/"])
    func portOutOfRange(url: String) async throws {
        let run = try await SpindleExecutable.run(["crawl", url])
        #expect(run.status == 64, "\(run.standardError)")
        #expect(run.standardError.contains("has an invalid port"), "\(run.standardError)")
        let followed = try await SpindleExecutable.run(["crawl", "--state", ":memory:", "--follow", "a", url])
        #expect(followed.status == 64, "\(followed.standardError)")
    }

    @Test("--urls-from: a port past 65535 names the file and line")
    func portOutOfRangeInList() async throws {
        let directory = try CrawlTestDirectory()
        let list = directory.path("urls.txt")
        try Data("# seeds\nhttp://127.0.0.1:8080/\nhttp://127.0.0.1:65536/\n".utf8).write(to: URL(fileURLWithPath: list))
        let run = try await SpindleExecutable.run(["crawl", "--urls-from", list])
        #expect(run.status == 64)
        #expect(run.standardError.contains("\(list):3: \"http://127.0.0.1:65536/\" has an invalid port \"65536\""), "\(run.standardError)")
    }

    @Test("a redirect to a port past 65535 fails that page with invalidURL; the process lives on")
    func redirectToInvalidPort() async throws {
        let server = try CannedHTTPServer(responses: [
            "/a": CannedHTTPServer.response("302 Found", headers: [("Location", "http://127.0.0.1:99999/x")]),
        ])
        try await withFetcher { fetcher in
            do {
                _ = try await fetcher.fetch(server.url("/a"))
                Issue.record("the redirect was followed")
            } catch let error as FetchError {
                #expect(error.code == .invalidURL)
                #expect(error.description.contains("redirected to http://127.0.0.1:99999/x"), "\(error)")
                #expect(error.description.contains("invalid port"), "\(error)")
            }
        }
        let run = try await SpindleExecutable.run(["crawl", server.url("/a").absoluteString])
        #expect(run.status == 1, "one page, failed: \(run.standardError)")
        // The crawl checks each redirect hop itself: the target is not a URL it can crawl.
        #expect(run.standardError.contains("redirected to http://127.0.0.1:99999/x, which is not an http(s) URL"), "\(run.standardError)")
    }

    @Test("credentials: a seed URL with user:password@ is refused; links carrying them are recorded and followed without")
    func credentials() async throws {
        let seed = try await SpindleExecutable.run(["crawl", "http://user:secret@127.0.0.1:8080/"])
        #expect(seed.status == 64)
        #expect(seed.standardError.contains("carries credentials"), "\(seed.standardError)")
        #expect(throws: CrawlInputError.self) { try PageTask(parsing: "https://me:pw@example.com/") }

        let server = try CannedHTTPServer(responses: [:])
        let page = """
            <html><body><a class="x" href="http://user:secret@127.0.0.1:\(server.port)/next">next</a>
            <a class="x" href="http://127.0.0.1:\(server.port)/plain">plain</a></body></html>
            """
        let site = try CannedHTTPServer(responses: [
            "/": CannedHTTPServer.response("200 OK", headers: [("Content-Type", "text/html")], body: page),
        ])
        let run = try await SpindleExecutable.run(["crawl", "--select", "a.x", site.url("/").absoluteString])
        #expect(run.status == 0, "\(run.standardError)")
        #expect(!run.standardOutput.contains("secret"), "\(run.standardOutput)")
        #expect(run.standardOutput.contains("\"http://127.0.0.1:\(server.port)/next\""), "\(run.standardOutput)")

        let base = try CanonicalURL("http://127.0.0.1:\(site.port)/")
        let followed = try CanonicalURL("http://user:secret@127.0.0.1:\(server.port)/next", relativeTo: base)
        #expect(followed.string == "http://127.0.0.1:\(server.port)/next")
    }

    @Test("--output or --export naming the state file (or its journal or lock files, or a link to it) is refused; the state is untouched")
    func outputOverState() async throws {
        let directory = try CrawlTestDirectory()
        let state = directory.path("crawl.jsonl")
        let statePath = directory.path("crawl.sqlite")
        let frontier = try SQLiteFrontier(path: statePath)
        _ = try await frontier.add(entries(["http://127.0.0.1:9/a"]))
        try await frontier.close()
        try FileManager.default.createSymbolicLink(atPath: directory.path("link.jsonl"), withDestinationPath: statePath)

        let cases: [[String]] = [
            ["--state", state, "-o", state, "http://127.0.0.1:9/"],
            ["--state", state, "--export", state],
            ["--state", statePath, "-o", directory.path("link.jsonl"), "http://127.0.0.1:9/"],
            ["--state", statePath, "--export", directory.path("link.jsonl")],
        ]
        for arguments in cases {
            let run = try await SpindleExecutable.run(["crawl"] + arguments)
            #expect(run.status == 64, "\(arguments): \(run.standardError)")
            #expect(run.standardError.contains("is the crawl state"), "\(arguments): \(run.standardError)")
        }
        #expect(!FileManager.default.fileExists(atPath: state), "nothing was created")
        let status = try await SpindleExecutable.run(["crawl", "--state", statePath, "--status"])
        #expect(status.standardOutput.contains("pending 1, leased 0, done 0, failed 0, records 0"), "\(status.standardOutput) \(status.standardError)")
    }

    @Test("a finished crawl's state is one self-contained file: a copy of it alone holds every page and record, and reads read-only")
    func stateFileAlone() async throws {
        let directory = try CrawlTestDirectory()
        try await withBlogSite(BlogSiteConfiguration(pages: 3)) { site in
            let state = directory.path("crawl.sqlite")
            let run = try await SpindleExecutable.run([
                "crawl", "--state", state, "--follow", ".pager a", "--select", "a.post-item-title", "--quiet", "-o", directory.path("out.jsonl"),
                site.listPageURL(1).absoluteString,
            ])
            #expect(run.status == 0, "\(run.standardError)")
            let walSize = (try? FileManager.default.attributesOfItem(atPath: state + "-wal")[.size] as? Int) ?? 0
            #expect(walSize == 0, "no data left in the write-ahead log")

            try FileManager.default.createDirectory(atPath: directory.path("copy"), withIntermediateDirectories: true)
            let copy = directory.path("copy/crawl.sqlite")
            try FileManager.default.copyItem(atPath: state, toPath: copy)
            let status = try await SpindleExecutable.run(["crawl", "--state", copy, "--status"])
            #expect(status.standardOutput.contains("pending 0, leased 0, done 3, failed 0, records 60"), "\(status.standardOutput) \(status.standardError)")

            let readOnly = try SQLiteFrontier(readingOnly: copy)
            #expect(readOnly.isReadOnly)
            let counts = try await readOnly.status()
            #expect(counts.done == 3 && counts.records == 60)
            var records = 0
            try await readOnly.forEachRecord { _ in records += 1 }
            #expect(records == 60)
            await #expect(throws: FrontierError.self) { _ = try await readOnly.add(entries(["http://127.0.0.1:9/new"])) }
            try await readOnly.close()
        }
        #expect(throws: FrontierError.self) { _ = try SQLiteFrontier(readingOnly: directory.path("missing.sqlite")) }
        let notState = directory.path("other.sqlite")
        try await makeForeignDatabase(at: notState)
        #expect(throws: FrontierError.self) { _ = try SQLiteFrontier(readingOnly: notState) }
    }
}
