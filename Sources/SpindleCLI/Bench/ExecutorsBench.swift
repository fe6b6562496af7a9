import ArgumentParser

struct ExecutorsBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "executors", abstract: "Thread pool and blocking queue against CPython (not built yet)")
    @OptionGroup var options: BenchOptions
    func run() async throws { throw ValidationError("not built yet") }
}
