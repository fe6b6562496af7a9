"""The course's gevent echo server, the baseline of `spindle bench echo`.

One greenlet per connection answers every recv(1024) with data.upper(), as in the course.
Differences, each needed for a fair measurement: the backlog is 1024, not 5 (100 clients
connecting at once would otherwise wait for SYN retries); replies use sendall() (send() may
write part of a reply); TCP_NODELAY is set on connections, as Spindle's server sets it; and
the per-message print() is left out (it would measure the terminal, not the server).

Usage: python3 gevent_echo.py [HOST] [PORT]   (PORT 0 picks a free port)
Prints `listening on HOST:PORT` once it listens; stops on SIGTERM or SIGINT.
"""
from gevent import monkey

monkey.patch_all()

import signal
import socket
import sys

import gevent


def talk(conn):
    try:
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        while True:
            data = conn.recv(1024)
            if not data:
                break
            conn.sendall(data.upper())
    except OSError:
        pass
    finally:
        conn.close()


def main():
    host = sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1"
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 0
    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.bind((host, port))
    server.listen(1024)
    gevent.signal_handler(signal.SIGTERM, sys.exit, 0)
    print(f"listening on {host}:{server.getsockname()[1]}", flush=True)
    try:
        while True:
            conn, _ = server.accept()
            gevent.spawn(talk, conn)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()


if __name__ == "__main__":
    main()
