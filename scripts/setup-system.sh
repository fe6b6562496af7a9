#!/usr/bin/env bash
# Installs the system packages Spindle needs where they are missing (Debian/Ubuntu, as root or
# with sudo): libxml2, mimalloc and SQLite headers to build, PostgreSQL for the shared-frontier tests,
# wrk for `spindle bench serve` and GNU parallel for `spindle bench exec`. Safe to run again: it
# installs only what is missing.
set -euo pipefail

packages=(libxml2-dev libmimalloc-dev libsqlite3-dev pkg-config)
[ "${SPINDLE_WITH_POSTGRES:-1}" = 1 ] && packages+=(postgresql)
[ "${SPINDLE_WITH_BENCH_TOOLS:-0}" = 1 ] && packages+=(wrk parallel)

missing=()
for p in "${packages[@]}"; do
  dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
echo "setup: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
