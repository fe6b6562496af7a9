import ArgumentParser
import Foundation
import SpindleCrawler

/// `spindle crawl`: fetches pages with one of the course's crawler designs and writes one record
/// per selected element (or per page) as JSON Lines or CSV.
struct CrawlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crawl",
        abstract: "Fetch pages and extract records, with any of the course's crawler designs.",
        discussion: """
            With --select, one record per matching element: {"page", "href", "text"} (href made \
            absolute, text trimmed). Without it, one record per page: {"page", "status", "bytes", \
            "title"}. Records go to standard output as JSON Lines, or to a .jsonl or .csv file \
            (CSV: header row, RFC 4180 quoting).

            Engines (every one yields the same records and works with every frontier: memory, \
            --state FILE, --frontier postgres://…; --concurrency bounds each alike):
              sequential      one page at a time (the course's single_thread)
              threads         a thread per page, at most --concurrency (multi_thread)
              pool            thread pool: map to fetch, submit + asCompleted to parse
              pool-callbacks  thread pool: parse in each future's done callback
              pipeline        fetcher threads → bounded queue → --parsers parsers
              async           a task per page under an AsyncSemaphore (default)

            On a terminal, a progress line on standard error shows pages done, failures, pages/s \
            and the pipeline's queue depths; a summary follows at the end. Each failed URL is \
            logged on standard error with its reason. --json-summary prints the summary as one \
            JSON object on standard output after the records, or on standard error when the \
            records go to standard output (so standard output stays pure JSON Lines).

            Every crawl runs through one frontier. Without the options below, a list crawl: \
            the URLs given, each crawled once (a URL listed twice, the same after \
            canonicalisation, is crawled once), no links followed, in memory, up to \
            --concurrency requests to one host, robots.txt obeyed, failures retried twice; \
            a record's page is the URL listed, also after a redirect (to any host).

            Frontier crawl: --state FILE keeps every URL (pending, leased, done, failed, with \
            depth, attempts and last error) and every record in an SQLite file as it goes; run \
            the same command again after Ctrl-C, SIGTERM or even SIGKILL and it resumes: done \
            pages are not fetched again, no record is lost or stored twice. Ctrl-C (or SIGTERM) \
            finishes the pages in flight (at most 5 s) and exits 130 (143); a second one exits \
            at once. --state :memory: (the default when only the options below are given) keeps \
            it in memory. With --follow CSS, the href of every matching element on a page joins \
            the crawl if it is http(s), on an allowed host (--allow-host; by default the start \
            URLs' hosts), matches --include and not --exclude, within --max-depth and \
            --max-pages. URLs are canonicalised first (case, default port, fragment, dot \
            segments, percent-encoding; --sort-query also orders the query). Politeness per \
            host: --per-host requests at once beside --concurrency, --delay between requests, \
            robots.txt fetched once per host and obeyed (Allow/Disallow, wildcards, \
            Crawl-delay) unless --ignore-robots; a slow host never holds up the others. \
            Timeouts, lost connections, 429 and 5xx are retried --retries times with \
            exponential backoff and jitter, or after Retry-After when the server says; other \
            4xx are not. Redirects are followed hop by hop (at most 5), each target checked \
            against the allowed hosts, the URLs already in the crawl, robots.txt and loops. \
            --export FILE.jsonl writes every record the state holds; --status prints its \
            counts and failed URLs with their reasons (both also work without URLs, and on a \
            read-only copy of a state file). With --state FILE, --output FILE ends holding every \
            record once, however earlier runs stopped: a resumed run first writes the records \
            the state already holds (standard output gets only this run's). The output may not \
            be the state file or one of its -wal, -shm, -journal or -lock files.

            URLs must have a port from 0 to 65535 and no credentials (user:password@ is refused \
            in a start URL, and removed from links and redirects: it is never sent or stored).

            Exit status: 0 when at least one page was crawled (failures of others are only \
            reported), 1 when none could be, 64 for bad arguments, 130/143 after a stop by \
            signal (the state is resumable).
            """
    )

    @Argument(help: "Pages to crawl: http:// or https:// URLs.")
    var urls: [String] = []

    @Option(name: .customLong("urls-from"), help: ArgumentHelp("A file of URLs, one per line (blank lines and # comments skipped).", valueName: "file"))
    var urlsFrom: String?

    @Option(help: ArgumentHelp("A CSS selector, such as 'a.post-item-title': one record per matching element.", valueName: "css"))
    var select: String?

    @Option(help: "How pages are scheduled (see the list above).")
    var engine: CrawlEngineKind = .async

    @Option(help: "Pages fetched at once: threads, pool size, fetcher threads or semaphore permits.")
    var concurrency = 16

    @Option(help: "Parser threads of the pipeline engine.")
    var parsers = 2

    @Option(name: [.short, .long], help: ArgumentHelp("Where records go: a .jsonl or .csv file, or - for standard output.", valueName: "path"))
    var output = "-"

    @Option(help: "The longest one fetch may take (500ms, 30s, 2m).", transform: DurationArgument.parse)
    var timeout = DurationArgument.seconds(30)

    @Flag(help: "Print the summary as one JSON object (see above for where).")
    var jsonSummary = false

    @Flag(help: "No progress line and no closing summary (failed URLs are still reported).")
    var quiet = false

    @OptionGroup(title: "Frontier crawl (resumable state, link following, politeness, retries)")
    var frontierArguments: CrawlFrontierArguments

    func validate() throws {
        do {
            try FrontierCrawlOptions(engine: engine, concurrency: concurrency, parsers: parsers).validate()
            _ = try extraction()
            _ = try RecordFormat(path: output)
            if !onlyReadsState { _ = try pageTasks() }
        } catch let error as CrawlInputError {
            throw ValidationError(error.description)
        }
        guard timeout.duration > .zero else { throw ValidationError("--timeout must be more than 0, got \(timeout)") }
        try validateFrontierCrawl()
    }

    func run() async throws {
        let session = CrawlSession(output: output, quiet: quiet, trapsSignals: true)
        let result: CrawlSession.Result?
        do {
            result = try await runFrontierCrawl(session)
        } catch let error as CrawlInputError {
            // Thrown from run(), a ValidationError would print the root command's usage.
            FileHandle.standardError.write(Data("Error: \(error)\nUsage: spindle \(Self.usageString())\n".utf8))
            throw ExitCode.validationFailure
        }
        guard let result else { return }
        if jsonSummary {
            var summary = result.summary
            summary.peakResidentMegabytes = ProcessMemory.peakResidentMegabytes()
            let line = Data((try summary.json() + "\n").utf8)
            (output == "-" ? FileHandle.standardError : FileHandle.standardOutput).write(line)
        }
        if result.exitStatus != 0 { throw ExitCode(result.exitStatus) }
    }

    /// The read and connect timeouts never longer than the whole fetch's (the crawl's options
    /// add the connections per host).
    var fetchConfiguration: FetchConfiguration {
        var configuration = FetchConfiguration(totalTimeout: timeout.duration)
        configuration.readTimeout = min(configuration.readTimeout, timeout.duration)
        configuration.connectTimeout = min(configuration.connectTimeout, timeout.duration)
        return configuration
    }

    func extraction() throws -> RecordExtraction {
        guard let select else { return .pageSummary }
        do {
            return .selection(try CSSSelector(select))
        } catch {
            throw CrawlInputError("--select: \(error.description)")
        }
    }

    /// The URLs given as arguments, then those of --urls-from.
    func pageTasks() throws(CrawlInputError) -> [PageTask] {
        var tasks = try urls.map { text throws(CrawlInputError) in try PageTask(parsing: text) }
        if let urlsFrom {
            do {
                tasks += try PageTask.tasks(fromFile: urlsFrom)
            } catch {
                throw CrawlInputError("--urls-from: \(error.description)")
            }
        }
        guard !tasks.isEmpty else {
            throw CrawlInputError(urlsFrom.map { "no URLs to crawl: '\($0)' lists none" } ?? "give at least one URL to crawl, or --urls-from FILE")
        }
        return tasks
    }
}

extension CrawlEngineKind: ExpressibleByArgument {}
