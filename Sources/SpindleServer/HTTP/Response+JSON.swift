import Hummingbird
import NIOCore

extension Response {
    /// A response with `value` as its JSON body (see ``PythonJSONEncoder``) and
    /// `Content-Type: application/json`.
    static func json(
        _ value: some Encodable, separators: PythonJSONEncoder.Separators = .python, status: HTTPResponse.Status = .ok
    ) throws -> Response {
        Response(
            status: status,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: try PythonJSONEncoder(separators: separators).encode(value)))
        )
    }
}
