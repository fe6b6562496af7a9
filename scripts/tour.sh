#!/usr/bin/env bash
# Sets up what is missing, builds Spindle in release mode and runs `spindle tour`, with a
# private PostgreSQL server for its shared-crawl section (stopped and removed afterwards).
# Arguments are passed to the tour (for example --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup-system.sh
swift build -c release --product spindle
if [ -z "${SPINDLE_POSTGRES_URL:-}" ]; then
  pgdir=$(mktemp -d /tmp/spindle-pg.XXXXXX)
  trap 'scripts/postgres-test-cluster.sh stop "$pgdir"' EXIT
  if SPINDLE_POSTGRES_URL=$(scripts/postgres-test-cluster.sh start "$pgdir"); then
    export SPINDLE_POSTGRES_URL
  else
    echo "tour: could not start PostgreSQL; the shared-crawl section will say so" >&2
  fi
fi
.build/release/spindle tour "$@"
