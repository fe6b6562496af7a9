import Foundation
import Spindle
import SpindleTestSupport
import Testing

@Suite("CommandBatch")
struct ExecCommandBatchTests {
    /// `sh -c ITEM`: each item is a small shell program.
    private func shellBatch(_ options: CommandBatch.Options = .init()) throws -> CommandBatch {
        try CommandBatch(template: CommandTemplate(["sh", "-c", "{}"]), options: options)
    }

    @Test func itemsBecomeArgumentsAndOutputIsCaptured() async throws {
        let batch = try CommandBatch(template: CommandTemplate(["echo", "item={}"]), options: .init(maxConcurrency: 2))
        let results = try await batch.run(["a", "b", "c"])
        #expect(results.map(\.standardOutput.text) == ["item=a\n", "item=b\n", "item=c\n"])
        #expect(results.map(\.arguments) == [["echo", "item=a"], ["echo", "item=b"], ["echo", "item=c"]])
        #expect(results.allSatisfy { $0.succeeded })
    }

    @Test func resultsAreReportedAsJobsFinish() async throws {
        let directory = try ExecScratchDirectory()
        let go = directory.path("go")
        // Job 0 cannot finish before the other two have been reported: their reports create
        // the file it waits for (a real ordering, not a sleep; the loop is bounded at 10 s).
        let items = [
            "i=0; while [ ! -e \(go) ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; echo first",
            "echo second",
            "echo third",
        ]
        let batch = try shellBatch(.init(maxConcurrency: 3))
        var reported: [Int] = []
        let summary = try await batch.run(ExecItems(items)) { result in
            reported.append(result.index)
            if reported.count == 2 { _ = FileManager.default.createFile(atPath: go, contents: nil) }
        }
        #expect(summary.total == 3 && summary.allSucceeded)
        #expect(reported.count == 3)
        #expect(reported.last == 0)
    }

    @Test func keepOrderReportsInInputOrderEvenWhenTheFirstJobFinishesLast() async throws {
        let directory = try ExecScratchDirectory()
        let go = directory.path("go")
        // Job 0 waits for job 2 to create `go`, so it finishes after job 2 has.
        let items = [
            "i=0; while [ ! -e \(go) ] && [ $i -lt 1000 ]; do sleep 0.01; i=$((i+1)); done; echo first",
            "echo second",
            "echo third; touch \(go)",
        ]
        let batch = try shellBatch(.init(maxConcurrency: 3, keepOrder: true))
        var reported: [String] = []
        let summary = try await batch.run(ExecItems(items)) { reported.append($0.standardOutput.text) }
        #expect(summary.total == 3 && summary.allSucceeded)
        #expect(reported == ["first\n", "second\n", "third\n"])
    }

    @Test func commandsAreFoundOnPATHAndSeeTheirNameAsTyped() async throws {
        // `sh` is looked up once on PATH; the child still gets `sh` as argv[0], not the path.
        let batch = try CommandBatch(template: CommandTemplate(["sh", "-c", "echo $0 {}"]))
        let results = try await batch.run(["x", "y"])
        #expect(results.map(\.standardOutput.text) == ["sh x\n", "sh y\n"])
    }

    @Test func jobsInheritThisProcessEnvironment() async throws {
        // `env -0` prints the environment the job got, NUL-separated: the same for a command
        // looked up once (its environment read once for the whole batch) and for one that
        // varies per item (looked up per job).
        let expected = Set(ProcessInfo.processInfo.environment.map { "\($0.key)=\($0.value)" })
        // Each item, appended as `env -0 SPINDLE_ITEM=a`, is one variable more for that job.
        let prepared = try await CommandBatch(template: CommandTemplate(["env", "-0"]), options: .init(maxConcurrency: 2))
            .run(["SPINDLE_ITEM=a", "SPINDLE_ITEM=b"])
        let perItem = try await CommandBatch(template: CommandTemplate(["{}", "-0"])).run(["env"])
        #expect(!expected.isEmpty)
        let extras: [Set<String>] = [["SPINDLE_ITEM=a"], ["SPINDLE_ITEM=b"], []]
        for (result, extra) in zip(prepared + perItem, extras) {
            #expect(result.succeeded)
            let printed = Set(result.standardOutput.text.split(separator: "\0").map(String.init))
            #expect(printed == expected.union(extra))
        }
    }

