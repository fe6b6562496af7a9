import ArgumentParser

struct CrawlBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crawl", abstract: "Crawler engines against the seeds' Python crawlers (not built yet)")
    @OptionGroup var options: BenchOptions
    func run() async throws { throw ValidationError("not built yet") }
}
