import Foundation

extension FaultsBench {
    /// faults.process_pool.sigkill and faults.process_pool.sigstop.
    static func processPoolFigures() async throws -> [BenchFigure] {
        throw FaultsBench.Failure("faults.process_pool: not built yet")
    }
}
