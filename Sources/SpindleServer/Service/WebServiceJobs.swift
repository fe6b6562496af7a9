#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif
import Spindle

/// Checks numbers with the course's trial division in a ``ProcessPool`` worker: the job behind
/// `GET /is_prime/{numbers}`. One message carries a chunk of numbers and answers them in order.
public struct IsPrimeJob: ProcessJob {
    /// `spindle.is-prime`.
    public static let name = "spindle.is-prime"

    /// Answers ``isPrimeTrialDivision(_:)`` for each number, in order.
    public static func run(_ numbers: [UInt64]) throws -> [Bool] {
        numbers.map(isPrimeTrialDivision)
    }
}

/// Kills its own worker with SIGKILL: the stand-in for a worker that crashes mid-task. Only
/// `GET /debug/crash` runs it, and only with ``ServiceConfiguration/enableDebugRoutes``.
public struct CrashJob: ProcessJob {
    /// `spindle.crash`.
    public static let name = "spindle.crash"

    /// Never returns: the worker process dies.
    public static func run(_ input: Int) throws -> Bool {
        raise(SIGKILL)
        return false
    }
}

/// Holds a worker for the given number of milliseconds (at most a minute), as a slow job of a
/// known length. Only `GET /debug/sleep/{ms}` runs it, with ``ServiceConfiguration/enableDebugRoutes``.
public struct SleepJob: ProcessJob {
    /// `spindle.sleep`.
    public static let name = "spindle.sleep"

    /// Sleeps `milliseconds` (clamped to 0...60000) and returns how long it slept.
    public static func run(_ milliseconds: Int) throws -> Int {
        let clamped = max(0, min(milliseconds, 60_000))
        usleep(UInt32(clamped) * 1000)
        return clamped
    }
}

/// Holds its worker until the file it is given exists (checked every 2 ms, for at most two
/// minutes), and answers whether it appeared: a job a test releases when it chooses. Only
/// `GET /debug/hold` runs it, on a service a test started with a hold.
public struct HoldJob: ProcessJob {
    /// `spindle.hold`.
    public static let name = "spindle.hold"

    /// Waits until `gateFile` exists; false if it did not within two minutes.
    public static func run(_ gateFile: String) throws -> Bool {
        for _ in 0..<60_000 {
            if access(gateFile, F_OK) == 0 { return true }
            usleep(2000)
        }
        return false
    }
}

/// The process jobs the web service submits. An executable that serves the web service with
/// process workers registers them: `ProcessPool.runWorkerIfRequested(jobs: WebServiceJobs.all + ...)`.
public enum WebServiceJobs {
    /// ``IsPrimeJob``, ``CrashJob``, ``SleepJob`` and ``HoldJob``.
    public static var all: [any ProcessJob.Type] { [IsPrimeJob.self, CrashJob.self, SleepJob.self, HoldJob.self] }
}
