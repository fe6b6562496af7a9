import ArgumentParser

struct PrimesCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "primes", abstract: "CPU-bound work: sequential, threads, processes, async (not built yet)")
    func run() async throws { throw ValidationError("not built yet") }
}
