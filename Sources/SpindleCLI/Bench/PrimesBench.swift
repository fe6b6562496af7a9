import ArgumentParser

struct PrimesBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "primes", abstract: "CPU-bound primes: sequential, threads, processes, async (not built yet)")
    @OptionGroup var options: BenchOptions
    func run() async throws { throw ValidationError("not built yet") }
}
