"""CPython baselines for `spindle bench executors`: the same measurements as Spindle's, on
concurrent.futures.ThreadPoolExecutor and queue.Queue. Prints one JSON object on its last line."""
import json
import queue
import statistics
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait


def noop():
    return None


def submit_wait(tasks):
    """Microseconds per task: submit `tasks` no-op tasks, then wait for all of them."""
    with ThreadPoolExecutor() as pool:
        pool.submit(noop).result()  # start-up outside the measurement
        start = time.perf_counter()
        futures = [pool.submit(noop) for _ in range(tasks)]
        wait(futures)
        elapsed = time.perf_counter() - start
    return elapsed / tasks * 1e6


def queue_throughput(items, producers, consumers, maxsize):
    """Items per second through a bounded queue.Queue."""
    q = queue.Queue(maxsize=maxsize)
    per_producer = items // producers
    sentinel = object()

    def produce():
        for i in range(per_producer):
            q.put(i)

    def consume():
        while q.get() is not sentinel:
            pass

    threads = [threading.Thread(target=consume) for _ in range(consumers)]
    for t in threads:
        t.start()
    start = time.perf_counter()
    makers = [threading.Thread(target=produce) for _ in range(producers)]
    for t in makers:
        t.start()
    for t in makers:
        t.join()
    for _ in range(consumers):
        q.put(sentinel)
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - start
    return per_producer * producers / elapsed


def main():
    tasks = int(sys.argv[1]) if len(sys.argv) > 1 else 50_000
    items = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    runs = int(sys.argv[3]) if len(sys.argv) > 3 else 3
    result = {
        "python": sys.version.split()[0],
        "thread_pool.submit_wait": statistics.median(submit_wait(tasks) for _ in range(runs)),
        "blocking_queue.1x1": statistics.median(queue_throughput(items, 1, 1, 1024) for _ in range(runs)),
        "blocking_queue.4x4": statistics.median(queue_throughput(items, 4, 4, 1024) for _ in range(runs)),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
