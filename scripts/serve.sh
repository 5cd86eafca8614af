#!/usr/bin/env bash
# Sets up cmfd and serves it: installs missing packages, builds the binary,
# creates an API key on the first run, then runs the server in the foreground
# until Ctrl-C or SIGTERM.
#
# Usage: scripts/serve.sh [--config FILE] [MORE OPTIONS FOR cmfd serve...]
#   e.g. scripts/serve.sh --config examples/online-retail/cmfd.toml
#
# Environment:
#   CMFD_DATABASE  the SQLite database file (default: cmf.db in the repository)
#   CMFD_LISTEN    the address to listen on (default: 127.0.0.1:8080)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

database="${CMFD_DATABASE:-$root/cmf.db}"
listen="${CMFD_LISTEN:-127.0.0.1:8080}"

# --config goes to the apikey commands as well as to serve, because the file
# may declare settings that opening the database depends on. Every other
# argument is passed to `cmfd serve` unchanged.
config_args=()
serve_args=()
while [[ $# -gt 0 ]]; do
  case "$1" in
    --config)
      [[ $# -ge 2 ]] || { echo "serve.sh: --config needs a file" >&2; exit 2; }
      config_args=(--config "$2")
      shift 2
      ;;
    --config=*)
      config_args=(--config "${1#--config=}")
      shift
      ;;
    *)
      serve_args+=("$1")
      shift
      ;;
  esac
done

bash scripts/install-deps.sh

# Only the server binary is needed here; scripts/test.sh builds the tests.
bash scripts/build.sh --target cmfd

cmfd="$root/build/cmfd"

# A client needs a key, so make one on the first run. The list is read into a
# variable first, so that a failing `apikey list` stops the script (set -e).
key_list="$("$cmfd" apikey list --database "$database" "${config_args[@]}")"
if [[ "$key_list" == "No API keys"* ]]; then
  echo "serve.sh: creating the API key \"admin\" in $database"
  "$cmfd" apikey create admin --database "$database" "${config_args[@]}"
  echo "serve.sh: send it in the X-API-Key header; it is not shown again"
else
  echo "serve.sh: $database already has API keys:"
  echo "$key_list"
  echo "serve.sh: create another with: $cmfd apikey create NAME --database $database"
fi

echo "serve.sh: serving http://$listen/webservice/cmf/ (Ctrl-C stops the server)"
exec "$cmfd" serve --database "$database" --listen "$listen" \
  "${config_args[@]}" "${serve_args[@]}"
