#!/usr/bin/env python3
"""Run the cmfd benchmark suite; bench/run.sh builds the binaries and calls this.

Steps: generate the data (cached per scale and seed). Create a fresh database,
an API key, and the segment groups and segments through the API. Import the
NDJSON files with `cmfd import` and check the id assumptions of gen_data.py.
Delete some customers for the deletions feed. Then measure the hello-world
baseline and every scenario with wrk. The server runs pinned to CPU 0 with one
event-loop thread. It is restarted for each scenario, so that its peak RSS
(VmHWM) belongs to that scenario. wrk runs pinned to CPU 1 with one thread and
64 connections (one connection for the deletions feed).

Writes bench/out/results-<date>.md (a Markdown report) and a .json file with
the raw figures beside it. Exits non-zero when a step fails or a scenario
saw non-2xx answers or socket errors; --smoke only checks that every scenario
works (1 run of 1 s on a tiny data set).
"""

import argparse
import datetime
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
PREFIX = "/webservice/cmf"
SERVER_CPU = "0"
CLIENT_CPU = "1"
NICE = [0]  # nice value of the measured processes, set from --nice

# (customers, activities, runs, seconds per run, warm-up seconds). The small
# scale has no warm-up, to stay under 2 minutes: its whole database fits the
# OS page cache, which the server's restart per scenario does not empty.
SCALES = {
    "smoke": (500, 5_000, 1, 1, 0),
    "small": (10_000, 100_000, 3, 2, 0),
    "reference": (1_000_000, 10_000_000, 5, 10, 2),
}

# Configuration added to the server's for one scenario; the others run with
# the defaults. The API key cache is off by default because a revocation must
# take effect from the next request.
SCENARIO_CONFIG = {
    "get_customer_key_cache": "[api_keys]\ncache_seconds = 5\n",
}

# Segment filters, deletions and ids need the generator's layout.
SEGMENTS = 50

# name, wrk script, connections, what it measures
SCENARIOS = [
    ("get_customer", "get_customer.lua", 64, "GET /customers/{id}, random id"),
    ("get_customer_key_cache", "get_customer.lua", 64,
     "the same with `[api_keys] cache_seconds = 5` (not the default)"),
    ("get_customer_activities", "get_customer_activities.lua", 64,
     "GET /customers/{id}?includeActivities=true"),
    ("list_page1", "list_page1.lua", 64, "GET /customers, page 1 of 100"),
    ("list_deep_page", "list_deep_page.lua", 64, "GET /customers, deep page of 100"),
    ("list_segment_filter", "list_segment_filter.lua", 64,
     "GET /customers?segments=S, page 1 of 100"),
    ("list_modified_since", "list_modified_since.lua", 64,
     "GET /customers?modificationTimestamp=T, page 1 of 100"),
    ("activities_by_type", "activities_by_type.lua", 64,
     "GET /activities?type=T, pages 1-10 of 100"),
    ("post_activity", "post_activity.lua", 64, "POST /activities, new row each"),
    ("patch_customer", "patch_customer.lua", 64, "PATCH /customers/{id}"),
    ("segments_of_customers", "segments_of_customers.lua", 64,
     "POST /segments-of-customers, add 1 and remove 1"),
    ("mix_90_10", "mix_90_10.lua", 64, "90% GET /customers/{id}, 10% POST or PATCH"),
    ("deletions_feed", "deletions_feed.lua", 1,
     "GET /deletions?entityType=activities, whole feed, 1 connection"),
]


class BenchError(Exception):
    """A failed step; the message names the step and the cause."""


def log(message):
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def pinned(cpu, command):
    """Return `command` run on CPU `cpu` with the --nice value."""
    prefix = ["nice", "-n", str(NICE[0])] if NICE[0] else []
    return [*prefix, "taskset", "-c", cpu, *command]


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# ---- processes ----

