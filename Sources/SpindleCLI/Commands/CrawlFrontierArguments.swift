import ArgumentParser
import SpindleCrawler

/// The options of `spindle crawl` that make it a frontier crawl: a state to resume from, link
/// following, politeness and retries. Giving any of them switches from the plain engines to
/// ``FrontierCrawl`` (in memory unless `--state FILE`).
struct CrawlFrontierArguments: ParsableArguments {
    @Option(help: ArgumentHelp("Keep the crawl in an SQLite file, resumable after any stop; :memory: keeps it in memory.", valueName: "file"))
    var state: String?

    @Option(help: ArgumentHelp("Write every record the state holds to a .jsonl file (after the crawl, if URLs are given).", valueName: "path"))
    var export: String?

    @Flag(help: "Print the state's counts per URL state (after the crawl, if URLs are given).")
    var status = false

    @Option(help: ArgumentHelp("Follow the href of every element matching this CSS selector, such as 'a' or '.pager a'.", valueName: "css"))
    var follow: String?

    @Option(name: .customLong("max-depth"), help: ArgumentHelp("Follow links at most this many steps from a start URL.", valueName: "n"))
    var maxDepth: Int?

    @Option(name: .customLong("max-pages"), help: ArgumentHelp("Crawl at most this many URLs in all, start URLs included.", valueName: "n"))
    var maxPages: Int?

    @Option(name: .customLong("allow-host"), help: ArgumentHelp("A host (host or host:port) links may lead to; repeat for more (default: the start URLs' hosts).", valueName: "host"))
    var allowHosts: [String] = []

    @Option(help: ArgumentHelp("Follow only links whose URL matches this regular expression; repeat for more.", valueName: "regex"))
    var include: [String] = []

    @Option(help: ArgumentHelp("Never follow links whose URL matches this regular expression; repeat for more.", valueName: "regex"))
    var exclude: [String] = []

    @Flag(name: .customLong("sort-query"), help: "Treat URLs whose query parameters differ only in order as the same page.")
    var sortQuery = false

    @Option(name: .customLong("per-host"), help: ArgumentHelp("Requests in flight at once to one host (default: 4).", valueName: "n"))
    var perHost: Int?

    @Option(help: ArgumentHelp("The least time between two requests to one host, such as 250ms (default: 0; robots.txt Crawl-delay can make it longer).", valueName: "duration"), transform: DurationArgument.parse)
    var delay: DurationArgument?

    @Flag(name: .customLong("ignore-robots"), help: "Do not fetch or obey robots.txt.")
    var ignoreRobots = false

    /// `--frontier postgres://…`: a crawl shared by many workers (CrawlCommand+Postgres.swift).
    @OptionGroup var shared: CrawlPostgresArguments

    @Option(help: ArgumentHelp("Retries of a page after a timeout, a lost connection, 429 or 5xx, with backoff (default: 2).", valueName: "n"))
    var retries: Int?

    /// Whether any option asks for a frontier crawl.
    var isFrontierCrawl: Bool {
        state != nil || export != nil || status || follow != nil || maxDepth != nil || maxPages != nil
            || !allowHosts.isEmpty || !include.isEmpty || !exclude.isEmpty || sortQuery || perHost != nil
            || delay != nil || ignoreRobots || retries != nil || shared.isShared
    }

    /// Whether the state is kept in memory (no `--state`, or `--state :memory:`).
    var isInMemory: Bool { (state == nil && !shared.isShared) || state == ":memory:" }

    /// Checks values that need no other option.
    func validate() throws {
        if let maxDepth, maxDepth < 0 { throw ValidationError("--max-depth must be 0 or more, got \(maxDepth)") }
        if let maxPages, maxPages < 1 { throw ValidationError("--max-pages must be at least 1, got \(maxPages)") }
        if let perHost, perHost < 1 { throw ValidationError("--per-host must be at least 1, got \(perHost)") }
        if let retries, retries < 0 { throw ValidationError("--retries must be 0 or more, got \(retries)") }
        if let delay, delay.duration < .zero { throw ValidationError("--delay must not be negative, got \(delay)") }
        if state?.isEmpty == true { throw ValidationError("--state needs a file name, or :memory:") }
        if state != nil && shared.isShared { throw ValidationError("--state and --frontier both say where the crawl is kept: give one") }
        if let export, !export.hasSuffix(".jsonl") {
            throw ValidationError("--export writes JSON Lines: give a file name ending in .jsonl, got '\(export)'")
        }
        if (status || export != nil) && isInMemory {
            throw ValidationError("--status and --export read a crawl state file: add --state FILE")
        }
        for host in allowHosts where host.isEmpty || host.contains("/") || host.contains(where: \.isWhitespace) {
            throw ValidationError("--allow-host takes a host or host:port such as example.com or 127.0.0.1:8080, got '\(host)'")
        }
        if let follow {
            do {
                _ = try CSSSelector(follow)
            } catch {
                throw ValidationError("--follow: \(error.description)")
            }
        }
        for (option, patterns) in [("--include", include), ("--exclude", exclude)] {
            for pattern in patterns where (try? CrawlScope(include: [pattern])) == nil {
                throw ValidationError("\(option): '\(pattern)' is not a valid regular expression")
            }
        }
    }
}