    @Test func keepOrderHoldsABoundedNumberOfResults() async throws {
        let directory = try ExecScratchDirectory()
        let go = directory.path("go")
        let log = directory.path("started")
        // Job 0 blocks until the test lets it go; with -j 2 and keep-order, no job more than
        // 2 × 2 positions ahead of job 0 may start meanwhile, however fast the others are.
        let blocker = "i=0; while [ ! -e \(go) ] && [ $i -lt 2000 ]; do sleep 0.01; i=$((i+1)); done"
        let items = [blocker] + (1..<12).map { "echo \($0) >> \(log)" }
        let batch = try shellBatch(.init(maxConcurrency: 2, keepOrder: true))
        let work = Task { try await batch.run(items) }
        // Jobs 1, 2 and 3 can run while job 0 blocks: wait for them, then check nothing more started.
        let threeStarted = await waitUntil(seconds: 20) {
            ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count >= 3
        }
        #expect(threeStarted)
        let startedWhileBlocked = ((try? String(contentsOfFile: log, encoding: .utf8)) ?? "").split(separator: "\n").count
        _ = FileManager.default.createFile(atPath: go, contents: nil)
        let results = try await work.value
        #expect(startedWhileBlocked == 3, "jobs 1–3 fit in the window of 4 from job 0; job 4 must wait")
        #expect(results.map(\.index) == Array(0..<12))
        #expect(results.allSatisfy { $0.succeeded })
    }

    @Test func eachJobsOutputStaysTogether() async throws {
        let items = (1...4).map { job in
            "for line in 1 2 3; do echo job\(job)-line$line; sleep 0.02; done; echo job\(job)-err >&2"
        }
        let results = try await shellBatch(.init(maxConcurrency: 4)).run(items)
        for (job, result) in zip(1..., results) {
            #expect(result.standardOutput.text == "job\(job)-line1\njob\(job)-line2\njob\(job)-line3\n")
            #expect(result.standardError.text == "job\(job)-err\n")
        }
    }

    @Test func failingJobsAreCountedByExitStatus() async throws {
        let batch = try shellBatch(.init(maxConcurrency: 2))
        let summary = try await batch.run(ExecItems(["exit 0", "exit 3", "exit 0", "kill -9 $$"])) { _ in }
        #expect(!summary.allSucceeded)
        #expect(summary.description == "4 jobs: 2 succeeded, 2 failed (exit 3: 1, signal 9: 1), 0 timed out")
    }

    @Test func standardInputReachesEveryJob() async throws {
        let input = Array("hello, spindle\n".utf8)
        let upper = try CommandBatch(
            template: CommandTemplate(["sh", "-c", "tr a-z A-Z; echo {}"]), options: .init(standardInput: input))
        let results = try await upper.run(["one", "two"])
        #expect(results.map(\.standardOutput.text) == ["HELLO, SPINDLE\none\n", "HELLO, SPINDLE\ntwo\n"])
    }

    @Test("a job given no input, or an empty one, reads the end of its input at once",
          arguments: [nil, []] as [[UInt8]?])
    func noInputIsAnEmptyInput(input: [UInt8]?) async throws {
        // `wc -c` reads to the end of its input: it would wait forever on an input left open.
        let batch = try CommandBatch(
            template: CommandTemplate(["sh", "-c", "wc -c; : {}"]),
            options: .init(timeout: .seconds(60), standardInput: input))
        let results = try await batch.run(["a", "b"])
        #expect(results.map(\.standardOutput.text) == ["0\n", "0\n"])
        #expect(results.allSatisfy { $0.succeeded && !$0.timedOut })
    }

