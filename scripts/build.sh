#!/usr/bin/env bash
# Configures and builds cmfd in build/ under the repository root.
#
# Usage: scripts/build.sh [ARGUMENTS FOR cmake --build...]
#   e.g. scripts/build.sh --target cmfd   builds only the server binary.
#
# Environment:
#   CMAKE_BUILD_TYPE  Release (default), Debug, RelWithDebInfo, ...
#   BUILD_DIR         the build folder (default: build/ in the repository)
#   BUILD_JOBS        parallel compile jobs (default: the number of CPUs)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="${BUILD_DIR:-$root/build}"
build_type="${CMAKE_BUILD_TYPE:-Release}"
jobs="${BUILD_JOBS:-$(nproc)}"

# Configuring again is cheap when nothing changed, and it picks up new source
# files, which CMakeLists.txt collects with globs.
cmake -S "$root" -B "$build_dir" -DCMAKE_BUILD_TYPE="$build_type"

cmake --build "$build_dir" -j"$jobs" "$@"
