#!/usr/bin/env bash
# Installs the Debian 12 packages that building and running cmfd needs.
#
# Usage: scripts/install-deps.sh [--test]
#   --test  also installs what the test suite and the benchmarks use:
#           the PostgreSQL 15 server, wrk, procps and Google Benchmark.
#
# Only packages that are missing are installed, so the script is quick and
# needs no root rights on a machine that already has everything. Everything
# comes from the Debian 12 archive; no other repository is added.
set -euo pipefail

with_test=false
for arg in "$@"; do
  case "$arg" in
    --test) with_test=true ;;
    -h|--help)
      sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'
      exit 0
      ;;
    *)
      echo "install-deps.sh: unknown option '$arg' (expected --test or --help)" >&2
      exit 2
      ;;
  esac
done

# Build tools and the libraries cmfd links. CMakeLists.txt looks for GoogleTest
# and Python even when only the server is built, so they are needed here too.
packages=(
  g++ make cmake pkg-config
  librestinio-dev libasio-dev libfmt-dev libhttp-parser-dev
  libsimdjson-dev rapidjson-dev libspdlog-dev libcli11-dev libtomlplusplus-dev
  libsodium-dev libsqlite3-dev libpq-dev
  libgtest-dev libgmock-dev
  python3 curl
)

# The test suite runs the black-box tests against a throwaway PostgreSQL
# cluster as well (scripts/pg-cluster.sh). The benchmarks drive the server
# with wrk and time code paths with Google Benchmark; procps provides ps and
# pgrep for watching processes.
if [[ "$with_test" == true ]]; then
  packages+=(postgresql wrk procps libbenchmark-dev)
fi

# dpkg-query prints "install ok installed" only for a fully installed
# package; a removed package that left its configuration files behind
# prints something else and counts as missing.
missing=()
for package in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null || true)"
  if [[ "$status" != "install ok installed" ]]; then
    missing+=("$package")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps.sh: all ${#packages[@]} packages are installed"
  exit 0
fi

# Installing needs root. Use sudo when it is there rather than failing, so a
# developer can run the script without remembering to prefix it.
as_root=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
  else
    echo "install-deps.sh: missing packages: ${missing[*]}" >&2
    echo "install-deps.sh: run this script as root to install them" >&2
    exit 1
  fi
fi

echo "install-deps.sh: installing ${missing[*]}"

# A fresh system has empty package lists, so update them once, and only now
# that something has to be installed.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update

# noninteractive: CI has no terminal and no stdin to answer prompts.
# --no-install-recommends: only what the build and the tests use.
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
  apt-get install -y --no-install-recommends "${missing[@]}"