    @Test func largeInputAndOutputFlowAtTheSameTime() async throws {
        // 1 MiB through `cat`: more than a pipe holds, so writing and reading must overlap.
        let input = [UInt8]((0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 % 251) })
        let batch = try CommandBatch(
            template: CommandTemplate(["sh", "-c", "cat; : {}"]), options: .init(outputLimit: 2 << 20, standardInput: input))
        let result = try #require(try await batch.run(["x"]).first)
        #expect(result.succeeded)
        #expect(result.standardOutput.bytes == input)
    }

    @Test func timeoutKillsAJobThatIgnoresSIGTERMAndItsChildren() async throws {
        // The shell ignores SIGTERM, and so does its child (ignored signals are inherited).
        // The scenario needs the trap set before the timeout: on a machine so busy that the
        // shell has not even printed its child's PID by then, try again with a longer timeout.
        for timeout in [0.3, 1, 3, 9] {
            let batch = try shellBatch(.init(timeout: .seconds(timeout), terminationGracePeriod: .milliseconds(300)))
            let result = try #require(try await batch.run(["trap '' TERM; sleep 30 & echo $!; wait; echo unreachable"]).first)
            #expect(result.timedOut)
            guard let sleepPID = Int32(result.standardOutput.text.trimmingCharacters(in: .whitespacesAndNewlines)) else {
                continue
            }
            #expect(result.termination == .signaled(SIGKILL), "SIGTERM was ignored: SIGKILL ended it")
            #expect(!result.standardOutput.text.contains("unreachable"))
            let shellPID = try #require(result.processID)
            #expect(await ExecProcessTable.waitUntilGone(shellPID), "the job's own process is gone")
            #expect(await ExecProcessTable.waitUntilGone(sleepPID), "its child, in its process group, is gone too")
            var summary = CommandBatchSummary()
            summary.add(result)
            #expect(summary.description == "1 job: 0 succeeded, 0 failed, 1 timed out")
            return
        }
        Issue.record("the shell never got to set its trap, even with a 9 s timeout")
    }

    @Test func jobsThatFinishInTimeAreNotTimedOut() async throws {
        let results = try await shellBatch(.init(timeout: .seconds(20))).run(["echo quick"])
        #expect(results.first?.timedOut == false)
        #expect(results.first?.succeeded == true)
    }

    @Test func cancellingTheBatchTerminatesRunningJobsAndStartsNoMore() async throws {
        let directory = try ExecScratchDirectory()
        let batch = try CommandBatch(
            template: CommandTemplate(["sh", "-c", "touch \(directory.path("started")).$1; sleep 30", "sh", "{}"]),
            options: .init(maxConcurrency: 2, terminationGracePeriod: .seconds(1)))
        let work = Task {
            var reported: [CommandJobResult] = []
            let summary = try await batch.run(ExecItems(["1", "2", "3", "4"])) { reported.append($0) }
            return (summary, reported)
        }
        let bothStarted = await waitUntil(seconds: 20) {
            FileManager.default.fileExists(atPath: directory.path("started.1"))
                && FileManager.default.fileExists(atPath: directory.path("started.2"))
        }
        #expect(bothStarted)
        work.cancel()
        let (summary, reported) = try await work.value
        #expect(reported.map(\.item).sorted() == ["1", "2"], "jobs 3 and 4 never started")
        for result in reported {
            #expect(result.termination == .signaled(SIGTERM))
        }
        #expect(summary.total == 2 && summary.succeeded == 0)
        #expect(!FileManager.default.fileExists(atPath: directory.path("started.3")))
    }

    @Test func noZombiesAreLeftBehind() async throws {
        let items = ["true", "exit 4", "sleep 0.05", "kill -9 $$", "echo out; echo err >&2"]
        let results = try await shellBatch(.init(maxConcurrency: 3)).run(items)
        let pids = results.compactMap(\.processID)
        #expect(pids.count == items.count)
        let zombies = ExecProcessTable.zombieChildren(of: getpid()).filter(pids.contains)
        #expect(zombies.isEmpty, "every job was reaped before its result was reported")
    }

    @Test func outputIsCutAtTheLimitWithANote() async throws {
        let batch = try shellBatch(.init(outputLimit: 1000))
        let result = try #require(try await batch.run(["head -c 100000 /dev/zero | tr '\\0' a; echo done >&2"]).first)
        #expect(result.succeeded, "the child wrote everything: the rest was drained, not left blocking it")
        #expect(result.standardOutput.bytes.count == 1000)
        #expect(result.standardOutput.totalByteCount == 100_000)
        #expect(result.standardOutput.isTruncated)
        #expect(result.standardOutput.text.hasSuffix("\n[output truncated after 1000 bytes]\n"))
        #expect(result.standardError.text == "done\n")
    }

    @Test func aMissingCommandIsAFailedJobNotACrash() async throws {
        let batch = try CommandBatch(template: CommandTemplate(["spindle-no-such-command-\(getpid())", "{}"]))
        var results: [CommandJobResult] = []
        let summary = try await batch.run(ExecItems(["a", "b"])) { results.append($0) }
        #expect(results.count == 2)
        for result in results {
            guard case .failedToStart(let reason) = result.termination else {
                Issue.record("expected a start failure, got \(result.termination)")
                continue
            }
            #expect(reason.contains("not found"))
            #expect(result.processID == nil)
        }
        #expect(summary.description == "2 jobs: 0 succeeded, 2 failed (not started: 2), 0 timed out")

        let missingPath = try CommandBatch(template: CommandTemplate(["/nonexistent/tool"]))
        let result = try #require(try await missingPath.run(["x"]).first)
        #expect(!result.succeeded)
    }

    @Test func neverMoreJobsAtOnceThanTheLimit() async throws {
        let directory = try ExecScratchDirectory()
        let log = directory.path("log")
        let items = (0..<8).map { _ in "echo start >> \(log); sleep 0.05; echo end >> \(log)" }
        _ = try await shellBatch(.init(maxConcurrency: 2)).run(items)
        var running = 0
        var most = 0
        for line in try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n") {
            running += line == "start" ? 1 : -1
            most = max(most, running)
        }
        #expect(running == 0)
        #expect(most <= 2)
    }

    @Test func aHugeConcurrencyWithKeepOrderRuns() async throws {
        // The window of started jobs, 2 × the concurrency, must saturate, not overflow.
        let batch = try CommandBatch(template: CommandTemplate(["echo", "{}"]), options: .init(maxConcurrency: .max, keepOrder: true))
        let results = try await batch.run(["a", "b"])
        #expect(results.map(\.standardOutput.text) == ["a\n", "b\n"])
    }

    @Test func badOptionsNameTheProblem() throws {
        let template = try CommandTemplate(["true"])
        #expect(throws: CommandBatchError.self) { try CommandBatch(template: template, options: .init(maxConcurrency: 0)) }
        #expect(throws: CommandBatchError.self) { try CommandBatch(template: template, options: .init(timeout: .zero)) }
        #expect(throws: CommandBatchError.self) { try CommandBatch(template: template, options: .init(outputLimit: -1)) }
        do {
            _ = try CommandBatch(template: template, options: .init(maxConcurrency: 0))
        } catch {
            #expect(error.description.contains("at least 1"))
        }
    }
}

