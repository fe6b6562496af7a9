import ArgumentParser

struct SiteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "site", abstract: "Serve a local blog site to crawl (not built yet)")
    func run() async throws { throw ValidationError("not built yet") }
}
