import Foundation
import Hummingbird

/// The service's routes:
///
/// - `GET /`: the course's three reads at once (`?pool=threads`: on a thread pool, as the
///   course wrote it); `GET /sequential`: one after another;
/// - `GET /is_prime/{numbers}`: the course's prime check on the CPU pool
///   (`?method=miller-rabin`: inline);
/// - `GET /health`, `GET /metrics`;
/// - with ``ServiceConfiguration/enableDebugRoutes``: `GET /debug/sleep/{ms}` and, with worker
///   processes, `GET /debug/crash`.
extension ServiceState {
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: ServiceMetricsMiddleware(metrics: metrics))
        router.add(middleware: UnknownRouteMiddleware())
        router.add(middleware: LogRequestsMiddleware(configuration.requestLogLevel))

        router.getAndHead("/") { request, _ in
            let design = try Self.option(
                request, "pool", default: ReadDesign.async,
                choices: [("async", .async), ("threads", .threads)])
            switch design {
            case .async: return try await self.readConcurrently()
            case .threads: return try await self.withinDeadline { try await self.readOnThreadPool() }
            }
        }
        router.getAndHead("/sequential") { _, _ in
            try await self.readSequentially()
        }
        router.getAndHead("/is_prime") { _, _ -> Response in
            throw ServiceRequestError.badRequest(
                "no numbers given: list them separated by commas, as in /is_prime/2,3,4", item: "")
        }
        router.getAndHead("/is_prime/{numbers}") { request, context in
            let raw = context.parameters.get("numbers") ?? ""
            guard let numbers = raw.removingPercentEncoding else {
                throw ServiceRequestError.badRequest("the numbers are not valid percent-encoded text", item: raw)
            }
            // The deadline is raced only around pool work (in `isPrime`): an inline check takes
            // microseconds, and a racing timer task would cost more than the check.
            return try await self.isPrime(numbers[...], method: request.uri.queryParameters.get("method"))
        }
        router.getAndHead("/health") { _, _ in
            try Response.json(["status": "ok"], separators: .compact)
        }
        router.getAndHead("/metrics") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: self.metrics.scrape()))
            )
        }
        if configuration.enableDebugRoutes {
            addDebugRoutes(to: router)
        }
        return router
    }

    private func addDebugRoutes(to router: Router<BasicRequestContext>) {
        router.getAndHead("/debug/sleep/{ms}") { _, context in
            guard let milliseconds = context.parameters.get("ms", as: Int.self), (0...60_000).contains(milliseconds) else {
                throw ServiceRequestError.badRequest(
                    "the sleep must be a whole number of milliseconds in 0...60000",
                    item: context.parameters.get("ms") ?? "")
            }
            return try await self.withinDeadline { try await self.sleepOnPool(milliseconds: milliseconds) }
        }
        if let hold {
            router.getAndHead("/debug/hold") { _, _ in
                try await self.withinDeadline { try await self.holdOnPool(gateFile: hold.gateFile) }
            }
        }
        if pools.usesProcesses {
            router.getAndHead("/debug/crash") { _, _ in
                try await self.withinDeadline { try await self.crashWorker() }
            }
        }
    }

    /// The value of query option `name` among `choices`; `fallback` when absent; 400 naming
    /// the value and the choices otherwise.
    static func option<Value>(
        _ request: Request, _ name: String, default fallback: Value, choices: [(String, Value)]
    ) throws -> Value {
        guard let text = request.uri.queryParameters.get(name) else { return fallback }
        guard let choice = choices.first(where: { $0.0 == text }) else {
            throw ServiceRequestError.badRequest(
                "unknown \(name): use \(choices.map(\.0).joined(separator: " or "))", item: text)
        }
        return choice.1
    }
}

/// Answers a request for a path the service does not have with a JSON 404 that lists the routes
/// (Hummingbird's own 404 has no body).
struct UnknownRouteMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            throw ServiceRequestError(
                status: .notFound,
                message: "no route for \(request.method) \(request.uri.path): the routes are GET /, /sequential, /is_prime/{numbers}, /health and /metrics",
                item: request.uri.path)
        }
    }
}
