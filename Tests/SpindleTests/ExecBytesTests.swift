import Foundation
import Spindle
import SpindleTestSupport
import Testing

/// Items and arguments that are not UTF-8, NUL bytes, the signals jobs start with, and how
/// captured output is held.
@Suite("CommandBatch: bytes, signals, output memory")
struct ExecBytesTests {
    /// `café` in Latin-1: `é` is the single byte 0xE9, not valid UTF-8.
    static let latin1Name: [UInt8] = [0x63, 0x61, 0x66, 0xE9]

    @Test func placeholderReplacementWorksOnBytes() throws {
        let template = try CommandTemplate(bytes: [Array("gzip".utf8), Array("-k".utf8), [0xFF] + Array("{}.gz".utf8)])
        #expect(template.arguments(for: Self.latin1Name) == [Array("gzip".utf8), Array("-k".utf8), [0xFF] + Self.latin1Name + Array(".gz".utf8)])
        let appended = try CommandTemplate(bytes: [Array("ls".utf8)])
        #expect(appended.arguments(for: Self.latin1Name) == [Array("ls".utf8), Self.latin1Name])
    }

    @Test func itemsAndArgumentsReachTheJobAsTheirBytes() async throws {
        let template = try CommandTemplate(bytes: [Array("printf".utf8), Array("%s|%s".utf8), [0xFF, 0x41], Array("{}".utf8)])
        let results = try await CommandBatch(template: template).run([Self.latin1Name, [0xE9]])
        #expect(results.map(\.standardOutput.bytes) == [[0xFF, 0x41, UInt8(ascii: "|")] + Self.latin1Name, [0xFF, 0x41, UInt8(ascii: "|"), 0xE9]])
        #expect(results.map(\.itemBytes) == [Self.latin1Name, [0xE9]])
        #expect(results.allSatisfy { $0.succeeded })
    }

    @Test func anItemWithANulByteIsAJobThatDoesNotStartNamingIt() async throws {
        let batch = try CommandBatch(template: CommandTemplate(["echo", "{}"]))
        let results = try await batch.run([Array("a".utf8), Array("b\0c".utf8), Array("d".utf8)])
        #expect(results.map(\.standardOutput.text) == ["a\n", "", "d\n"])
        #expect(results[1].termination == .failedToStart("the item 'b\\0c' contains a NUL byte, which no argument can hold"))
        #expect(results[1].processID == nil)
    }

    @Test func aTemplateArgumentWithANulByteIsRejected() {
        #expect(throws: CommandBatchError("the argument 'a\\0b' contains a NUL byte, which no argument can hold")) {
            try CommandTemplate(["echo", "a\0b"])
        }
    }

    @Test func messagesShowBytesThatAreNotUTF8() {
        #expect(CommandBytes.quoted(Self.latin1Name) == "'caf\\xe9'")
        #expect(CommandBytes.quoted(Array("café\n'".utf8)) == "'café\\x0a\\''")
    }

    @Test func jobsStartWithNoBlockedAndNoIgnoredSignal() async throws {
        // This process ignores SIGPIPE (CommandBatch sets it), and runs the batch from a task of
        // the cooperative pool: neither may reach the job.
        let batch = try CommandBatch(template: CommandTemplate(["grep", "-E", "{}", "/proc/self/status"]))
        let result = try #require(try await batch.run(["^Sig(Blk|Ign):"]).first)
        #expect(result.succeeded)
        let masks: [String: UInt64] = Dictionary(uniqueKeysWithValues: result.standardOutput.text.split(separator: "\n").compactMap { line in
            let parts = line.split(separator: "\t")
            return parts.count == 2 ? UInt64(parts[1], radix: 16).map { (String(parts[0]), $0) } : nil
        })
        #expect(masks["SigBlk:"] == 0, "\(result.standardOutput.text)")
        // Signals 1–31. glibc's posix_spawn leaves its own internal signals (32 and 33) ignored
        // in the child when this process handles them; programs do not use those.
        #expect(masks["SigIgn:"].map { $0 & 0x7FFF_FFFF } == 0, "\(result.standardOutput.text)")
    }

    @Test func aJobEndsOnSIGTERM() async throws {
        let directory = try ExecScratchDirectory()
        let pidFile = directory.path("pid")
        let batch = try CommandBatch(template: CommandTemplate(
            ["sh", "-c", "echo $$ > \(pidFile).tmp && mv \(pidFile).tmp \(pidFile) && exec sleep 60", "sh", "{}"]))
        let work = Task { try await batch.run(["x"]) }
        let written = await waitUntil(seconds: 30) { FileManager.default.fileExists(atPath: pidFile) }
        #expect(written)
        let pid = try #require(Int32(try String(contentsOfFile: pidFile, encoding: .utf8).trimmingCharacters(in: .whitespacesAndNewlines)))
        kill(pid, SIGTERM)
        let result = try #require(try await work.value.first)
        #expect(result.termination == .signaled(SIGTERM))
    }

    @Test func capturedOutputHoldsAtMostTheLimitInPiecesOfFinalSize() {
        let limit = 300_000
        var output = CapturedOutput(limit: limit)
        let chunk = [UInt8](repeating: 7, count: 1000)
        for _ in 0..<1000 { chunk.withUnsafeBytes { output.append(contentsOf: $0) } }
        #expect(output.totalByteCount == 1_000_000)
        #expect(output.keptByteCount == limit)
        #expect(output.bytes == [UInt8](repeating: 7, count: limit))
        #expect(output.pieces.map(\.count) == [65536, 65536, 65536, 65536, 37856])
        // Allocated at their final size (the allocator may round a little up), not doubled.
        let held = output.pieces.reduce(0) { $0 + $1.capacity }
        #expect(held <= limit + output.pieces.count * 4096, "\(held) bytes held for \(limit) kept")
        #expect(output.isTruncated && output.text.hasSuffix("\n[output truncated after 300000 bytes]\n"))
    }
}
