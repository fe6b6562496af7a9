import ArgumentParser

struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "The web service against the seeds' Flask app (not built yet)")
    @OptionGroup var options: BenchOptions
    func run() async throws { throw ValidationError("not built yet") }
}
