import Foundation
import Spindle

extension TourSections {
    /// The course's `subprocess` lesson: start other programs, write to their standard input,
    /// read their output. Spindle's `CommandBatch` (behind `spindle exec`) runs many at once.
    static let subprocesses = TourSection(title: "subprocesses") { tour in
        tour.say("""
            The course started other programs with Python's subprocess module (a music player, an \
            unzip tool) and talked to them through their standard input and output, one program \
            at a time. `spindle exec` runs a command per item with at most N at once on \
            swift-subprocess, keeps each job's output together, kills a job and its children at \
            its timeout, and reaps every child.
            """)

        // 1. Eight sleeps, four at a time: wall time is two sleeps, not eight.
        let pause = tour.quick ? 0.1 : 0.2
        let sleeps = try CommandBatch(
            template: CommandTemplate(["sleep", "{}"]), options: .init(maxConcurrency: 4))
        let (results, elapsed) = try await tour.time { try await sleeps.run(Array(repeating: String(pause), count: 8)) }
        guard results.allSatisfy({ $0.succeeded }) else {
            throw TourCheckFailed("a sleep failed: \(results.map(\.termination))")
        }
        let oneAfterAnother = results.reduce(Duration.zero) { $0 + $1.duration }
        let speedup = oneAfterAnother.seconds / elapsed.seconds
        tour.line("8 × `sleep \(pause)` with -j 4: \(tour.format(elapsed)) (one after another: \(tour.format(oneAfterAnother)), \(String(format: "%.1f", speedup))× faster)")
        guard elapsed.seconds < oneAfterAnother.seconds * 0.75 else {
            throw TourCheckFailed("the sleeps did not overlap: \(tour.format(elapsed)) for \(tour.format(oneAfterAnother)) of sleeping")
        }
        tour.record("exec.speedup", speedup)

        // 2. Talking to a child: its standard input in, its standard output back.
        let text = "the course wrote to a child's stdin and read its stdout"
        let upper = try CommandBatch(
            template: CommandTemplate(["sh", "-c", "tr a-z A-Z; : {}"]), options: .init(standardInput: Array(text.utf8)))
        let reply = try await upper.run(["-"])[0].standardOutput.text
        tour.line("`tr a-z A-Z` was given \"\(text)\" and answered \"\(reply)\"")
        guard reply == text.uppercased() else { throw TourCheckFailed("tr answered \(reply.debugDescription)") }

        // 3. A job that ignores SIGTERM, and its child: both gone at timeout + grace period.
        let stubborn = try CommandBatch(
            template: CommandTemplate(["sh", "-c", "trap '' TERM; sleep 30 & wait; : {}"]),
            options: .init(timeout: .milliseconds(300), terminationGracePeriod: .milliseconds(300)))
        let killed = try await stubborn.run(["-"])[0]
        // On a very busy machine the shell may get SIGTERM before it has set its trap.
        let how = killed.termination == .signaled(SIGKILL)
            ? "SIGTERM ignored, then SIGKILL to its process group" : "SIGTERM arrived before the trap was set"
        tour.line("`sh -c \"trap '' TERM; sleep 30 & wait\"` with a 300 ms timeout: \(killed.termination) after \(tour.format(killed.duration)) (\(how))")
        guard killed.timedOut, case .signaled = killed.termination else {
            throw TourCheckFailed("the stubborn job was not killed at its timeout: \(killed.termination)")
        }
        tour.say("""
            The same from the command line: `spindle exec -j 4 --timeout 30s -- gzip -k {} ::: *.log`, \
            or items on standard input, one a line.
            """)
    }
}
