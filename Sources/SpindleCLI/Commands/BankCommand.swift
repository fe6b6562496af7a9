import ArgumentParser

struct BankCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "bank", abstract: "The bank-account race, with and without a lock (not built yet)")
    func run() async throws { throw ValidationError("not built yet") }
}
