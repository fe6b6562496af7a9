import Foundation

/// Work a ``ProcessPool`` worker may run: registered by name, with `Codable` input and output.
///
/// A worker runs only the jobs its executable registered with
/// ``ProcessPool/runWorkerIfRequested(jobs:initializer:)``: no other code can be sent to it.
///
/// ```swift
/// struct IsPrime: ProcessJob {
///     static let name = "is-prime"
///     static func run(_ n: UInt64) throws -> Bool { ... }
/// }
/// ```
public protocol ProcessJob {
    /// What the parent sends.
    associatedtype Input: Codable & Sendable
    /// What the worker sends back.
    associatedtype Output: Codable & Sendable

    /// The name the job is registered and sent under; unique within an executable.
    static var name: String { get }

    /// Runs in the worker process. A thrown error's description is carried to the parent.
    static func run(_ input: Input) throws -> Output
}

extension ProcessJob {
    /// Decodes the input, runs the job and encodes the output (in the worker).
    static func runEncoded(_ input: [UInt8]) -> (status: JobStatus, payload: [UInt8]) {
        let value: Input
        do {
            value = try JSONDecoder().decode(Input.self, from: Data(input))
        } catch {
            return (.badInput, Array("cannot decode the input of job '\(name)' as \(Input.self): \(error)".utf8))
        }
        do {
            let output = try run(value)
            return (.ok, Array(try JSONEncoder().encode(output)))
        } catch {
            return (.jobThrew, Array(String(describing: error).utf8))
        }
    }
}

/// How a worker answered one item.
enum JobStatus: UInt8 {
    case ok = 0
    case jobThrew = 1
    case unknownJob = 2
    case badInput = 3
    case badOutput = 4
}
