import Hummingbird
import Spindle

/// A request the service answers with an error status and a JSON body naming the problem:
/// `{"error": "item 2 is empty ...", "item": ""}`. Thrown by route handlers; Hummingbird turns
/// it into the response.
struct ServiceRequestError: HTTPResponseError, CustomStringConvertible {
    /// The status answered.
    var status: HTTPResponse.Status
    /// A sentence for the client.
    var message: String
    /// The offending part of the request, quoted back, for 400s about one item.
    var item: String?
    /// Seconds the client should wait before retrying (503s).
    var retryAfterSeconds: Int?

    var description: String { "\(status.code) \(message)" }

    /// 400: the request itself is wrong.
    static func badRequest(_ message: String, item: String?) -> ServiceRequestError {
        ServiceRequestError(status: .badRequest, message: message, item: item)
    }

    /// 503 with `Retry-After: 1`: the pool's queue is full.
    static func overloaded(_ message: String) -> ServiceRequestError {
        ServiceRequestError(status: .serviceUnavailable, message: message, retryAfterSeconds: 1)
    }

    /// 504: the request ran past its deadline.
    static func deadlineExceeded(_ deadline: Duration) -> ServiceRequestError {
        ServiceRequestError(
            status: .gatewayTimeout,
            message: "the request did not finish within its deadline of \(deadline); work not yet started was cancelled"
        )
    }

    /// The answer for a failure of pool work: queue full → 503, a dead worker or a failed job
    /// → 500, a shut-down pool → 503, anything else → 500. Each names what happened.
    static func poolFailure(_ error: any Error, doing what: String) -> ServiceRequestError {
        guard let error = error as? SpindleError else {
            if let error = error as? ServiceRequestError { return error }
            return ServiceRequestError(status: .internalServerError, message: "\(what) failed: \(error)")
        }
        switch error.code {
        case .queueFull:
            return .overloaded("the server is at capacity (its work queue is full); retry in a second")
        case .shutDown:
            return ServiceRequestError(status: .serviceUnavailable, message: "the server is shutting down")
        case .workerDied:
            return ServiceRequestError(
                status: .internalServerError,
                message: "the worker process \(what) died; it has been replaced, other requests are unaffected: \(error.message)"
            )
        case .timeout:
            return ServiceRequestError(status: .gatewayTimeout, message: "\(what) ran out of time: \(error.message)")
        default:
            return ServiceRequestError(status: .internalServerError, message: "\(what) failed: \(error.message)")
        }
    }

    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = try Response.json(ServiceErrorBody(error: message, item: item), status: status)
        if let retryAfterSeconds {
            response.headers[.retryAfter] = String(retryAfterSeconds)
        }
        return response
    }
}

/// The body of the service's error answers: `{"error": "…", "item": "…"}`, `item` only when
/// one part of the request is to blame.
struct ServiceErrorBody: Encodable {
    /// A sentence for the client.
    var error: String
    /// The offending part of the request, quoted back.
    var item: String?
}