class Server:
    """A server process started by this script and stopped by its pid."""

    def __init__(self, name, command, port, log_path, env=None):
        self.name = name
        self.port = port
        self.log_path = log_path
        self.log_file = open(log_path, "ab")
        self.process = subprocess.Popen(command, stdout=self.log_file, stderr=subprocess.STDOUT,
                                        stdin=subprocess.DEVNULL, env=env)
        self._wait_ready()

    @property
    def pid(self):
        return self.process.pid

    def _wait_ready(self):
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BenchError(f"{self.name} exited with code {self.process.returncode} "
                                 f"during start-up; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise BenchError(f"{self.name} did not accept connections on port {self.port} in 30 s")

    def stop(self):
        """Stop with SIGINT (both servers drain and exit on it), SIGKILL after 5 s.

        The database is thrown away after the run, so a killed server loses
        nothing that matters; the log line shows that it did not stop in time.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                log(f"{self.name} (pid {self.pid}) did not stop within 5 s of SIGINT; killing it")
                self.process.kill()
                self.process.wait()
        self.log_file.close()

    def cpu_seconds(self):
        """utime + stime of all threads, from /proc/PID/stat."""
        with open(f"/proc/{self.pid}/stat") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def memory_mb(self):
        """VmHWM (peak RSS), RssAnon and RssFile (now), from /proc/PID/status.

        RssFile counts the touched pages of mapped files (the binary, its
        libraries, and a database file if a store maps it): they are shared
        with the page cache and can be reclaimed, unlike RssAnon (heap and
        stacks).
        """
        values = {}
        with open(f"/proc/{self.pid}/status") as handle:
            for line in handle:
                name, _, rest = line.partition(":")
                if name in ("VmHWM", "RssAnon", "RssFile"):
                    values[name] = int(rest.split()[0]) / 1024
        return values


def run_command(command, what, env=None, timeout=None):
    """Run a command to completion; return its stdout, raise with its output on failure."""
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=timeout,
                            stdin=subprocess.DEVNULL)
    if result.returncode != 0:
        raise BenchError(f"{what} failed with exit code {result.returncode}:\n"
                         f"{result.stdout[-3000:]}{result.stderr[-3000:]}")
    return result.stdout, result.stderr


# ---- HTTP through the API ----

class Api:
    """A keep-alive HTTP client for set-up requests."""

    def __init__(self, port, key):
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.key = key

    def request(self, method, path, body=None, expected=(200, 201, 204)):
        headers = {"X-API-Key": self.key}
        data = None
        if body is not None:
            data = json.dumps(body) if not isinstance(body, str) else body
            headers["Content-Type"] = "application/json"
        self.connection.request(method, PREFIX + path, body=data, headers=headers)
        response = self.connection.getresponse()
        text = response.read()
        if response.status not in expected:
            raise BenchError(f"{method} {path} returned status {response.status}: {text[:300]!r}")
        return json.loads(text) if text else None

    def close(self):
        self.connection.close()


# ---- wrk ----

RESULT_LINE = re.compile(r"BENCH_RESULT requests=(\d+) duration_us=(\d+) non2xx=(\d+) "
                         r"socket_errors=(\d+) p50_us=(\d+) p99_us=(\d+)")


def run_wrk(script, port, connections, seconds, env):
    # wrk takes whole seconds only.
    command = pinned(CLIENT_CPU, ["wrk", "-t1", f"-c{connections}",
                                  f"-d{max(round(seconds), 1)}s",
                                  "--timeout", "10s", "-s", os.path.join(HERE, "wrk", script),
                                  f"http://127.0.0.1:{port}"])
    stdout, _ = run_command(command, f"wrk {script}", env=env, timeout=seconds + 60)
    match = RESULT_LINE.search(stdout)
    if not match:
        raise BenchError(f"wrk {script} printed no BENCH_RESULT line:\n{stdout}")
    requests, duration_us, non2xx, socket_errors, p50, p99 = map(int, match.groups())
    return {
        "requests": requests,
        "rps": requests / (duration_us / 1e6) if duration_us else 0.0,
        "non2xx": non2xx,
        "socket_errors": socket_errors,
        "p50_ms": p50 / 1000,
        "p99_ms": p99 / 1000,
    }


def measure(server, script, connections, runs, seconds, warmup, env):
    """Warm up, then `runs` wrk runs; returns the medians and the totals."""
    if warmup > 0:
        run_wrk(script, server.port, connections, warmup, env)
    results = []
    for _ in range(runs):
        cpu_before, wall_before = server.cpu_seconds(), time.monotonic()
        result = run_wrk(script, server.port, connections, seconds, env)
        cpu = server.cpu_seconds() - cpu_before
        result["cpu_percent"] = 100 * cpu / (time.monotonic() - wall_before)
        # Server CPU time per request moves far less than req/s when other
        # processes compete for the CPUs, so it compares runs on a busy machine.
        result["cpu_us_per_request"] = 1e6 * cpu / max(result["requests"], 1)
        results.append(result)
    return {
        "runs": results,
        "rps": statistics.median(r["rps"] for r in results),
        "p50_ms": statistics.median(r["p50_ms"] for r in results),
        "p99_ms": statistics.median(r["p99_ms"] for r in results),
        "cpu_percent": statistics.median(r["cpu_percent"] for r in results),
        "cpu_us_per_request": statistics.median(r["cpu_us_per_request"] for r in results),
        "requests": sum(r["requests"] for r in results),
        "non2xx": sum(r["non2xx"] for r in results),
        "socket_errors": sum(r["socket_errors"] for r in results),
        **dict(zip(("peak_rss_mb", "rss_anon_mb", "rss_file_mb"),
                   (server.memory_mb().get(name, 0.0)
                    for name in ("VmHWM", "RssAnon", "RssFile")))),
    }


# ---- steps ----

def scale_parameters(args):
    if args.smoke:
        customers, activities, runs, seconds, warmup = SCALES["smoke"]
    elif args.scale in SCALES:
        customers, activities, runs, seconds, warmup = SCALES[args.scale]
    else:
        customers = int(args.scale)
        if customers < 100:
            raise BenchError("--scale N needs at least 100 customers")
        activities, runs, seconds, warmup = 10 * customers, 3, 5, 1
    if args.runs is not None:
        runs = args.runs
    if args.duration is not None:
        seconds = args.duration
    return customers, activities, runs, seconds, warmup


def generate_data(customers, activities, seed):
    data_dir = os.path.join(HERE, "out", "data", f"c{customers}-a{activities}-s{seed}")
    manifest_path = os.path.join(data_dir, "manifest.json")
    if not os.path.exists(manifest_path):
        log(f"generating {customers:,} customers and {activities:,} activities in {data_dir}")
        run_command([sys.executable, os.path.join(HERE, "gen_data.py"),
                     "--customers", str(customers), "--activities", str(activities),
                     "--seed", str(seed), "--out", data_dir], "gen_data.py")
    else:
        log(f"using cached data in {data_dir}")
    with open(manifest_path) as handle:
        return data_dir, json.load(handle)


def read_ndjson(path):
    with open(path, encoding="utf-8") as handle:
        return [line for line in handle if line.strip()]


def create_segments(api, data_dir):
    """Create the groups and segments in file order and check their ids."""
    for number, line in enumerate(read_ndjson(os.path.join(data_dir, "segment_groups.ndjson")), 1):
        created = api.request("POST", "/segment-groups", line)
        if created.get("id") != number:
            raise BenchError(f"segment group {number} got id {created.get('id')}; "
                             "the data assumes ids 1, 2, ... in a fresh database")
    for number, line in enumerate(read_ndjson(os.path.join(data_dir, "segments.ndjson")), 1):
        created = api.request("POST", "/segments", line)
        if created.get("id") != number:
            raise BenchError(f"segment {number} got id {created.get('id')}; "
                             "the data assumes ids 1, 2, ... in a fresh database")


IMPORT_LINE = re.compile(r"^(customers|activities|assignments): .*?: ([\d,]+) lines, "
                         r"([\d,]+) (?:created|applied)(?:, ([\d,]+) updated)?, "
                         r"([\d,]+) rejected in ([\d.]+) s", re.M)


def run_import(cmfd, database, config_path, data_dir, env):
    command = [cmfd, "import", "--database", database, "--config", config_path,
               "--customers", os.path.join(data_dir, "customers.ndjson"),
               "--activities", os.path.join(data_dir, "activities.ndjson"),
               "--assignments", os.path.join(data_dir, "assignments.ndjson")]
    started = time.monotonic()
    stdout, stderr = run_command(command, "cmfd import", env=env)
    wall = time.monotonic() - started
    files = {}
    for kind, lines, created, updated, rejected, seconds in IMPORT_LINE.findall(stdout):
        number = lambda text: int(text.replace(",", "")) if text else 0  # noqa: E731
        files[kind] = {"lines": number(lines), "written": number(created) + number(updated),
                       "rejected": number(rejected), "seconds": float(seconds)}
    if set(files) != {"customers", "activities", "assignments"}:
        raise BenchError(f"cannot read the summary of cmfd import:\n{stdout}")
    rejected = sum(f["rejected"] for f in files.values())
    if rejected:
        raise BenchError(f"cmfd import rejected {rejected} generated lines:\n{stderr[-3000:]}")
    written = sum(f["written"] for f in files.values())
    return {"files": files, "written": written, "wall_seconds": wall,
            "records_per_second": written / wall}


def postgres_database_size(url):
    """Bytes that the PostgreSQL database at `url` takes (tables, indexes, TOAST)."""
    stdout, _ = run_command(["psql", "--no-psqlrc", "--tuples-only", "--no-align", url,
                             "--command", "SELECT pg_database_size(current_database())"],
                            "psql (database size)")
    return int(stdout.strip())


def check_ids(api, customers):
    """The n-th imported customer must have id n (gen_data.py's assumption)."""
    for customer_id in sorted({1, customers // 2, customers}):
        data = api.request("GET", f"/customers/{customer_id}")["data"]
        expected = str(10000000 + customer_id)
        if data.get("customerNumber") != expected:
            raise BenchError(f"customer {customer_id} has customerNumber "
                             f"{data.get('customerNumber')!r}, expected {expected!r}: "
                             "the import did not assign ids in file order")
    listing = api.request("GET", "/customers?pageSize=1")
    if listing["totalPages"] != customers:
        raise BenchError(f"the customer list has {listing['totalPages']} rows, "
                         f"expected {customers}")


def delete_customers(api, first, last):
    for customer_id in range(first, last + 1):
        api.request("DELETE", f"/customers/{customer_id}")


def fetch_deletions_feed(port, key):
    """Fetch the whole activity deletions feed once; return its rows, bytes and seconds."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=300)
    started = time.monotonic()
    connection.request("GET", PREFIX + "/deletions?entityType=activities",
                       headers={"X-API-Key": key})
    response = connection.getresponse()
    body = response.read()
    seconds = time.monotonic() - started
    connection.close()
    if response.status != 200:
        raise BenchError(f"GET /deletions returned status {response.status}: {body[:300]!r}")
    return {"rows": len(json.loads(body)["data"]), "bytes": len(body), "seconds": seconds}


def machine_info():
    model = "unknown"
    with open("/proc/cpuinfo") as handle:
        for line in handle:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as handle:
        memory_kb = int(handle.readline().split()[1])
    try:
        commit = subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                capture_output=True, text=True).stdout.strip()
    except OSError:
        commit = "unknown"
    return {
        "nproc": os.cpu_count(),
        "cpu": model,
        "memory_gib": round(memory_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "load_average": os.getloadavg(),
        "commit": commit or "unknown",
    }


# ---- report ----

TARGETS_NOTE = ("Targets: GET one >= 0.6x hello-world; list page of 100 >= 10,000 pages/s; "
                "deep page p50 <= 3x page-1 p50; single-record writes >= 20,000/s with 64 "
                "clients; peak RSS < 100 MB (at reference scale); import >= 100,000 records/s.")


def evaluate_targets(results, hello, import_result):
    scenarios = results

    def rps(name):
        return scenarios[name]["rps"]

    rows = []
    # Decided on server CPU per request, which other load on the machine and a
    # load generator that cannot saturate the baseline distort far less than
    # req/s; the req/s ratio is shown beside it.
    ratio = rps("get_customer") / hello["rps"]
    cpu_ratio = hello["cpu_us_per_request"] / scenarios["get_customer"]["cpu_us_per_request"]
    rows.append(("GET one >= 0.6x hello-world (server CPU per request)",
                 f"{cpu_ratio:.2f}x ({ratio:.2f}x by req/s)", cpu_ratio >= 0.6))
    rows.append(("list page of 100 >= 10,000/s", f"{rps('list_page1'):,.0f}/s",
                 rps("list_page1") >= 10_000))
    deep = scenarios["list_deep_page"]["p50_ms"] / max(scenarios["list_page1"]["p50_ms"], 1e-6)
    rows.append(("deep page p50 <= 3x page-1 p50", f"{deep:.2f}x", deep <= 3))
    for name in ("post_activity", "patch_customer", "segments_of_customers"):
        rows.append((f"{name} >= 20,000/s", f"{rps(name):,.0f}/s", rps(name) >= 20_000))
    peak = max(s["peak_rss_mb"] for s in scenarios.values())
    rows.append(("peak RSS < 100 MB", f"{peak:.1f} MB", peak < 100))
    rows.append(("import >= 100,000 records/s",
                 f"{import_result['records_per_second']:,.0f} records/s",
                 import_result["records_per_second"] >= 100_000))
    return rows


def write_report(path, context):
    c = context
    lines = [f"# cmfd benchmark, {c['date']}", ""]
    machine = c["machine"]
    lines += [
        f"- Machine: {machine['nproc']} CPUs ({machine['cpu']}), {machine['memory_gib']} GiB, "
        f"Linux {machine['kernel']}; load average at start "
        f"{', '.join(f'{x:.2f}' for x in machine['load_average'])}",
        f"- Commit {machine['commit']}, Release build; backend {c['backend']}; "
        f"nice value of server and wrk: {c['nice']}",
        f"- Scale: {c['customers']:,} customers, {c['activities']:,} activities "
        f"(per customer: median {c['manifest']['activities_per_customer']['median']}, "
        f"max {c['manifest']['activities_per_customer']['max']}), "
        f"{c['manifest']['segment_assignments']:,} segment memberships, seed {c['seed']}",
        f"- Database after import and deletions: {c['database_size_mb']:.0f} MB",
        f"- Server pinned to CPU {SERVER_CPU} (`--threads 1`), restarted per scenario; "
        f"wrk pinned to CPU {CLIENT_CPU}, `-t1 -c64` (`-c1` for the deletions feed); "
        f"{c['runs']} runs of {c['seconds']} s "
        + (f"after {c['warmup']} s of warm-up" if c["warmup"] else "without warm-up")
        + "; figures are medians over the runs; the closing baseline has one run",
        f"- Deep page: page {c['deep_page']} of 100; deleted before the scenarios: "
        f"customers {c['deleted_first']:,}-{c['customers']:,}; random ids in 1-{c['max_id']:,}",
        "",
        "## Import",
        "",
        "| file | lines | written | seconds | records/s |",
        "| --- | ---: | ---: | ---: | ---: |",
    ]
    for kind, info in c["import"]["files"].items():
        per_second = info["written"] / info["seconds"] if info["seconds"] else 0
        lines.append(f"| {kind} | {info['lines']:,} | {info['written']:,} | "
                     f"{info['seconds']:.2f} | {per_second:,.0f} |")
    lines.append(f"| total (wall time of `cmfd import`) | | {c['import']['written']:,} | "
                 f"{c['import']['wall_seconds']:.2f} | "
                 f"{c['import']['records_per_second']:,.0f} |")
    lines += ["", "## Scenarios", "",
              f"Hello-world baseline (`cmfd_hello_baseline`, same settings): "
              f"{c['hello']['rps']:,.0f} req/s median "
              f"(before the scenarios {c['hello_before']['rps']:,.0f}, "
              f"after {c['hello_after']['rps']:,.0f}), "
              f"p50 {c['hello']['p50_ms']:.2f} ms, p99 {c['hello']['p99_ms']:.2f} ms, "
              f"server CPU {c['hello']['cpu_percent']:.0f}%, "
              f"{c['hello']['cpu_us_per_request']:.1f} µs of server CPU per request.",
              "",
              "| scenario | request | req/s | x hello | p50 ms | p99 ms | server CPU % "
              "| CPU µs/req | x hello (CPU) | peak RSS MB | anon / file MB at end | non-2xx "
              "| socket errors |",
              "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: "
              "| ---: | ---: |"]
    for name, _, _, what in SCENARIOS:
        s = c["scenarios"][name]
        cpu_ratio = c["hello"]["cpu_us_per_request"] / max(s["cpu_us_per_request"], 1e-9)
        lines.append(f"| {name} | {what} | {s['rps']:,.0f} | {s['rps'] / c['hello']['rps']:.2f} "
                     f"| {s['p50_ms']:.2f} | {s['p99_ms']:.2f} | {s['cpu_percent']:.0f} "
                     f"| {s['cpu_us_per_request']:.1f} | {cpu_ratio:.2f} "
                     f"| {s['peak_rss_mb']:.1f} | {s['rss_anon_mb']:.1f} / {s['rss_file_mb']:.1f} "
                     f"| {s['non2xx']} | {s['socket_errors']} |")
    feed = c["feed"]
    lines += ["",
              f"Deletions feed: one fetch of {feed['rows']:,} rows ({feed['bytes']:,} bytes) took "
              f"{feed['seconds'] * 1000:.1f} ms ({feed['rows'] / feed['seconds']:,.0f} rows/s).",
              "", "## Targets", "", "| target | measured | met |", "| --- | ---: | --- |"]
    for target, measured, met in c["targets"]:
        lines.append(f"| {target} | {measured} | {'yes' if met else 'no'} |")
    lines += ["", "Peak RSS is VmHWM of the server process, which is restarted per scenario; "
              "anon / file are RssAnon (heap, stacks) and RssFile (touched pages of mapped "
              "files: the binary and its libraries) when the scenario ends. "
              "p50 and p99 are wrk's latency percentiles at 64 connections. "
              "x hello (CPU) is the baseline's server CPU time per request divided by the "
              "scenario's: the share of the baseline's throughput that the scenario would reach "
              "if the server had its core to itself.", ""]
    with open(path, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))


# ---- main ----

def main():
    parser = argparse.ArgumentParser(description="Run the cmfd benchmark suite.")
    parser.add_argument("--scale", default="small",
                        help="small (10,000 customers), reference (1,000,000) or a number of "
                             "customers (activities: 10 per customer); default small")
    parser.add_argument("--runs", type=int, help="measured runs per scenario")
    parser.add_argument("--duration", type=float, help="seconds per run")
    parser.add_argument("--backend", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--seed", type=int, default=1, help="data seed (default 1)")
    parser.add_argument("--smoke", action="store_true",
                        help="tiny data, 1 run of 1 s per scenario; only checks that each works")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build-bench"))
    parser.add_argument("--nice", type=int, default=0,
                        help="nice value of the server and wrk; a negative value (root only) "
                             "favours them over other work on a shared machine (default 0)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the database and the server logs of the run")
    args = parser.parse_args()

    customers, activities, runs, seconds, warmup = scale_parameters(args)
    NICE[0] = args.nice
    cmfd = os.path.join(args.build_dir, "cmfd")
    hello = os.path.join(args.build_dir, "bench", "cmfd_hello_baseline")
    for binary in (cmfd, hello):
        if not os.access(binary, os.X_OK):
            raise BenchError(f"{binary} is missing; build with bench/run.sh")
    for tool in ("wrk", "taskset"):
        if shutil.which(tool) is None:
            raise BenchError(f"{tool} is not installed (Debian packages wrk, util-linux)")
    if (os.cpu_count() or 1) < 2:
        raise BenchError("the benchmark pins the server and wrk to CPUs 0 and 1; "
                         "this machine has one CPU")

    started = time.monotonic()
    date = datetime.datetime.now().strftime("%Y-%m-%d-%H%M%S")
    machine = machine_info()
    data_dir, manifest = generate_data(customers, activities, args.seed)

    out_dir = os.path.join(HERE, "out")
    run_dir = tempfile.mkdtemp(prefix=f"run-{date}-", dir=out_dir)
    config_path = os.path.join(run_dir, "cmfd.toml")
    with open(config_path, "w") as handle:
        handle.write('[[customer.fields]]\nname = "customerNumber"\ntype = "string"\n'
                     "unique = true\n")

    servers = []
    pg_dir = None
    failed = True
    env = dict(os.environ)
    try:
        # A fresh database: a new file, or a new throwaway cluster that runs
        # on the server's CPU with fsync on (full durability).
        if args.backend == "sqlite":
            database = os.path.join(run_dir, "cmf.db")
        else:
            # Not under run_dir: mkdtemp made that private to root, and the
            # cluster runs as the postgres user.
            pg_dir = os.path.join(tempfile.gettempdir(), f"cmfd-bench-pg-{date}-{os.getpid()}")
            pg_env = dict(env, PG_CLUSTER_OPTIONS="-c fsync=on -c synchronous_commit=on "
                                                  "-c full_page_writes=on -c max_connections=200")
            stdout, _ = run_command(pinned(SERVER_CPU, ["bash", os.path.join(
                ROOT, "scripts", "pg-cluster.sh"), "start", pg_dir]), "starting PostgreSQL",
                env=pg_env)
            database = stdout.strip().splitlines()[-1]

        stdout, _ = run_command([cmfd, "apikey", "create", "bench", "--database", database,
                                 "--config", config_path], "cmfd apikey create")
        key = stdout.strip().splitlines()[-1].strip()
        since = int(time.time()) - 1

        def serve(name, pin=True, extra=()):
            port = free_port()
            config = config_path
            if name in SCENARIO_CONFIG:
                config = os.path.join(run_dir, f"cmfd-{name}.toml")
                with open(config_path) as base, open(config, "w") as handle:
                    handle.write(base.read() + SCENARIO_CONFIG[name])
            command = [cmfd, "serve", "--database", database, "--config", config,
                       "--listen", f"127.0.0.1:{port}", "--threads", "1",
                       "--log-file", os.path.join(run_dir, f"cmfd-{name}.log"), *extra]
            if pin:
                command = pinned(SERVER_CPU, command)
            server = Server(f"cmfd ({name})", command, port,
                            os.path.join(run_dir, f"cmfd-{name}.out"))
            servers.append(server)
            return server

        def stop(server):
            server.stop()
            servers.remove(server)

        # Groups and segments through the API, before any customer exists.
        server = serve("setup", pin=False)
        api = Api(server.port, key)
        create_segments(api, data_dir)
        api.close()
        stop(server)

        log("importing")
        import_result = run_import(cmfd, database, config_path, data_dir, env)
        log(f"imported {import_result['written']:,} records in "
            f"{import_result['wall_seconds']:.1f} s "
            f"({import_result['records_per_second']:,.0f} records/s)")

        # Check the id assumption, then delete the customers with the highest
        # ids, so that the feed has rows and random ids 1..max_id all exist.
        deleted = max(5, customers // 100)
        max_id = customers - deleted
        server = serve("check", pin=False)
        api = Api(server.port, key)
        check_ids(api, customers)
        log(f"deleting customers {max_id + 1:,}-{customers:,}")
        delete_customers(api, max_id + 1, customers)
        api.close()
        stop(server)

        deep_page = max(1, min(5000, max_id // 100))
        env.update({
            "CMFD_BENCH_KEY": key,
            "CMFD_BENCH_MAX_ID": str(max_id),
            "CMFD_BENCH_SEGMENTS": str(SEGMENTS),
            "CMFD_BENCH_DEEP_PAGE": str(deep_page),
            "CMFD_BENCH_SINCE": str(since),
            "CMFD_BENCH_NONCE": date,
            "CMFD_BENCH_SEED": str(args.seed),
        })

        def measure_hello(label, runs):
            port = free_port()
            server = Server("cmfd_hello_baseline", pinned(SERVER_CPU, [hello, str(port)]), port,
                            os.path.join(run_dir, "hello.out"))
            servers.append(server)
            try:
                result = measure(server, "hello.lua", 64, runs, seconds, warmup, env)
            finally:
                stop(server)
            log(f"hello-world {label}: {result['rps']:,.0f} req/s")
            return result

        hello_before = measure_hello("before", runs)
        results = {}
        for name, script, connections, _ in SCENARIOS:
            server = serve(name)
            try:
                results[name] = measure(server, script, connections, runs, seconds, warmup, env)
                if name == "deletions_feed":
                    feed = fetch_deletions_feed(server.port, key)
            finally:
                stop(server)
            r = results[name]
            log(f"{name}: {r['rps']:,.0f} req/s, p50 {r['p50_ms']:.2f} ms, "
                f"p99 {r['p99_ms']:.2f} ms, CPU {r['cpu_percent']:.0f}% "
                f"({r['cpu_us_per_request']:.1f} µs/request), "
                f"peak RSS {r['peak_rss_mb']:.1f} MB, non-2xx {r['non2xx']}, "
                f"socket errors {r['socket_errors']}")
        # One closing run is enough to show whether the machine's state drifted.
        hello_after = measure_hello("after", 1)
        hello_runs = hello_before["runs"] + hello_after["runs"]
        hello_result = {
            "rps": statistics.median(r["rps"] for r in hello_runs),
            "p50_ms": statistics.median(r["p50_ms"] for r in hello_runs),
            "p99_ms": statistics.median(r["p99_ms"] for r in hello_runs),
            "cpu_percent": statistics.median(r["cpu_percent"] for r in hello_runs),
            "cpu_us_per_request": statistics.median(r["cpu_us_per_request"] for r in hello_runs),
        }

        problems = [f"{name}: {r['requests']} requests, {r['non2xx']} non-2xx, "
                    f"{r['socket_errors']} socket errors"
                    for name, r in results.items()
                    if r["requests"] == 0 or r["non2xx"] or r["socket_errors"]]

        database_size = 0
        if args.backend == "sqlite":
            database_size = sum(os.path.getsize(database + suffix)
                                for suffix in ("", "-wal") if os.path.exists(database + suffix))
        else:
            database_size = postgres_database_size(database)
        context = {
            "date": date, "machine": machine, "backend": args.backend, "nice": args.nice,
            "customers": customers, "activities": activities, "seed": args.seed,
            "manifest": manifest, "runs": runs, "seconds": seconds, "warmup": warmup,
            "database_size_mb": database_size / 1e6, "deep_page": deep_page,
            "deleted_first": max_id + 1, "max_id": max_id, "import": import_result,
            "hello": hello_result, "hello_before": hello_before, "hello_after": hello_after,
            "scenarios": results, "feed": feed,
            "targets": evaluate_targets(results, hello_result, import_result),
            "problems": problems, "total_seconds": time.monotonic() - started,
        }
        prefix = "smoke" if args.smoke else "results"
        report = os.path.join(out_dir, f"{prefix}-{date}.md")
        write_report(report, context)
        with open(os.path.join(out_dir, f"{prefix}-{date}.json"), "w") as handle:
            json.dump(context, handle, indent=1, default=str)
        log(f"report: {report} ({context['total_seconds']:.0f} s in total)")

        if problems:
            raise BenchError("scenarios with failed requests:\n  " + "\n  ".join(problems))
        failed = False
    finally:
        for server in list(servers):
            server.stop()
        if pg_dir is not None:
            subprocess.run(["bash", os.path.join(ROOT, "scripts", "pg-cluster.sh"), "stop",
                            pg_dir], stdin=subprocess.DEVNULL)
        if args.keep or failed:
            log(f"database and logs kept in {run_dir}")
        else:
            shutil.rmtree(run_dir, ignore_errors=True)


def stop_on_sigterm(signum, frame):
    """Turn SIGTERM (from `timeout`, for example) into an exception, so that the
    cleanup in main() stops the servers and the PostgreSQL cluster it started."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    try:
        main()
    except BenchError as error:
        print(f"bench: {error}", file=sys.stderr)
        sys.exit(1)
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        sys.exit(130)
