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
public protocol ProcessJob: SendableMetatype {
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
    /// Decodes a chunk of inputs, runs the job on each and encodes the outputs (in the worker).
    /// One encoded array each way per chunk: coding costs per message, not per item.
    static func runChunk(_ payload: [UInt8], count: Int) -> WorkerResponse {
        let inputs: [Input]
        do {
            inputs = try WireCoding.decode([Input].self, from: payload)
            guard inputs.count == count else { throw MalformedFrame() }
        } catch {
            let message = "cannot decode the input of job '\(name)' as \(Input.self): \(error)"
            return WorkerResponse(
                taskID: 0, statuses: Array(repeating: JobStatus.badInput.rawValue, count: count), outputs: [],
                messages: Array(repeating: message, count: count))
        }
        var statuses: [UInt8] = []
        var outputs: [Output] = []
        var messages: [String] = []
        for input in inputs {
            do {
                outputs.append(try run(input))
                statuses.append(JobStatus.ok.rawValue)
            } catch {
                statuses.append(JobStatus.jobThrew.rawValue)
                messages.append(String(describing: error))
            }
        }
        do {
            let encoded = try WireCoding.encode(outputs)
            return WorkerResponse(taskID: 0, statuses: statuses, outputs: encoded, messages: messages)
        } catch {
            let message = "cannot encode the output of job '\(name)': \(error)"
            var thrown = messages.makeIterator()
            let allMessages = statuses.map { $0 == JobStatus.ok.rawValue ? message : (thrown.next() ?? "") }
            return WorkerResponse(
                taskID: 0, statuses: statuses.map { $0 == JobStatus.ok.rawValue ? JobStatus.badOutput.rawValue : $0 },
                outputs: [], messages: allMessages)
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
