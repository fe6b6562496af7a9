#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Runs one command per input item, at most N at once, the Swift counterpart of GNU parallel and
/// `xargs -P`: the course's `subprocess` lesson (start programs, talk to their input and output)
/// made into a tool.
///
/// Each job runs on swift-subprocess in a process group of its own. Its standard output and
/// standard error are captured up to ``Options/outputLimit`` each, so one job's output is handed
/// over whole (never interleaved with another's) in its ``CommandJobResult``. A job past its
/// timeout gets SIGTERM, then SIGKILL after the grace period, sent to its whole group so its own
/// children go too. Every child is reaped before its result is reported. Should the process
/// running the batch die without reaping them (even by SIGKILL), a guardian process started
/// with the batch kills the running jobs' groups (see `JobGroupGuardian`). Items and arguments
/// are bytes, UTF-8 or not; jobs start with no blocked signal and default signal actions.
///
/// ```swift
/// let batch = try CommandBatch(template: CommandTemplate(["gzip", "-k", "{}"]),
///                              options: .init(maxConcurrency: 4, timeout: .seconds(30)))
/// let summary = try await batch.run(files.async) { result in print(result.standardOutput.text) }
/// ```
public struct CommandBatch: Sendable {
    /// How a batch runs its jobs.
    public struct Options: Sendable, Hashable {
        /// Jobs running at once (at least 1).
        public var maxConcurrency: Int
        /// How long a job may run before it is terminated; `nil` for no limit.
        public var timeout: Duration?
        /// Between SIGTERM and SIGKILL, for a job past its timeout or cancelled.
        public var terminationGracePeriod: Duration
        /// Bytes kept of each job's standard output, and of its standard error (0 keeps none).
        public var outputLimit: Int
        /// Written to every job's standard input, which is then closed; `nil` gives each job
        /// an empty standard input.
        public var standardInput: [UInt8]?
        /// Report results in input order, holding early finishers until their turn.
        public var keepOrder: Bool

        /// Creates options; the defaults run one job per core with no timeout and keep 1 MiB
        /// of each output stream.
        public init(
            maxConcurrency: Int = CommandBatch.coreCount,
            timeout: Duration? = nil,
            terminationGracePeriod: Duration = .seconds(2),
            outputLimit: Int = 1 << 20,
            standardInput: [UInt8]? = nil,
            keepOrder: Bool = false
        ) {
            self.maxConcurrency = maxConcurrency
            self.timeout = timeout
            self.terminationGracePeriod = terminationGracePeriod
            self.outputLimit = outputLimit
            self.standardInput = standardInput
            self.keepOrder = keepOrder
        }
    }

    /// The command each item is turned into.
    public let template: CommandTemplate
    /// How the jobs run.
    public let options: Options

    /// Checks the options and creates a batch.
    /// - Throws: ``CommandBatchError`` naming the bad option: a concurrency below 1, a timeout
    ///   or grace period that is not positive, a negative output limit.
    public init(template: CommandTemplate, options: Options = Options()) throws(CommandBatchError) {
        guard options.maxConcurrency >= 1 else {
            throw CommandBatchError("the number of jobs at once must be at least 1, not \(options.maxConcurrency)")
        }
        if let timeout = options.timeout, timeout <= .zero {
            throw CommandBatchError("the timeout must be positive, not \(timeout)")
        }
        guard options.terminationGracePeriod > .zero else {
            throw CommandBatchError("the grace period before SIGKILL must be positive, not \(options.terminationGracePeriod)")
        }
        guard options.outputLimit >= 0 else {
            throw CommandBatchError("the output limit must be 0 or more bytes, not \(options.outputLimit)")
        }
        self.template = template
        self.options = options
        _ = Self.ignoreBrokenPipes
    }

    /// The number of online processors, the default concurrency.
    public static var coreCount: Int {
        max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
    }

    /// Runs a job for each item and hands each result to `onResult` as it finishes (or in
    /// input order with ``Options/keepOrder``), then returns the counts.
    ///
    /// Items are read from `items` only as slots free up, so a long input is never held in
    /// memory. With `keepOrder`, finished results wait for their turn, and no job is started
    /// more than `2 × maxConcurrency` positions ahead of the next result due, which bounds the
    /// results held.
    ///
    /// Cancelling the calling task starts no more jobs and terminates the running ones (SIGTERM
    /// to their process groups, SIGKILL after the grace period); their results are still
    /// reported.
    ///
    /// - Throws: Only what `items` or `onResult` throw (the batch then stops starting jobs,
    ///   and the running ones are terminated). A job that fails, times out or cannot start is
    ///   not an error: it is a result.
    public func run<Items: AsyncSequence>(
        _ items: Items,
        onResult: (CommandJobResult) async throws -> Void
    ) async throws -> CommandBatchSummary where Items.Element == String {
        try await run(items.map { Array($0.utf8) }, onResult: onResult)
    }

