import Foundation

extension FaultsBench {
    /// faults.serve.overload.
    static func serveOverloadFigure() async throws -> BenchFigure {
        throw FaultsBench.Failure("faults.serve: not built yet")
    }
}
