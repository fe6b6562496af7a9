import Hummingbird
import ServiceLifecycle

/// The `/faults/...` endpoints (see ``BlogSiteFault`` for what each one does).
extension BlogSiteState {
    /// Thrown inside a streaming body to make the server drop the connection mid-response.
    struct ConnectionDropped: Error {}

    func addFaultRoutes(to router: Router<BasicRequestContext>) {
        // The router ignores a trailing slash: this serves `/faults/` too.
        router.get("/faults") { _, _ in Self.html(try self.requireFixedPages().faultIndex) }

        router.get(RouterPath(BlogSiteFault.stall.path)) { _, _ in
            Self.partialResponse(declaredLength: 16 * 1024, sentLength: 4 * 1024) { writer, rest in
                // Ends early on graceful shutdown (SIGINT) or when the site's task is cancelled,
                // so a stalled client never keeps the site from stopping.
                try await cancelWhenGracefulShutdown { try await Task.sleep(for: BlogSiteFault.stallDuration) }
                try await writer.write(rest)
                try await writer.finish(nil)
            }
        }
        router.get(RouterPath(BlogSiteFault.reset.path)) { _, _ in
            Self.partialResponse(declaredLength: 64 * 1024, sentLength: 16 * 1024) { _, _ in
                throw ConnectionDropped()
            }
        }
        router.get(RouterPath(BlogSiteFault.flakyServerError.path)) { request, _ in
            guard !self.isFirstVisit("500 \(request.uri)") else {
                return Response(status: .internalServerError, body: .init(byteBuffer: ByteBuffer(string: "Internal Server Error\n")))
            }
            return Self.html(try self.requireFixedPages().faults.plainPage(title: "Recovered after a 500"))
        }
        router.get(RouterPath(BlogSiteFault.rateLimited.path)) { request, _ in
            guard !self.isFirstVisit("429 \(request.uri)") else {
                return Response(
                    status: .tooManyRequests,
                    headers: [.retryAfter: "1", .contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "Too Many Requests: retry after 1 s\n"))
                )
            }
            return Self.html(try self.requireFixedPages().faults.plainPage(title: "Served after a 429"))
        }
        router.get("/faults/redirect-loop/a") { _, _ in
            Self.redirect(.found, to: "/faults/redirect-loop/b")
        }
        router.get("/faults/redirect-loop/b") { _, _ in
            Self.redirect(.found, to: try self.requireFixedPages().renderer.origin + "/faults/redirect-loop/a")
        }
        router.get("/faults/redirect-chain/:hop") { _, context in
            let hops = BlogSiteFault.redirectChainHops
            guard let hop = context.parameters.get("hop", as: Int.self), (1...hops).contains(hop) else {
                throw HTTPError(.notFound, message: "The chain has hops 1...\(hops).")
            }
            let statuses: [HTTPResponse.Status] = [.movedPermanently, .found, .temporaryRedirect]
            let target = hop == hops ? "/sitehome/p/1" : "/faults/redirect-chain/\(hop + 1)"
            return Self.redirect(statuses[(hop - 1) % statuses.count], to: target)
        }
        router.get(RouterPath(BlogSiteFault.hugeBody.path)) { request, _ in
            self.hugeResponse(path: request.uri.path, declaresLength: true)
        }
        router.get(RouterPath(BlogSiteFault.hugeChunkedBody.path)) { request, _ in
            self.hugeResponse(path: request.uri.path, declaresLength: false)
        }
        router.get(RouterPath(BlogSiteFault.latin1Header.path)) { _, _ in
            Self.html(try self.requireFixedPages().latin1Header, charset: "iso-8859-1")
        }
        router.get(RouterPath(BlogSiteFault.latin1Meta.path)) { _, _ in
            Self.html(try self.requireFixedPages().latin1Meta, charset: nil)
        }
        router.get(RouterPath(BlogSiteFault.malformedMarkup.path)) { _, _ in
            Self.html(try self.requireFixedPages().malformed)
        }
        router.get(RouterPath(BlogSiteFault.binary.path)) { _, _ in
            Response(status: .ok, headers: [.contentType: "image/png"], body: .init(byteBuffer: try self.requireFixedPages().png))
        }
        router.get(RouterPath(BlogSiteFault.privatePage.path)) { _, _ in
            Self.html(try self.requireFixedPages().faults.plainPage(title: "Private: robots.txt disallows this page"))
        }
        router.get(RouterPath(BlogSiteFault.gzip.path)) { _, _ in
            Response(
                status: .ok,
                headers: [.contentType: "text/html; charset=utf-8", .contentEncoding: "gzip"],
                body: .init(byteBuffer: try self.requireFixedPages().gzip)
            )
        }
    }

    private static func redirect(_ status: HTTPResponse.Status, to location: String) -> Response {
        Response(status: status, headers: [.location: location, .contentLength: "0"])
    }

    /// A 200 that declares `declaredLength` bytes of HTML, sends the first `sentLength`, then
    /// hands the writer and the unsent rest to `then`.
    private static func partialResponse(
        declaredLength: Int,
        sentLength: Int,
        then: @escaping @Sendable (inout any ResponseBodyWriter, ByteBuffer) async throws -> Void
    ) -> Response {
        var body = BlogFaultPages.fillerChunk.getSlice(at: BlogFaultPages.fillerChunk.readerIndex, length: declaredLength)!
        let sent = body.readSlice(length: sentLength)!
        let rest = body
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(contentLength: declaredLength) { writer in
                try await writer.write(sent)
                try await then(&writer, rest)
            }
        )
    }

    /// ``BlogSiteFault/hugeBodySize`` bytes of filler, one shared 64 KiB chunk at a time: the
    /// site never holds the body, and the writer's back-pressure paces it to the client.
    private func hugeResponse(path: String, declaresLength: Bool) -> Response {
        let log = requestLog
        let size = BlogSiteFault.hugeBodySize
        return Response(
            status: .ok,
            headers: [.contentType: "text/html; charset=utf-8"],
            body: ResponseBody(contentLength: declaresLength ? size : nil) { writer in
                var remaining = size
                do {
                    while remaining > 0 {
                        if Task.isShuttingDownGracefully { throw ConnectionDropped() }
                        let chunk = BlogFaultPages.fillerChunk
                        let slice = chunk.getSlice(at: chunk.readerIndex, length: min(remaining, chunk.readableBytes))!
                        try await writer.write(slice)
                        remaining -= slice.readableBytes
                        log.streamed(slice.readableBytes, path: path)
                    }
                    try await writer.finish(nil)
                    log.streamEnded(completed: true)
                } catch {
                    log.streamEnded(completed: false)
                    throw error
                }
            }
        )
    }
}
