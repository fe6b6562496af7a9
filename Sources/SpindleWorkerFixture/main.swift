import Spindle
import SpindleTestSupport

// A ProcessPool worker for Spindle's tests: registers jobs that misbehave on purpose.
ProcessPool.runWorkerIfRequested(jobs: fixtureJobs)
print("spindle-worker-fixture: a ProcessPool worker for tests; it is started by the pool, not by hand")
