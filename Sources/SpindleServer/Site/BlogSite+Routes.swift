import Hummingbird
import ServiceLifecycle

/// The site's pages: `/`, `/robots.txt`, `/sitehome/p/{n}`, `/post/{id}.html`, and with faults
/// on, everything under `/faults/`.
extension BlogSiteState {
    func makeRouter() -> Router<BasicRequestContext> {
        let router = Router(context: BasicRequestContext.self, options: .autoGenerateHeadEndpoints)
        router.add(middleware: BlogSiteMiddleware(state: self))
        router.get("/") { _, _ in
            Self.html(try self.requireFixedPages().home)
        }
        router.get("/robots.txt") { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/plain; charset=utf-8"],
                body: .init(byteBuffer: try self.requireFixedPages().robots)
            )
        }
        router.get("/sitehome/p/:page") { _, context in
            guard let number = context.parameters.get("page", as: Int.self), let page = self.listPage(number) else {
                throw HTTPError(.notFound, message: "The site has list pages 1...\(self.catalog.pages).")
            }
            return Self.html(page)
        }
        router.get("/post/{id}.html") { _, context in
            guard let id = context.parameters.get("id", as: Int.self), let page = self.postPage(id: id) else {
                throw HTTPError(.notFound, message: "No such post.")
            }
            return Self.html(page)
        }
        if configuration.faults {
            addFaultRoutes(to: router)
        }
        return router
    }

    func requireFixedPages() throws -> FixedPages {
        guard let fixedPages else {
            throw HTTPError(.serviceUnavailable, message: "The site is starting.")
        }
        return fixedPages
    }

    static func html(_ page: ByteBuffer, charset: String? = "utf-8") -> Response {
        Response(
            status: .ok,
            headers: [.contentType: charset.map { "text/html; charset=\($0)" } ?? "text/html"],
            body: .init(byteBuffer: page)
        )
    }
}

/// Counts every request in the site's log and applies the configured latency before the
/// response is produced (sleeping the request's task, so no thread waits). A graceful shutdown
/// (SIGTERM, SIGINT) cuts the latency short with 503, so the site stops at once.
struct BlogSiteMiddleware: RouterMiddleware {
    typealias Context = BasicRequestContext

    let state: BlogSiteState

    func handle(
        _ request: Request,
        context: Context,
        next: (Request, Context) async throws -> Response
    ) async throws -> Response {
        let log = state.requestLog
        log.requestStarted(path: request.uri.path, userAgent: request.headers[.userAgent])
        defer { log.requestFinished() }
        let latency = state.configuration.latency
        if latency > .zero {
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: latency) }
            if Task.isShuttingDownGracefully || Task.isCancelled {
                throw HTTPError(.serviceUnavailable, message: "The site is shutting down.")
            }
        }
        return try await next(request, context)
    }
}
