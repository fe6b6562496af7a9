import Foundation
import Hummingbird
import HummingbirdTesting
@testable import SpindleServer
import Testing

/// What a user of `--cpu-pool threads` sees when a job outlives its request.
@Suite("Service overload")
struct ServiceOverloadTests {
    @Test("with threads, a job past its deadline keeps its thread, and the metrics count it")
    func abandonedThreadCounted() async throws {
        let configuration = try ServiceTestSupport.configuration {
            $0.cpuPool = .threads
            $0.deadline = .milliseconds(300)
        }
        let hold = ServiceHold()
        let app = try buildApplication(configuration: configuration, hold: hold)
        try await app.test(.router) { client in
            // The job holds its thread until the test opens the hold, however slow the machine.
            let slow = try await client.executeRequest(uri: "/debug/hold", method: .get, headers: [:], body: nil)
            #expect(slow.status == .gatewayTimeout)
            let metrics = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil).bodyText
            #expect(ServiceTestSupport.sample(metrics, "spindle_pool_abandoned_busy_workers") == 1)
            // The thread is still taken: the next request behind it times out too.
            let next = try await client.executeRequest(uri: "/debug/sleep/0", method: .get, headers: [:], body: nil)
            #expect(next.status == .gatewayTimeout)
            hold.open()
            try await ServiceTestSupport.waitForMetrics(client, "the abandoned thread to finish its job") {
                ServiceTestSupport.sample($0, "spindle_pool_abandoned_busy_workers") == 0
            }
        }
    }
}
