import ArgumentParser

struct EchoBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "echo", abstract: "The echo server against the seeds' gevent server (not built yet)")
    @OptionGroup var options: BenchOptions
    func run() async throws { throw ValidationError("not built yet") }
}
