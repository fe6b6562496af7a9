import Foundation
import Hummingbird
import HummingbirdTesting
import SpindleServer
import Testing

/// Helpers for the web service's tests.
enum ServiceTestSupport {
    /// The `spindle` executable built next to this test bundle: the service's worker processes
    /// run it (it registers ``WebServiceJobs/all``). `swift build --product spindle` must have run.
    static func workerExecutable() throws -> String {
        let path = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
            .deletingLastPathComponent().appendingPathComponent("spindle").path
        guard FileManager.default.isExecutableFile(atPath: path) else {
            throw ServiceTestSetupError(
                "the worker executable \(path) is missing: run `swift build --product spindle` before the tests")
        }
        return path
    }

    /// A configuration for tests: a free port, short reads (10/20/30 ms), one worker process
    /// of the built `spindle`, every list checked on the pool (as the course does), debug
    /// routes on; `adjust` changes the rest.
    static func configuration(_ adjust: (inout ServiceConfiguration) -> Void = { _ in }) throws -> ServiceConfiguration {
        var configuration = ServiceConfiguration(
            port: 0, cpuWorkers: 1, inlineDivisions: 0, fileWait: .milliseconds(10), dbWait: .milliseconds(20), apiWait: .milliseconds(30),
            workerExecutable: try workerExecutable(), enableDebugRoutes: true)
        adjust(&configuration)
        return configuration
    }

    /// The value of a sample in Prometheus text: `sample(text, "spindle_pool_busy_workers")`,
    /// or with `labels: #"route="/",status="200""#`.
    static func sample(_ text: String, _ name: String, labels: String? = nil) -> Double? {
        let prefix = labels.map { "\(name){\($0)} " } ?? "\(name) "
        for line in text.split(separator: "\n") where line.hasPrefix(prefix) {
            return Double(line.dropFirst(prefix.count).trimmingCharacters(in: .whitespaces))
        }
        return nil
    }

    /// Scrapes `/metrics` until `condition` holds for the text, for at most `timeout`; fails
    /// the test (naming `what`) if it never does.
    static func waitForMetrics(
        _ client: some TestClientProtocol, _ what: String, timeout: Duration = .seconds(20),
        until condition: (String) -> Bool
    ) async throws {
        let deadline = ContinuousClock.now + timeout
        var last = ""
        while ContinuousClock.now < deadline {
            last = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil).bodyText
            if condition(last) { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("timed out after \(timeout) waiting for \(what); last scrape:\n\(last)")
        throw ServiceTestSetupError("timed out waiting for \(what)")
    }
}

/// The tests cannot run as set up (for example, the worker executable was not built).
struct ServiceTestSetupError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

extension TestResponse {
    /// The body as text.
    var bodyText: String { String(buffer: body) }

    /// The body as a JSON object (empty if it is not one).
    var bodyJSON: [String: Any] {
        (try? JSONSerialization.jsonObject(with: Data(bodyText.utf8))) as? [String: Any] ?? [:]
    }
}
