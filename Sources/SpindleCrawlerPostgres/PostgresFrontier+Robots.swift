import Foundation
import PostgresNIO
import Spindle
import SpindleCrawler

/// robots.txt fetched once per origin for the whole crawl: the first worker to ask claims the
/// origin in `spindle_robots`, fetches and stores it; the others wait for the stored copy.
extension PostgresFrontier: SharedRobotsStore {
    /// How long a claim may go without a stored answer before another worker takes it over
    /// (the claimer died mid-fetch).
    static let robotsClaimTimeout: TimeInterval = 30

    public func sharedRobots(origin: String, host: String, fetch: @Sendable () async -> SharedRobotsFile) async throws -> SharedRobotsFile {
        while true {
            let claim = try await transaction("read robots.txt of \(origin)") { connection -> RobotsClaim in
                let now = Date()
                let claimed = try await connection.query("""
                    INSERT INTO spindle_robots (crawl_id, origin, claimed_by, claimed_at) VALUES (\(self.crawlID), \(origin), \(self.workerID), \(now))
                    ON CONFLICT (crawl_id, origin) DO NOTHING RETURNING claimed_by
                    """, logger: self.logger)
                // Rows are always read to the end: a row stream left half read holds the
                // connection, and the transaction's COMMIT waits behind it.
                var isMine = false
                for try await _ in claimed { isMine = true }
                if isMine { return .mine }
                let rows = try await connection.query("""
                    SELECT claimed_by, claimed_at, status, body, error FROM spindle_robots
                    WHERE crawl_id = \(self.crawlID) AND origin = \(origin) FOR UPDATE
                    """, logger: self.logger)
                var found: [(String, Date, Int?, ByteBuffer?, String?)] = []
                for try await row in rows.decode((String, Date, Int?, ByteBuffer?, String?).self) { found.append(row) }
                for (owner, claimedAt, status, body, error) in found {
                    if let status {
                        return .stored(SharedRobotsFile(status: status, body: body.map { Array($0.readableBytesView) } ?? [], error: error))
                    }
                    if owner == self.workerID || now.timeIntervalSince(claimedAt) > Self.robotsClaimTimeout {
                        try await connection.query("""
                            UPDATE spindle_robots SET claimed_by = \(self.workerID), claimed_at = \(now)
                            WHERE crawl_id = \(self.crawlID) AND origin = \(origin)
                            """, logger: self.logger)
                        return .mine
                    }
                }
                return .waiting
            }
            switch claim {
            case .stored(let file):
                return file
            case .mine:
                let file = await fetch()
                try await transaction("store robots.txt of \(origin)") { connection in
                    try await connection.query("""
                        UPDATE spindle_robots SET status = \(file.status), body = \(ByteBuffer(bytes: file.body)), error = \(file.error), fetched_at = \(Date())
                        WHERE crawl_id = \(self.crawlID) AND origin = \(origin)
                        """, logger: self.logger)
                    if let delay = file.crawlDelay {
                        let milliseconds = Int64(delay.seconds * 1000)
                        try await connection.query("""
                            INSERT INTO spindle_hosts (crawl_id, host, crawl_delay_ms) VALUES (\(self.crawlID), \(host), \(milliseconds))
                            ON CONFLICT (crawl_id, host) DO UPDATE SET crawl_delay_ms = EXCLUDED.crawl_delay_ms
                            """, logger: self.logger)
                    }
                }
                return file
            case .waiting:
                try await Task.sleep(for: .milliseconds(20))
            }
        }
    }

    private enum RobotsClaim: Sendable {
        case mine, waiting
        case stored(SharedRobotsFile)
    }
}
