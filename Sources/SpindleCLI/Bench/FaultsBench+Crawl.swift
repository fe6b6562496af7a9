import Foundation

extension FaultsBench {
    /// faults.crawl.sigkill_resume.
    static func crawlResumeFigure() async throws -> BenchFigure {
        throw FaultsBench.Failure("faults.crawl: not built yet")
    }

    /// faults.shared_crawl.worker_and_server_loss.
    static func sharedCrawlFigure(postgresURL: String, dataDirectory: String) async throws -> BenchFigure {
        throw FaultsBench.Failure("faults.shared_crawl: not built yet")
    }
}
