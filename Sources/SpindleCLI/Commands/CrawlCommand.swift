import ArgumentParser

struct CrawlCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "crawl", abstract: "Crawl pages and extract records (not built yet)")
    func run() async throws { throw ValidationError("not built yet") }
}
