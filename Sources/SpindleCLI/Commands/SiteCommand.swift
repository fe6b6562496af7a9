import ArgumentParser
import Foundation
import Logging
import SpindleServer

/// `spindle site`: serves the local blog site the crawler, the tour and the benches crawl.
struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "site",
        abstract: "Serve a local blog site to crawl, shaped like the course's cnblogs.com target.",
        discussion: """
            List pages /sitehome/p/1 ... /sitehome/p/PAGES, each about 60 KB with POSTS-PER-PAGE \
            a.post-item-title links to /post/{id}.html; /robots.txt; / links the first page. \
            Titles come from --seed, so the same seed always serves the same site. With --faults, \
            /faults/ links endpoints that stall, reset the connection, fail once with 500 or 429, \
            redirect in a loop or a chain, send 20 MiB, ISO-8859-1, broken markup, an image, gzip, \
            and a page robots.txt disallows. Prints "Serving URL" once it accepts connections; \
            stops on SIGINT or SIGTERM.
            """
    )

    @Option(help: "The address to bind (loopback by default).")
    var host = "127.0.0.1"

    @Option(help: "The port to bind; 0 picks a free one.")
    var port = 0

    @Option(help: "How many list pages (1...\(BlogSiteConfiguration.maximumPages)).")
    var pages = 50

    @Option(help: "How many post links on each list page.")
    var postsPerPage = 20

    @Option(help: "Milliseconds added before every response (without holding a thread; SIGTERM / SIGINT cut it short with 503).")
    var latencyMs = 0

    @Option(help: "The seed the titles are drawn from.")
    var seed: UInt64 = 1

    @Flag(help: "Serve the /faults/ endpoints (and disallow /faults/private/ in robots.txt).")
    var faults = false

    @Option(help: "A Crawl-delay for robots.txt, in seconds (none by default).")
    var crawlDelay: Double?

    @OptionGroup var timeouts: ConnectionTimeoutArguments

    @Option(help: "The most client connections open at once; beyond it a new one is answered 503 and closed (logged at most every 10 s).")
    var maxConnections = 10_000

    @Option(help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "warning"

    func validate() throws {
        if latencyMs < 0 {
            throw ValidationError("--latency-ms must be 0 or more, got \(latencyMs)")
        }
        do {
            try siteConfiguration.validate()
        } catch let error as BlogSiteConfigurationError {
            throw ValidationError(Self.optionSpelling(of: error.description))
        }
        if Logger.Level(rawValue: logLevel) == nil {
            throw ValidationError("--log-level must be one of \(Logger.Level.allCases.map(\.rawValue).joined(separator: ", ")), got '\(logLevel)'")
        }
    }

    func run() async throws {
        var logger = Logger(label: "spindle.site")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .warning
        let configuration = siteConfiguration
        // A site that cannot listen throws BlogSiteError, which names the address and the cause.
        try await BlogSite.serve(configuration, logger: logger) { site in
            var line = "Serving \(site.listPageURL(1).absoluteString) (\(configuration.pages) pages × \(configuration.postsPerPage) posts"
            if configuration.latency > .zero { line += ", \(latencyMs) ms latency" }
            line += ")"
            if configuration.faults { line += "; faults at \(site.url(path: "/faults/").absoluteString)" }
            print(line)
            fflush(nil)  // all streams: naming `stdout` is an error in Swift 6 on Linux
        }
    }

    private var siteConfiguration: BlogSiteConfiguration {
        BlogSiteConfiguration(
            host: host,
            port: port,
            pages: pages,
            postsPerPage: postsPerPage,
            latency: .milliseconds(latencyMs),
            seed: seed,
            faults: faults,
            crawlDelay: crawlDelay,
            idleTimeout: timeouts.idleTimeout.duration,
            headerTimeout: timeouts.headerTimeout.duration,
            maxConnections: maxConnections
        )
    }

    /// The library names fields as in Swift (`postsPerPage`); the command line spells them as
    /// options (`--posts-per-page`).
    private static func optionSpelling(of message: String) -> String {
        let spellings = [
            ("postsPerPage", "--posts-per-page"), ("idleTimeout", "--idle-timeout"), ("headerTimeout", "--header-timeout"), ("crawlDelay", "--crawl-delay"), ("maxConnections", "--max-connections"), ("latency", "--latency-ms"),
            ("pages", "--pages"), ("port", "--port"), ("host", "--host"),
        ]
        for (field, option) in spellings where message.hasPrefix(field) {
            return option + message.dropFirst(field.count)
        }
        return message
    }
}
