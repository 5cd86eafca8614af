#!/usr/bin/env bash
# Installs what the tests need, builds cmfd and runs the whole test suite:
# the GoogleTest unit tests and the black-box tests, which start the real
# binary and talk HTTP to it.
#
# Usage: scripts/test.sh [ARGUMENTS FOR ctest...]
#   e.g. scripts/test.sh -R blackbox   runs only the black-box tests.
#
# Environment:
#   CMFD_TEST_BACKENDS  comma-separated databases for the black-box tests:
#                       sqlite, postgres, or both (the default). When it
#                       names postgres, a throwaway cluster is started for
#                       the run.
#   CMAKE_BUILD_TYPE    passed on to scripts/build.sh (default Release)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# Packages first: on a fresh machine nothing below would configure.
bash scripts/install-deps.sh --test

# Build everything, including the unit-test binary that ctest runs.
bash scripts/build.sh

export CMFD_TEST_BACKENDS="${CMFD_TEST_BACKENDS:-sqlite,postgres}"

# ---- PostgreSQL ----
# The black-box tests reach PostgreSQL through CMFD_TEST_POSTGRES_URL. The
# cluster lives in a temporary directory and is stopped and deleted on every
# exit, including a failed test run or Ctrl-C, so nothing is left running.
pg_dir=""
stop_cluster() {
  if [[ -n "$pg_dir" ]]; then
    bash scripts/pg-cluster.sh stop "$pg_dir" || true
  fi
}
trap stop_cluster EXIT
trap 'exit 130' INT TERM

if [[ ",$CMFD_TEST_BACKENDS," == *,postgres,* ]]; then
  pg_dir="$(mktemp -d "${TMPDIR:-/tmp}/cmfd-test-pg.XXXXXX")"
  CMFD_TEST_POSTGRES_URL="$(bash scripts/pg-cluster.sh start "$pg_dir")"
  export CMFD_TEST_POSTGRES_URL
  echo "test.sh: PostgreSQL for the tests at $CMFD_TEST_POSTGRES_URL"
fi
# ---- end PostgreSQL ----

echo "test.sh: black-box tests run on: $CMFD_TEST_BACKENDS"

# Every test uses its own temporary database and a free port, so two can run
# at once. Not run under exec, so that the EXIT trap still stops the cluster.
ctest --test-dir build --output-on-failure -j2 "$@"

# The benchmark suite in smoke mode: every scenario for about a second, on
# tiny data, only to show that it still runs (no timing is checked). It
# reuses the Release build above. Skipped when arguments select some tests.
if [[ $# -eq 0 ]]; then
  BENCH_BUILD_DIR="$root/build" bash bench/run.sh --smoke
fi
