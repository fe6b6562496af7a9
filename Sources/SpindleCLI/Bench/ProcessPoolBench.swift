import ArgumentParser

struct ProcessPoolBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "process-pool", abstract: "Process pool against CPython's ProcessPoolExecutor (not built yet)")
    @OptionGroup var options: BenchOptions
    func run() async throws { throw ValidationError("not built yet") }
}
