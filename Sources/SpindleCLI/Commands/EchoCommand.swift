import ArgumentParser

struct EchoCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "echo", abstract: "TCP echo server and load client (not built yet)")
    func run() async throws { throw ValidationError("not built yet") }
}
