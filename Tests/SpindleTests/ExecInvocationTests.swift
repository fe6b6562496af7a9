import Spindle
import Testing

@Suite("CommandTemplate and ExecInvocation")
struct ExecInvocationTests {
    @Test func placeholderIsReplacedEverywhereItAppears() throws {
        let template = try CommandTemplate(["convert", "{}", "-o", "out/{}.png", "--tag={}x{}"])
        #expect(template.hasPlaceholder)
        #expect(template.arguments(for: "cat") == ["convert", "cat", "-o", "out/cat.png", "--tag=catxcat"])
    }

    @Test func itemIsAppendedWhenThereIsNoPlaceholder() throws {
        let template = try CommandTemplate(["gzip", "-k"])
        #expect(!template.hasPlaceholder)
        #expect(template.arguments(for: "a b.txt") == ["gzip", "-k", "a b.txt"])
    }

    @Test func itemsWithSpacesStayOneArgument() throws {
        let template = try CommandTemplate(["echo", "[{}]"])
        #expect(template.arguments(for: "two words") == ["echo", "[two words]"])
    }

    @Test func emptyCommandIsRejected() {
        #expect(throws: CommandBatchError.self) { try CommandTemplate([]) }
        #expect(throws: CommandBatchError.self) { try CommandTemplate(["", "x"]) }
    }

    @Test func itemsAfterTripleColon() throws {
        let invocation = try ExecInvocation.parse(["echo", "{}", ":::", "a", "b", "c"])
        #expect(invocation.template.arguments == ["echo", "{}"])
        #expect(invocation.items == ["a", "b", "c"])
    }

    @Test func withoutTripleColonItemsComeFromStandardInput() throws {
        let invocation = try ExecInvocation.parse(["wc", "-l"])
        #expect(invocation.template.arguments == ["wc", "-l"])
        #expect(invocation.items == nil)
    }

    @Test func tripleColonMistakesNameTheProblem() {
        #expect(throws: CommandBatchError.self) { try ExecInvocation.parse([":::", "a"]) }
        #expect(throws: CommandBatchError.self) { try ExecInvocation.parse(["echo", ":::"]) }
        #expect(throws: CommandBatchError.self) { try ExecInvocation.parse(["echo", ":::", "a", ":::", "b"]) }
        do {
            _ = try ExecInvocation.parse(["echo", ":::"])
        } catch {
            #expect(error.description.contains("no item"))
        }
    }

    @Test func summaryLineCountsEachOutcome() throws {
        var summary = CommandBatchSummary()
        func result(_ termination: JobTermination, timedOut: Bool = false) -> CommandJobResult {
            CommandJobResult(
                index: 0, item: "", arguments: [], termination: termination,
                standardOutput: CapturedOutput(limit: 0), standardError: CapturedOutput(limit: 0),
                duration: .zero, timedOut: timedOut, processID: nil)
        }
        for _ in 0..<10 { summary.add(result(.exited(0))) }
        summary.add(result(.exited(3)))
        summary.add(result(.signaled(9), timedOut: true))
        #expect(summary.description == "12 jobs: 10 succeeded, 1 failed (exit 3: 1), 1 timed out")
        #expect(!summary.allSucceeded)
    }
}
