#!/usr/bin/env bash
# Starts or stops a private PostgreSQL cluster for the tests: a temporary data folder, a free
# loopback port, trust authentication, database spindle_test. Prints the server's URL on start.
#   scripts/postgres-test-cluster.sh start DIR   → prints postgres://postgres@127.0.0.1:PORT/spindle_test
#   scripts/postgres-test-cluster.sh restart DIR   (what the connection-loss test does mid-crawl)
#   scripts/postgres-test-cluster.sh stop DIR
set -euo pipefail
action=$1
dir=$2
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
[ -n "$bin" ] || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }

# initdb refuses to run as root: run the server as the postgres user when we are root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi
}

case "$action" in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -eq 0 ] && chown postgres "$dir"
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
  echo "$port" >"$dir/port"
  as_owner "$bin/initdb -D '$dir/data' -U postgres --auth=trust >'$dir/initdb.log' 2>&1"
  as_owner "$bin/pg_ctl -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null"
  as_owner "$bin/psql -h 127.0.0.1 -p $port -U postgres -qc 'create database spindle_test'" >/dev/null
  echo "postgres://postgres@127.0.0.1:$port/spindle_test?sslmode=disable"
  ;;
restart)
  # For tests of a server that goes away: down for a second (so a client busy with it meets
  # refused connections whatever it was doing at the stop), then up with the start's options.
  if [ -f "$dir/port" ]; then
    port=$(cat "$dir/port")
    as_owner "$bin/pg_ctl -D '$dir/data' -m fast -w stop >/dev/null 2>&1 </dev/null"
    sleep 1
    as_owner "$bin/pg_ctl -D '$dir/data' -l '$dir/server.log' -w -o \"-p $port -k '$dir' -c listen_addresses=127.0.0.1 -c fsync=off\" start >/dev/null 2>&1 </dev/null"
  else
    as_owner "$bin/pg_ctl -D '$dir/data' -l '$dir/server.log' -m fast -w restart >/dev/null 2>&1 </dev/null"
  fi
  ;;
stop)
  [ -d "$dir/data" ] && as_owner "$bin/pg_ctl -D '$dir/data' -m fast -w stop >/dev/null" || true
  rm -rf "$dir"
  ;;
esac