    /// ``run(_:onResult:)`` over items given as bytes, for instance lines of standard input
    /// that need not be UTF-8: each reaches its command exactly as it was read. An item with
    /// a NUL byte (which no argument can hold) is a job that does not start, named in its result.
    public func run<Items: AsyncSequence>(
        _ items: Items,
        onResult: (CommandJobResult) async throws -> Void
    ) async throws -> CommandBatchSummary where Items.Element == [UInt8] {
        let limit = options.maxConcurrency
        var lookahead = Int.max
        if options.keepOrder {
            // `2 × limit`, saturating for a huge limit rather than trapping.
            let (doubled, overflow) = limit.multipliedReportingOverflow(by: 2)
            lookahead = overflow ? .max : doubled
        }
        // Searching PATH and reading the environment once, not once per job, is most of what
        // separates a batch of short jobs from `xargs -P` (the command may only vary when it
        // contains `{}`).
        let guardian = JobGroupGuardian()
        let launch = PreparedLaunch(
            executablePath: template.hasPlaceholderInCommand ? nil : CommandBatch.searchPath(for: template.argumentBytes[0]),
            guardian: guardian)
        do {
            let summary = try await runJobs(items, launch: launch, lookahead: lookahead, onResult: onResult)
            await guardian.finish()
            return summary
        } catch {
            await guardian.finish()
            throw error
        }
    }

    /// Starts the jobs as slots free up and reports their results; every job has been reaped
    /// when this returns or throws.
    private func runJobs<Items: AsyncSequence>(
        _ items: Items, launch: PreparedLaunch, lookahead: Int,
        onResult: (CommandJobResult) async throws -> Void
    ) async throws -> CommandBatchSummary where Items.Element == [UInt8] {
        let limit = options.maxConcurrency
        return try await withThrowingTaskGroup(of: CommandJobResult.self) { group in
            var iterator = items.makeAsyncIterator()
            var summary = CommandBatchSummary()
            var started = 0
            var running = 0
            var exhausted = false
            var nextDue = 0
            var finishedEarly: [Int: CommandJobResult] = [:]

            while true {
                // Once cancelled (Ctrl-C in `spindle exec`), start nothing more: the running
                // jobs are being terminated and their results still come in below.
                while !exhausted, !Task.isCancelled, running < limit, started - nextDue < lookahead {
                    guard let item = try await iterator.next() else {
                        exhausted = true
                        break
                    }
                    let index = started
                    let arguments = template.arguments(for: item)
                    let options = self.options
                    group.addTask {
                        await CommandBatch.runJob(
                            index: index, item: item, arguments: arguments, launch: launch, options: options)
                    }
                    started += 1
                    running += 1
                }
                guard let result = try await group.next() else { break }
                running -= 1
                guard options.keepOrder else {
                    summary.add(result)
                    try await onResult(result)
                    continue
                }
                finishedEarly[result.index] = result
                while let due = finishedEarly.removeValue(forKey: nextDue) {
                    summary.add(due)
                    try await onResult(due)
                    nextDue += 1
                }
            }
            return summary
        }
    }

    /// Runs a job for each item and returns all results in input order.
    public func run(_ items: [String]) async throws -> [CommandJobResult] {
        try await run(items.map { Array($0.utf8) })
    }

    /// Runs a job for each item, given as bytes, and returns all results in input order.
    public func run(_ items: [[UInt8]]) async throws -> [CommandJobResult] {
        var results: [CommandJobResult] = []
        results.reserveCapacity(items.count)
        _ = try await run(AsyncItems(items)) { results.append($0) }
        return results.sorted { $0.index < $1.index }
    }

    /// Writing to a child that has closed its standard input must fail that write (EPIPE),
    /// not kill this process: SIGPIPE is ignored process-wide, as SwiftNIO also does.
    private static let ignoreBrokenPipes: Void = {
        _ = signal(SIGPIPE, SIG_IGN)
    }()
}

/// An array as an `AsyncSequence`, so the array form of `run` shares the streaming one.
struct AsyncItems: AsyncSequence, Sendable {
    typealias Element = [UInt8]
    let items: [[UInt8]]
    init(_ items: [[UInt8]]) { self.items = items }

    struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[[UInt8]]>
        mutating func next() async -> [UInt8]? { base.next() }
    }

    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: items.makeIterator()) }
}
