import Hummingbird

extension Router {
    /// The methods a read-only route answers: GET, and HEAD generated from it by the router's
    /// `.autoGenerateHeadEndpoints` option.
    static var readOnlyAllow: String { "GET, HEAD" }

    /// Methods answered 405 on a read-only route (rather than 404, which would say the path
    /// does not exist).
    static var refusedMethods: [HTTPRequest.Method] { [.post, .put, .delete, .patch, .options] }

    /// Registers `handler` for GET (the router must have `.autoGenerateHeadEndpoints` for HEAD)
    /// and answers the other common methods on `path` with 405, `Allow: GET, HEAD` and a JSON body.
    @discardableResult
    func getAndHead(
        _ path: RouterPath, use handler: @Sendable @escaping (Request, Context) async throws -> some ResponseGenerator
    ) -> Self {
        get(path, use: handler)
        for method in Self.refusedMethods {
            on(path, method: method) { request, _ -> Response in
                throw MethodNotAllowedError(method: request.method, path: request.uri.path, allow: Self.readOnlyAllow)
            }
        }
        return self
    }
}

/// 405 with `Allow` and a JSON body naming the method and the allowed ones.
struct MethodNotAllowedError: HTTPResponseError {
    var method: HTTPRequest.Method
    var path: String
    var allow: String

    var status: HTTPResponse.Status { .methodNotAllowed }

    /// `{"error": "…", "allow": "GET, HEAD"}`.
    private struct Body: Encodable {
        var error: String
        var allow: String
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try Response.json(
            Body(error: "\(method.rawValue) is not allowed on \(path): use \(allow)", allow: allow), status: .methodNotAllowed)
        response.headers[.allow] = allow
        return response
    }
}
