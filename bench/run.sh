#!/usr/bin/env bash
# Runs the cmfd benchmark suite: builds cmfd and the hello-world baseline in
# Release mode into build-bench/, then runs bench/driver.py, which generates
# the data (cached in bench/out/data/), imports it into a fresh database and
# measures every scenario with wrk. The report goes to
# bench/out/results-<date>.md.
#
# Usage: bench/run.sh [OPTIONS]
#   --scale small|reference|N  data size: small = 10,000 customers and 100,000
#                              activities (3 runs of 2 s each, under 2 minutes
#                              in total once built), reference = 1,000,000 and
#                              10,000,000 (5 runs of 10 s), N = N customers and
#                              10 activities each (3 runs of 5 s); default small
#   --runs N                   measured runs per scenario
#   --duration S               seconds per run
#   --backend sqlite|postgres  database (postgres: a throwaway cluster with fsync on)
#   --seed N                   data seed (default 1)
#   --smoke                    tiny data, 1 run of 1 s per scenario; fails unless
#                              every scenario gets only 2xx responses
#   --keep                     keep the run's database and server logs
#   --nice N                   nice value of the server and wrk; negative (root
#                              only) favours them on a machine shared with
#                              other work (default 0)
#   --no-build                 use the binaries already in the build folder
#
# Environment:
#   BENCH_BUILD_DIR  build folder (default: build-bench/ in the repository); a
#                    CI job can pass its build/ so that only the baseline is
#                    compiled on top (run.sh configures it as Release)
#
# The server is pinned to CPU 0 and wrk to CPU 1, so the machine needs at
# least 2 CPUs, and other load on it skews the figures.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BENCH_BUILD_DIR:-$root/build-bench}"

build=true
driver_args=()
for arg in "$@"; do
  case "$arg" in
    --no-build) build=false ;;
    -h|--help)
      awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"
      exit 0
      ;;
    *) driver_args+=("$arg") ;;
  esac
done

if [[ "$build" == true ]]; then
  cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DCMFD_BUILD_BENCH=ON >/dev/null
  cmake --build "$build_dir" -j2 --target cmfd cmfd_hello_baseline
fi

mkdir -p "$root/bench/out"
exec python3 "$root/bench/driver.py" --build-dir "$build_dir" "${driver_args[@]}"
