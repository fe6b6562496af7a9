import Foundation
import Hummingbird
import HummingbirdTesting
import SpindleServer
import Testing

/// The routes of `spindle serve`, through HummingbirdTesting's router client.
@Suite("Service routes")
struct ServiceRoutesTests {
    static let readsJSON = #"{"result_file":"file result","result_db":"db result","result_api":"api result"}"#

    @Test("GET /, /sequential and /?pool=threads answer the course's JSON", arguments: ["/", "/sequential", "/?pool=threads"])
    func reads(path: String) async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration())
        try await app.test(.router) { client in
            let response = try await client.executeRequest(uri: path, method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(response.bodyText == Self.readsJSON)
            #expect(response.headers[.contentType] == "application/json")
        }
    }

    @Test("GET / waits for the reads at once, /sequential one after another")
    func concurrentVersusSequential() async throws {
        // Three reads of 1 s and a 2.9 s deadline: one after another they take at least 3 s and
        // cannot fit; at once they fit with 1.9 s to spare for a busy machine (850 ms of 300 ms
        // reads was not enough room in a loaded run).
        let configuration = try ServiceTestSupport.configuration {
            $0.fileWait = .seconds(1)
            $0.dbWait = .seconds(1)
            $0.apiWait = .seconds(1)
            $0.deadline = .milliseconds(2900)
        }
        let app = try buildApplication(configuration: configuration)
        try await app.test(.router) { client in
            let concurrent = try await client.executeRequest(uri: "/", method: .get, headers: [:], body: nil)
            #expect(concurrent.status == .ok)
            let sequential = try await client.executeRequest(uri: "/sequential", method: .get, headers: [:], body: nil)
            #expect(sequential.status == .gatewayTimeout)
            #expect((sequential.bodyJSON["error"] as? String)?.contains("deadline") == true)
        }
    }

    @Test("GET /is_prime/2,3,4 answers as Python's json.dumps, on either pool", arguments: ServiceConfiguration.CPUPoolKind.allCases)
    func isPrimeExactText(pool: ServiceConfiguration.CPUPoolKind) async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.cpuPool = pool })
        try await app.test(.router) { client in
            let response = try await client.executeRequest(uri: "/is_prime/2,3,4", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(response.bodyText == #"{"2": true, "3": true, "4": false}"#)
        }
    }

    @Test("keys are the numbers in input order, once each, as Python's dict(zip(...)) makes them")
    func isPrimeKeys() async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.cpuWorkers = 2 })
        try await app.test(.router) { client in
            let response = try await client.executeRequest(uri: "/is_prime/9,007,0,1,7,2%2C9", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(response.bodyText == #"{"9": false, "7": true, "0": false, "1": false, "2": true}"#)
        }
    }

    @Test("a list spread over several workers comes back in input order")
    func spreadList() async throws {
        // Large enough to be split over both workers; each answer checked against Miller–Rabin.
        let numbers: [UInt64] = [1_000_000_007, 1_000_000_008, 999_999_937, 4_294_967_291, 4_294_967_295, 3, 10_000_019]
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.cpuWorkers = 2 })
        try await app.test(.router) { client in
            let list = numbers.map(String.init).joined(separator: ",")
            let response = try await client.executeRequest(uri: "/is_prime/\(list)", method: .get, headers: [:], body: nil)
            let expected = "{" + numbers.map { "\"\($0)\": \(isPrimeMillerRabin($0))" }.joined(separator: ", ") + "}"
            #expect(response.status == .ok)
            #expect(response.bodyText == expected)
        }
    }

    @Test("?method=miller-rabin answers the same as trial division, inline")
    func millerRabinRoute() async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration())
        try await app.test(.router) { client in
            let path = "/is_prime/112272535095293,112272535095291,18446744073709551557,18446744073709551615"
            let fast = try await client.executeRequest(uri: path + "?method=miller-rabin", method: .get, headers: [:], body: nil)
            #expect(fast.status == .ok)
            #expect(fast.bodyText == #"{"112272535095293": true, "112272535095291": false, "18446744073709551557": true, "18446744073709551615": false}"#)
            let slow = try await client.executeRequest(uri: "/is_prime/112272535095293,112272535095291", method: .get, headers: [:], body: nil)
            #expect(slow.bodyText == #"{"112272535095293": true, "112272535095291": false}"#)
        }
    }

    @Test("lists cheaper than the inline limit are checked without a worker; costly ones on the pool")
    func inlineLimit() async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.inlineDivisions = 10_000 })
        try await app.test(.router) { client in
            let tiny = try await client.executeRequest(uri: "/is_prime/1,2,3,97", method: .get, headers: [:], body: nil)
            #expect(tiny.bodyText == #"{"1": false, "2": true, "3": true, "97": true}"#)
            var metrics = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil).bodyText
            #expect(ServiceTestSupport.sample(metrics, "spindle_pool_tasks_completed_total") == 0)

            let costly = try await client.executeRequest(uri: "/is_prime/1000000007", method: .get, headers: [:], body: nil)
            #expect(costly.bodyText == #"{"1000000007": true}"#)
            metrics = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil).bodyText
            #expect(ServiceTestSupport.sample(metrics, "spindle_pool_tasks_completed_total") == 1)
        }
    }

    /// A bad request, the words its error must contain, and the item it must name.
    struct BadInput: Sendable, CustomTestStringConvertible {
        var path: String
        var message: String
        var item: String?
        var testDescription: String { path }
    }

    static let badInputs: [BadInput] = [
        BadInput(path: "/is_prime", message: "no numbers given", item: ""),
        BadInput(path: "/is_prime/1,,2", message: "item 2 is empty", item: ""),
        BadInput(path: "/is_prime/3,", message: "item 2 is empty", item: ""),
        BadInput(path: "/is_prime/12a", message: "item 1 is not a whole number", item: "12a"),
        BadInput(path: "/is_prime/2,%207", message: "item 2 is not a whole number", item: " 7"),
        BadInput(path: "/is_prime/+7", message: "not a whole number", item: "+7"),
        BadInput(path: "/is_prime/5,-5", message: "item 2 is negative", item: "-5"),
        BadInput(path: "/is_prime/18446744073709551616", message: "larger than 18446744073709551615", item: "18446744073709551616"),
        BadInput(path: "/is_prime/1,2,3,4,5,6", message: "too many numbers: at most 5", item: "6"),
        BadInput(path: "/is_prime/7?method=fermat", message: "unknown method", item: "fermat"),
        BadInput(path: "/?pool=processes", message: "unknown pool", item: "processes"),
    ]

    @Test("bad input gets 400 with a JSON error naming the item", arguments: badInputs)
    func badInput(_ bad: BadInput) async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.maxNumbers = 5 })
        try await app.test(.router) { client in
            let response = try await client.executeRequest(uri: bad.path, method: .get, headers: [:], body: nil)
            #expect(response.status == .badRequest)
            #expect(response.headers[.contentType] == "application/json")
            let error = try #require(response.bodyJSON["error"] as? String, "body: \(response.bodyText)")
            #expect(error.contains(bad.message), "error: \(error)")
            #expect(response.bodyJSON["item"] as? String == bad.item, "body: \(response.bodyText)")
        }
    }

    @Test("an unknown path gets a JSON 404 naming it")
    func unknownRoute() async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.cpuPool = .threads })
        try await app.test(.router) { client in
            let response = try await client.executeRequest(uri: "/is_prim/7", method: .get, headers: [:], body: nil)
            #expect(response.status == .notFound)
            #expect(response.bodyJSON["item"] as? String == "/is_prim/7")
            #expect((response.bodyJSON["error"] as? String)?.contains("/is_prime/{numbers}") == true, "\(response.bodyText)")
        }
    }

    @Test("GET /health answers ok")
    func health() async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.cpuPool = .threads })
        try await app.test(.router) { client in
            let response = try await client.executeRequest(uri: "/health", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(response.bodyText == #"{"status":"ok"}"#)
        }
    }

    @Test("GET /metrics counts requests by route and status, and shows the pool")
    func metricsAfterRequests() async throws {
        let app = try buildApplication(configuration: ServiceTestSupport.configuration { $0.cpuWorkers = 2 })
        try await app.test(.router) { client in
            for _ in 0..<3 { _ = try await client.executeRequest(uri: "/is_prime/2,3", method: .get, headers: [:], body: nil) }
            _ = try await client.executeRequest(uri: "/is_prime/x", method: .get, headers: [:], body: nil)
            _ = try await client.executeRequest(uri: "/", method: .get, headers: [:], body: nil)
            let response = try await client.executeRequest(uri: "/metrics", method: .get, headers: [:], body: nil)
            #expect(response.status == .ok)
            #expect(response.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = response.bodyText
            #expect(ServiceTestSupport.sample(text, "spindle_http_requests_total", labels: #"route="/is_prime/{numbers}",status="200""#) == 3)
            #expect(ServiceTestSupport.sample(text, "spindle_http_requests_total", labels: #"route="/is_prime/{numbers}",status="400""#) == 1)
            #expect(ServiceTestSupport.sample(text, "spindle_http_requests_total", labels: #"route="/",status="200""#) == 1)
            #expect(text.contains(#"spindle_http_request_duration_seconds_bucket{route="/","#))
            #expect(ServiceTestSupport.sample(text, "spindle_pool_live_workers") == 2)
            #expect(ServiceTestSupport.sample(text, "spindle_pool_tasks_completed_total") == 3)
            #expect(ServiceTestSupport.sample(text, "spindle_pool_queued_tasks") == 0)
        }
    }

    @Test(
        "a configuration out of range is refused, naming the field",
        arguments: ["port", "cpu-workers", "max-numbers", "queue-capacity", "inline-divisions", "deadline", "db-wait", "worker executable"]
    )
    func invalidConfiguration(field: String) throws {
        var configuration = try ServiceConfiguration(port: 0, workerExecutable: ServiceTestSupport.workerExecutable())
        switch field {
        case "port": configuration.port = 70_000
        case "cpu-workers": configuration.cpuWorkers = 0
        case "max-numbers": configuration.maxNumbers = 0
        case "queue-capacity": configuration.queueCapacity = 0
        case "inline-divisions": configuration.inlineDivisions = 2_000_000
        case "deadline": configuration.deadline = .zero
        case "db-wait": configuration.dbWait = .milliseconds(-1)
        default: configuration.workerExecutable = "/nonexistent/spindle"
        }
        let error = #expect(throws: ServiceConfigurationError.self) { try buildApplication(configuration: configuration) }
        #expect(error?.description.contains(field) == true, "\(String(describing: error))")
    }
}
