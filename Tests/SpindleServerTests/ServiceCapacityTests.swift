#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Hummingbird
import HummingbirdTesting
@testable import SpindleServer
import Spindle
import Testing

/// What the service does at and beyond its limits: a full queue, a deadline, a dead worker,
/// a shutdown with requests in flight.
@Suite("Service capacity and failures")
struct ServiceCapacityTests {
    @Test("a full CPU queue answers 503 with Retry-After at once; the queued work still completes")
    func queueFull() async throws {
        let configuration = try ServiceTestSupport.configuration {
            $0.cpuWorkers = 1
            $0.queueCapacity = 1
            $0.deadline = .seconds(30)
        }
        let hold = ServiceHold()
        let app = try buildApplication(configuration: configuration, hold: hold)
        try await app.test(.router) { client in
            // The worker is held until the test opens the hold, the queued task stays queued.
            async let holding = client.executeRequest(uri: "/debug/hold", method: .get, headers: [:], body: nil)
            try await ServiceTestSupport.waitForMetrics(client, "the worker to be busy") { ServiceTestSupport.sample($0, "spindle_pool_busy_workers") == 1 }
            async let queued = client.executeRequest(uri: "/is_prime/2", method: .get, headers: [:], body: nil)
            try await ServiceTestSupport.waitForMetrics(client, "a task to be queued") { ServiceTestSupport.sample($0, "spindle_pool_queued_tasks") == 1 }

            let rejected = try await client.executeRequest(uri: "/is_prime/3", method: .get, headers: [:], body: nil)
            #expect(rejected.status == .serviceUnavailable)
            #expect(rejected.headers[.retryAfter] == "1")
            #expect(rejected.bodyText.hasPrefix(#"{"error": "the server is at capacity"#), "body: \(rejected.bodyText)")
            #expect(rejected.bodyJSON.keys.sorted() == ["error"], "no item: the whole request is refused")

            hold.open()
            #expect(try await holding.bodyText == #"{"held": true}"#)
            #expect(try await queued.bodyText == #"{"2": true}"#)
        }
    }

