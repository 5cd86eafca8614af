#!/usr/bin/env bash
# Starts and stops a throwaway PostgreSQL 15 cluster for tests and benchmarks.
#
# Usage:
#   scripts/pg-cluster.sh start DIR   creates a cluster in DIR (which must not
#                                     exist or be empty), starts it and prints
#                                     its connection URL on standard output
#   scripts/pg-cluster.sh stop DIR    stops that cluster and deletes DIR
#
# The cluster listens on 127.0.0.1 on a free port and on a Unix socket in DIR.
# It trusts every local connection and runs with fsync off, so it is only fit
# for data that may be lost. Extra server settings can be passed in
# PG_CLUSTER_OPTIONS, e.g. PG_CLUSTER_OPTIONS="-c fsync=on".
set -euo pipefail

pg_bin="${PG_BIN:-/usr/lib/postgresql/15/bin}"

usage() {
  echo "usage: $0 start|stop DIR" >&2
  exit 2
}

[[ $# -eq 2 ]] || usage
command="$1"
dir="$2"

# PostgreSQL refuses to run as root. When this script runs as root (as in CI),
# the cluster belongs to the postgres user that the Debian package creates, or
# to nobody if the server package came from elsewhere.
run_as=()
cluster_user="$(id -un)"
if [[ "$(id -u)" -eq 0 ]]; then
  if id -u postgres >/dev/null 2>&1; then
    cluster_user=postgres
  else
    cluster_user=nobody
  fi
  run_as=(runuser -u "$cluster_user" --)
fi

# Prints a TCP port on 127.0.0.1 that nothing listens on right now. Another
# process may take it before the server binds it; pg_ctl then fails clearly.
free_port() {
  python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

start_cluster() {
  if [[ -e "$dir" && -n "$(ls -A "$dir")" ]]; then
    echo "pg-cluster.sh: $dir is not empty; give a new or empty directory" >&2
    exit 1
  fi
  if [[ ! -x "$pg_bin/initdb" ]]; then
    echo "pg-cluster.sh: $pg_bin/initdb not found; install the postgresql package" >&2
    exit 1
  fi

  # The server user must own the data directory and the socket directory.
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  chmod 700 "$dir"
  if [[ "$(id -u)" -eq 0 ]]; then
    chown "$cluster_user" "$dir"
  fi

  # Trust authentication and the database superuser "postgres" give tests a
  # fixed URL without a password. --no-sync: the cluster is thrown away.
  "${run_as[@]}" "$pg_bin/initdb" --pgdata="$dir/data" --username=postgres \
    --auth=trust --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    exit 1
  }

  local port
  port="$(free_port)"

  # fsync and synchronous_commit off make the tests faster; losing this data
  # in a crash does not matter. -w waits until the server accepts connections.
  local options="-c listen_addresses=127.0.0.1 -c port=$port"
  options+=" -c unix_socket_directories=$dir -c fsync=off -c synchronous_commit=off"
  options+=" -c full_page_writes=off"
  # Tests run several cmfd processes at once, each with a pool of up to 16
  # connections (more than the default limit of 100 allows in the worst case).
  options+=" -c max_connections=300 ${PG_CLUSTER_OPTIONS:-}"
  "${run_as[@]}" "$pg_bin/pg_ctl" --pgdata="$dir/data" --log="$dir/server.log" \
    --options="$options" --wait --timeout=60 start >/dev/null || {
    cat "$dir/server.log" >&2
    exit 1
  }

  echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

stop_cluster() {
  local pid_file="$dir/data/postmaster.pid"
  # Only a folder that `start` made is deleted, never one given by mistake.
  if [[ ! -e "$dir/initdb.log" ]]; then
    echo "pg-cluster.sh: $dir has no initdb.log, so 'start' did not create it; not deleting it" >&2
    exit 1
  fi
  if [[ ! -f "$pid_file" ]]; then
    # Nothing runs there; still remove what a failed start left behind.
    rm -rf "$dir"
    return
  fi

  # The first line of postmaster.pid is the server's process id. SIGINT asks
  # for a fast shutdown: clients are disconnected, nothing is waited for.
  local pid
  pid="$(head -n 1 "$pid_file")"
  kill -INT "$pid" 2>/dev/null || true

  # Wait up to 30 seconds, then shut down immediately (SIGQUIT).
  for _ in $(seq 1 300); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "pg-cluster.sh: server $pid did not stop in 30 s; sending SIGQUIT" >&2
    kill -QUIT "$pid" 2>/dev/null || true
    sleep 1
  fi

  rm -rf "$dir"
}

case "$command" in
  start) start_cluster ;;
  stop) stop_cluster ;;
  *) usage ;;
esac
