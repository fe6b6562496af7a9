#if canImport(Glibc)
import Glibc
#endif
import Spindle

/// Squares a number: a tiny well-behaved job.
public enum SquareJob: ProcessJob {
    public static let name = "fixture.square"
    public static func run(_ input: Int) throws -> Int { input * input }
}

/// Returns the worker's pid, so tests can see which process ran a task.
public enum PIDJob: ProcessJob {
    public static let name = "fixture.pid"
    public static func run(_ input: Int) throws -> Int32 { getpid() }
}

/// Kills its own worker with SIGKILL mid-task.
public enum KillSelfJob: ProcessJob {
    public static let name = "fixture.kill-self"
    public static func run(_ input: Int) throws -> Int {
        kill(getpid(), SIGKILL)
        return input
    }
}

/// Crashes its worker with `fatalError`.
public enum FatalErrorJob: ProcessJob {
    public static let name = "fixture.fatal-error"
    public static func run(_ input: String) throws -> String {
        fatalError("fixture asked to crash: \(input)")
    }
}

/// Sleeps for the given milliseconds, then returns them: a job that can outlast a timeout.
public enum SleepJob: ProcessJob {
    public static let name = "fixture.sleep"
    public static func run(_ milliseconds: Int) throws -> Int {
        usleep(UInt32(milliseconds) * 1000)
        return milliseconds
    }
}

/// Throws an error with the input in its description.
public enum ThrowingJob: ProcessJob {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    public static let name = "fixture.throwing"
    public static func run(_ input: String) throws -> String {
        throw Failure(description: "refused \(input)")
    }
}

/// Has the same input type as SquareJob but is not registered in the fixture worker.
public enum UnregisteredJob: ProcessJob {
    public static let name = "fixture.unregistered"
    public static func run(_ input: Int) throws -> Int { input }
}

/// Expects a string where callers of SquareJob send numbers: its input cannot be decoded.
public enum MistypedSquareJob: ProcessJob {
    public static let name = "fixture.square"
    public static func run(_ input: String) throws -> Int { 0 }
}

/// The jobs the fixture worker registers.
public let fixtureJobs: [any ProcessJob.Type] = [
    SquareJob.self, PIDJob.self, KillSelfJob.self, FatalErrorJob.self, SleepJob.self, ThrowingJob.self, CorruptFrameJob.self,
]

/// The inode of the pipe a worker sends its frames on, noted by the fixture worker before it
/// serves jobs (the worker moves that pipe off standard output). Written once by `main` before
/// any other thread exists; only read after.
nonisolated(unsafe) public var fixtureFramesPipeInode: UInt = 0

/// Notes which pipe carries the worker's frames: call before `runWorkerIfRequested`.
public func noteFixtureFramesPipe() {
    var info = stat()
    if fstat(1, &info) == 0 { fixtureFramesPipeInode = UInt(info.st_ino) }
}

/// Writes a frame header announcing 4 GiB to its worker's frame pipe, then waits to be killed:
/// a worker that breaks the protocol while staying alive.
public enum CorruptFrameJob: ProcessJob {
    public static let name = "fixture.corrupt-frame"
    public static func run(_ input: Int) throws -> Int {
        for fd in Int32(3)..<1024 {
            var info = stat()
            guard fstat(fd, &info) == 0, UInt(info.st_ino) == fixtureFramesPipeInode,
                  fcntl(fd, F_GETFL) & O_ACCMODE == O_WRONLY else { continue }
            let header: [UInt8] = [0xff, 0xff, 0xff, 0xff]
            _ = header.withUnsafeBytes { write(fd, $0.baseAddress!, 4) }
            sleep(60)
        }
        return input
    }
}

/// Makes the fixture worker run as a program that forgot `ProcessPool.runWorkerIfRequested`.
public let forgetWorkerCallArgument = "--forget-worker-call"
