#!/usr/bin/env bash
# Sets up what is missing and runs every test: the whole suite, the Spindle module's tests
# again under Thread Sanitizer, and the quick tour. Exits non-zero if anything fails.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup-system.sh

echo "== build (debug) =="
swift build --build-tests

echo "== PostgreSQL for the shared-frontier tests =="
pgdir=$(mktemp -d /tmp/spindle-pg.XXXXXX)
trap 'scripts/postgres-test-cluster.sh stop "$pgdir"' EXIT
SPINDLE_TEST_POSTGRES_URL=$(scripts/postgres-test-cluster.sh start "$pgdir")
export SPINDLE_TEST_POSTGRES_URL
# The cluster's folder, so the shared-crawl tests can restart the server mid-crawl.
SPINDLE_TEST_POSTGRES_DIR=$pgdir
export SPINDLE_TEST_POSTGRES_DIR
echo "PostgreSQL at $SPINDLE_TEST_POSTGRES_URL"

echo "== swift test =="
# A bound on the whole run, so a test that hangs fails the run instead of stalling it.
timeout 1500 swift test --skip-build 2>&1 | tee .build/test.log
grep -q "Test run with .* passed" .build/test.log

echo "== Spindle module under Thread Sanitizer =="
# A separate build folder, so the sanitized build does not replace the normal one.
TSAN_OPTIONS="halt_on_error=0 exitcode=66 suppressions=$PWD/scripts/tsan-suppressions.txt" timeout 2400 swift test --sanitize=thread --scratch-path .build-tsan \
  --filter SpindleTests 2>&1 | tee .build/tsan.log
if grep -q "WARNING: ThreadSanitizer" .build/tsan.log; then
  echo "Thread Sanitizer reported a race (see above)" >&2
  exit 1
fi

echo "== spindle tour --quick =="
SPINDLE_POSTGRES_URL=$SPINDLE_TEST_POSTGRES_URL timeout 600 swift run --skip-build spindle tour --quick

echo "All tests passed."
