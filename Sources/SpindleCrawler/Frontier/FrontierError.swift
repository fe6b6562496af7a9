/// A ``Frontier`` refused a call or could not read or write its state.
public struct FrontierError: Error, CustomStringConvertible, Sendable {
    /// What kind of failure.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// The URL reported back is not leased: unknown, or already completed, retried or failed.
        public static let notLeased = Code("not leased")
        /// Another live crawl holds the state file.
        public static let stateInUse = Code("state in use")
        /// The state file is not a Spindle crawl state, or comes from a newer Spindle.
        public static let incompatibleState = Code("incompatible state")
        /// The database failed (disk full, permissions, corruption); the message carries its error.
        public static let storageFailed = Code("storage failed")
        /// An argument is out of range (a negative limit, for example).
        public static let invalidArgument = Code("invalid argument")
        /// The frontier was closed.
        public static let closed = Code("closed")

        /// The code's name, such as `not leased`.
        public var description: String { name }
    }

    /// What kind of failure.
    public var code: Code
    /// What happened, naming the URL, file or value involved.
    public var message: String

    /// An error of `code`.
    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    /// The message.
    public var description: String { message }

    package static func notLeased(_ url: CanonicalURL, state: FrontierURLState?) -> FrontierError {
        let what = state.map { "it is \($0.rawValue)" } ?? "it was never added"
        return FrontierError(.notLeased, "\(url) cannot be reported back: \(what), not leased")
    }

    package static func negativeLimit(_ limit: Int) -> FrontierError {
        FrontierError(.invalidArgument, "limit must be 0 or more, got \(limit)")
    }
}
