"""CPython baselines for `spindle bench process-pool`: ProcessPoolExecutor round trip per tiny
task, per item with chunksize 100, and worker start-up. Prints one JSON object on its last line."""
import json
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, wait


def noop(x):
    return x


def round_trip(tasks):
    with ProcessPoolExecutor() as pool:
        list(pool.map(noop, range(100)))  # workers up before the measurement
        start = time.perf_counter()
        futures = [pool.submit(noop, i) for i in range(tasks)]
        wait(futures)
        return (time.perf_counter() - start) / tasks * 1e6


def chunked(items):
    with ProcessPoolExecutor() as pool:
        list(pool.map(noop, range(100)))
        start = time.perf_counter()
        list(pool.map(noop, range(items), chunksize=100))
        return (time.perf_counter() - start) / items * 1e6


def startup():
    start = time.perf_counter()
    with ProcessPoolExecutor(max_workers=1) as pool:
        pool.submit(noop, 1).result()
        elapsed = time.perf_counter() - start
    return elapsed * 1e3


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    items = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    print(json.dumps({
        "python": sys.version.split()[0],
        "process_pool.round_trip": statistics.median(round_trip(tasks) for _ in range(runs)),
        "process_pool.chunked": statistics.median(chunked(items) for _ in range(runs)),
        "process_pool.startup": statistics.median(startup() for _ in range(runs)),
    }))


if __name__ == "__main__":
    main()
