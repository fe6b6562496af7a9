import ArgumentParser

struct ExecCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "Run commands concurrently (not built yet)")
    func run() async throws { throw ValidationError("not built yet") }
}