    @Test("a request past its deadline gets 504 and its queued task is cancelled")
    func deadline() async throws {
        let configuration = try ServiceTestSupport.configuration {
            $0.cpuWorkers = 1
            $0.deadline = .milliseconds(300)
            $0.jobTimeout = .seconds(120)  // let the held job finish rather than kill its worker
        }
        let hold = ServiceHold()
        let app = try buildApplication(configuration: configuration, hold: hold)
        try await app.test(.router) { client in
            async let holding = client.executeRequest(uri: "/debug/hold", method: .get, headers: [:], body: nil)
            try await ServiceTestSupport.waitForMetrics(client, "the worker to be busy") { ServiceTestSupport.sample($0, "spindle_pool_busy_workers") == 1 }

            let late = try await client.executeRequest(uri: "/is_prime/2", method: .get, headers: [:], body: nil)
            #expect(late.status == .gatewayTimeout)
            #expect((late.bodyJSON["error"] as? String)?.contains("deadline of") == true, "body: \(late.bodyText)")
            #expect(try await holding.status == .gatewayTimeout)

            // The queued task was cancelled, the running one could not be; the worker goes on
            // once released.
            hold.open()
            try await ServiceTestSupport.waitForMetrics(client, "the sleeping job to finish") { ServiceTestSupport.sample($0, "spindle_pool_busy_workers") == 0 }
            let text = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil).bodyText
            #expect(ServiceTestSupport.sample(text, "spindle_pool_tasks_cancelled_total") == 1)
            #expect(ServiceTestSupport.sample(text, "spindle_pool_tasks_completed_total") == 1)
            let after = try await client.executeRequest(uri: "/is_prime/2", method: .get, headers: [:], body: nil)
            #expect(after.bodyText == #"{"2": true}"#)
        }
    }

    @Test("a worker that dies fails only its request with 500; the next request is served")
    func workerDies() async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.cpuWorkers = 1 })
        try await app.test(.router) { client in
            let crashed = try await client.executeRequest(uri: "/debug/crash", method: .get, headers: [:], body: nil)
            #expect(crashed.status == .internalServerError)
            let error = try #require(crashed.bodyJSON["error"] as? String, "body: \(crashed.bodyText)")
            #expect(error.contains("died") && error.contains("replaced"), "error: \(error)")

            let next = try await client.executeRequest(uri: "/is_prime/2,3,4", method: .get, headers: [:], body: nil)
            #expect(next.status == .ok)
            #expect(next.bodyText == #"{"2": true, "3": true, "4": false}"#)
            let text = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil).bodyText
            #expect(ServiceTestSupport.sample(text, "spindle_pool_worker_restarts_total") == 1)
            #expect(ServiceTestSupport.sample(text, "spindle_pool_live_workers") == 1)
        }
    }

    @Test("debug routes exist only when enabled, and crash only with worker processes")
    func debugRoutesOff() async throws {
        let off = try buildApplication(configuration: ServiceTestSupport.configuration { $0.enableDebugRoutes = false })
        try await off.test(.router) { client in
            let crash = try await client.executeRequest(uri: "/debug/crash", method: .get, headers: [:], body: nil)
            let sleep = try await client.executeRequest(uri: "/debug/sleep/1", method: .get, headers: [:], body: nil)
            #expect(crash.status == .notFound)
            #expect(sleep.status == .notFound)
        }
        let threads = try buildApplication(configuration: ServiceTestSupport.configuration { $0.cpuPool = .threads })
        try await threads.test(.router) { client in
            let crash = try await client.executeRequest(uri: "/debug/crash", method: .get, headers: [:], body: nil)
            let sleep = try await client.executeRequest(uri: "/debug/sleep/1", method: .get, headers: [:], body: nil)
            #expect(crash.status == .notFound)
            #expect(sleep.bodyText == #"{"slept_ms": 1}"#)
        }
    }

    @Test("graceful shutdown finishes the requests in flight, pool work included, then stops listening")
    func shutdownDrains() async throws {
        let configuration = try ServiceTestSupport.configuration {
            $0.cpuWorkers = 1
            $0.deadline = .seconds(120)
            $0.jobTimeout = .seconds(120)
        }
        let hold = ServiceHold()
        let service = try await WebService.start(configuration, hold: hold)
        let port = service.port
        // Five requests wait on held reads; two hold the one worker, the second queued behind
        // the first. They stay in flight until the hold opens, after the shutdown has begun.
        let paths = Array(repeating: "/", count: 5) + ["/debug/hold", "/debug/hold"]
        try await withThrowingTaskGroup(of: (String, TestClient.Response).self) { group in
            for path in paths {
                group.addTask {
                    try await TestClient.withClient(host: "127.0.0.1", port: port) { (path, try await $0.get(path)) }
                }
            }
            try await TestClient.withClient(host: "127.0.0.1", port: port) { client in
                try await waitFor("every request to be in flight, one task queued") {
                    let text = String(buffer: try await client.get("/metrics").body ?? ByteBuffer())
                    // The scrape counts itself.
                    return ServiceTestSupport.sample(text, "spindle_http_requests_in_flight") == Double(paths.count + 1)
                        && ServiceTestSupport.sample(text, "spindle_pool_queued_tasks") == 1
                }
            }
            let stopping = Task { await service.stop() }
            try await waitFor("the listener to close") {
                do {
                    _ = try await TestClient.withClient(host: "127.0.0.1", port: port) { try await $0.get("/health") }
                    return false
                } catch {
                    return true
                }
            }
            hold.open()
            await stopping.value
            var answered: [String] = []
            for try await (path, response) in group {
                #expect(response.status == .ok, "\(path)")
                let body = response.body.map { String(buffer: $0) }
                #expect(body == (path == "/" ? ServiceRoutesTests.readsJSON : #"{"held": true}"#))
                answered.append(path)
            }
            #expect(answered.sorted() == paths.sorted())
        }
    }

    /// Checks `condition` until it holds, for at most 60 s (then fails the test naming `what`):
    /// for states that last once reached, not for passing moments.
    private func waitFor(_ what: String, _ condition: () async throws -> Bool) async throws {
        let deadline = ContinuousClock.now + .seconds(60)
        while ContinuousClock.now < deadline {
            if try await condition() { return }
            try await Task.sleep(for: .milliseconds(5))
        }
        Issue.record("timed out waiting for \(what)")
        throw ServiceTestSetupError("timed out waiting for \(what)")
    }

    @Test("shutting the pools down ends every worker process")
    func poolsShutdownEndsWorkers() async throws {
        let pools = try ServicePools(configuration: ServiceTestSupport.configuration { $0.cpuWorkers = 2 }, logger: .init(label: "test"))
        guard case .processes(let pool) = pools.backend else {
            Issue.record("expected worker processes")
            return
        }
        let pids = pool.workerPIDs
        #expect(pids.count == 2)
        #expect(try await pools.values(of: [pools.submitIsPrime([97])]) == [[true]])
        await pools.shutdown()
        for pid in pids {
            #expect(kill(pid, 0) == -1 && errno == ESRCH, "worker \(pid) is still there")
        }
    }
}
