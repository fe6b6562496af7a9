"""The course's Flask service, as the course wrote it, for `spindle bench serve` to measure.

Routes:
  /              read_file (0.1 s), read_db (0.2 s) and read_api (0.3 s) submitted to a
                 ThreadPoolExecutor, the results joined (the course's "after")
  /sequential    the same three reads one after another (the course's "before")
  /is_prime/<n,n,...>  the course's is_prime mapped over a ProcessPoolExecutor

Usage: python3 flask_app.py PORT   (serves on 127.0.0.1:PORT with Flask's threaded dev server)
"""
import json
import logging
import math
import os
import signal
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import flask

app = flask.Flask(__name__)
pool = ThreadPoolExecutor()
process_pool = None  # created under __main__, as the course does
main_pid = os.getpid()


def read_file():
    time.sleep(0.1)
    return "file result"


def read_db():
    time.sleep(0.2)
    return "db result"


def read_api():
    time.sleep(0.3)
    return "api result"


@app.route("/")
def index():
    result_file = pool.submit(read_file)
    result_db = pool.submit(read_db)
    result_api = pool.submit(read_api)
    return json.dumps({
        "result_file": result_file.result(),
        "result_db": result_db.result(),
        "result_api": result_api.result(),
    })


@app.route("/sequential")
def sequential():
    result_file = read_file()
    result_db = read_db()
    result_api = read_api()
    return json.dumps({
        "result_file": result_file,
        "result_db": result_db,
        "result_api": result_api,
    })


def is_prime(n):
    if n < 2:
        return False
    if n == 2:
        return True
    if n % 2 == 0:
        return False
    sqrt_n = int(math.floor(math.sqrt(n)))
    for i in range(3, sqrt_n + 1, 2):
        if n % i == 0:
            return False
    return True


@app.route("/is_prime/<numbers>")
def api_is_prime(numbers):
    number_list = [int(x) for x in numbers.split(",")]
    results = process_pool.map(is_prime, number_list)
    return json.dumps(dict(zip(number_list, results)))


@app.route("/health")
def health():
    return json.dumps({"status": "ok"})


def die_with_parent():
    """In each pool worker: exit once the server is gone, however it ended."""
    def watch():
        while os.getppid() == main_pid:
            time.sleep(0.2)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def stop(signum, frame):
    """SIGTERM/SIGINT: end the pool's worker processes too, or they would outlive the server."""
    if os.getpid() != main_pid:  # a pool worker, which inherited this handler when forked
        os._exit(0)
    for pid in list((process_pool._processes or {}).keys()):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    os._exit(0)


if __name__ == "__main__":
    if len(sys.argv) != 2 or not sys.argv[1].isdigit():
        sys.exit("usage: flask_app.py PORT")
    # One line per request on stderr would cost the dev server time the course's runs did not
    # measure either; errors still show.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    process_pool = ProcessPoolExecutor(initializer=die_with_parent)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # A parent that started us from a thread with signals blocked passed that mask on.
    signal.pthread_sigmask(signal.SIG_UNBLOCK, [signal.SIGTERM, signal.SIGINT])
    # The bench waits for this line, then for /health to answer.
    print(f"listening on 127.0.0.1:{sys.argv[1]}", flush=True)
    app.run(host="127.0.0.1", port=int(sys.argv[1]), threaded=True)
