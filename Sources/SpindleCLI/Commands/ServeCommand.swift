import ArgumentParser

struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "serve", abstract: "The web service (not built yet)")
    func run() async throws { throw ValidationError("not built yet") }
}
