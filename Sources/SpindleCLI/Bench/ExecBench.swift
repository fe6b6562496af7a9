import ArgumentParser

struct ExecBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "exec", abstract: "spindle exec against xargs -P (not built yet)")
    @OptionGroup var options: BenchOptions
    func run() async throws { throw ValidationError("not built yet") }
}