/// An array as an `AsyncSequence`.
struct ExecItems: AsyncSequence, Sendable {
    typealias Element = String
    let items: [String]
    init(_ items: [String]) { self.items = items }
    struct AsyncIterator: AsyncIteratorProtocol {
        var base: IndexingIterator<[String]>
        mutating func next() async -> String? { base.next() }
    }
    func makeAsyncIterator() -> AsyncIterator { AsyncIterator(base: items.makeIterator()) }
}

/// A directory removed when the value is released.
final class ExecScratchDirectory {
    let url: URL
    init() throws {
        url = FileManager.default.temporaryDirectory.appendingPathComponent("spindle-exec-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }
    func path(_ name: String) -> String { url.appendingPathComponent(name).path }
    deinit { try? FileManager.default.removeItem(at: url) }
}

/// Reads `/proc` to tell whether processes are running and whose zombies they are.
enum ExecProcessTable {
    /// `(state, parent PID)` of a process, or `nil` when it does not exist.
    static func status(of pid: Int32) -> (state: Character, parent: Int32)? {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
            let close = stat.lastIndex(of: ")")
        else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        guard fields.count > 2, let state = fields[0].first, let parent = Int32(fields[1]) else { return nil }
        return (state, parent)
    }

    /// Whether the process has ended: gone, or a zombie (dead, waiting for its parent).
    static func isGone(_ pid: Int32) -> Bool {
        guard let status = status(of: pid) else { return true }
        return status.state == "Z" || status.state == "X"
    }

    /// Waits, at most `seconds`, for the process to end (SIGKILL is delivered asynchronously).
    static func waitUntilGone(_ pid: Int32, seconds: Double = 5) async -> Bool {
        await waitUntil(seconds: seconds) { isGone(pid) }
    }

    /// Zombie processes whose parent is `parent`.
    static func zombieChildren(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap(Int32.init).filter { pid in
            guard let status = status(of: pid) else { return false }
            return status.state == "Z" && status.parent == parent
        }
    }
}
