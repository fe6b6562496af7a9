#!/usr/bin/env bash
# Sets up what is missing, builds Spindle in release mode and runs `spindle tour`.
# Arguments are passed to the tour (for example --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
SPINDLE_WITH_POSTGRES=1 scripts/setup-system.sh
swift build -c release --product spindle
exec .build/release/spindle tour "$@"
