"""Shared harness of the black-box tests: databases, servers and an HTTP client.

The tests start the real `cmfd` binary and talk HTTP to it on 127.0.0.1.

Environment:
  CMFD_BINARY             path of the cmfd binary (default: ../../build/cmfd from here)
  CMFD_TEST_BACKENDS      comma-separated databases to run every test class on:
                          sqlite (the default) and/or postgres
  CMFD_TEST_POSTGRES_URL  a PostgreSQL server for the postgres backend, e.g.
                          postgresql://postgres@127.0.0.1:54321/postgres; each server under
                          test gets a fresh database there, dropped afterwards

A test module defines mixin classes derived from BackendCase or ServerCase (not from
unittest.TestCase) and calls expand(globals()) at its end. expand() creates one
unittest.TestCase per mixin and backend, named NAME_sqlite or NAME_postgres.
"""

import http.client
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import tempfile
import time
import unittest
import urllib.parse

HERE = os.path.dirname(os.path.abspath(__file__))
BINARY = os.environ.get("CMFD_BINARY") or os.path.normpath(os.path.join(HERE, "../../build/cmfd"))

PREFIX = "/webservice/cmf"
ALT_PREFIX = "/__customermanagementframework/webservice"

FORBIDDEN_MSG = "API request needs either a valid API key or a valid session."
INVALID_JSON_PREFIX = "Request body is no valid JSON"
GENERIC_ACTIVITY = "CustomerManagementFrameworkBundle\\Model\\Activity\\GenericActivity"

CUSTOMER_KEYS = [
    "id", "active", "gender", "firstname", "lastname", "birthdate", "street", "zip", "city",
    "phone", "countryCode", "email", "idEncoded", "profilingConsent", "password",
    "modificationDate", "creationDate", "segments", "_links",
]
ACTIVITY_KEYS = [
    "id", "customerId", "activityDate", "type", "implementationClass", "o_id", "a_id", "md5",
    "attributes", "modificationDate", "creationDate", "_links",
]
GROUP_KEYS = [
    "id", "name", "reference", "calculated", "showAsFilter", "filterSortOrder",
    "exportNewsletterProvider", "modificationDate", "creationDate", "_links",
]
SEGMENT_KEYS = [
    "id", "name", "group", "reference", "calculated", "useAsTargetGroup", "modificationDate",
    "creationDate", "_links",
]
LIST_KEYS = ["page", "totalPages", "timestamp", "data"]
ERROR_KEYS = ["success", "msg", "errors"]

START_TIMEOUT = 20.0   # seconds to wait for /health after starting a server
STOP_TIMEOUT = 20.0    # seconds to wait for the exit after a signal
CLI_TIMEOUT = 60.0     # seconds for one `cmfd apikey ...` call
HTTP_TIMEOUT = 60.0    # seconds for one HTTP exchange


def uid():
    """Return a short random token for names, emails and references that must not clash."""
    return secrets.token_hex(5)


def selected_backends():
    names = [b.strip() for b in os.environ.get("CMFD_TEST_BACKENDS", "sqlite").split(",")]
    names = [b for b in names if b]
    for name in names:
        if name not in ("sqlite", "postgres"):
            raise RuntimeError(f"CMFD_TEST_BACKENDS: unknown backend {name!r}, "
                               "expected sqlite and/or postgres")
    return names or ["sqlite"]


# ---------------------------------------------------------------------------------------------
# Databases


class Database:
    """A fresh, empty database for one server: a file in a temporary folder or a PostgreSQL
    database created for it. `url` is what `--database` gets. `folder` is a temporary folder
    that also contains logs and configuration files."""

    def __init__(self, backend):
        self.backend = backend
        self.folder = tempfile.mkdtemp(prefix="cmfd-blackbox-")
        self.pg_base = None
        self.pg_name = None
        if backend == "sqlite":
            self.url = os.path.join(self.folder, "cmf.db")
        elif backend == "postgres":
            base = os.environ.get("CMFD_TEST_POSTGRES_URL")
            if not base:
                raise RuntimeError("CMFD_TEST_BACKENDS selects postgres but CMFD_TEST_POSTGRES_URL "
                                   "is not set; give the URL of a PostgreSQL server")
            self.pg_base = base
            self.pg_name = "cmfd_test_" + secrets.token_hex(6)
            self._psql(f"CREATE DATABASE {self.pg_name}")
            parts = urllib.parse.urlsplit(base)
            self.url = urllib.parse.urlunsplit(parts._replace(path="/" + self.pg_name))
        else:
            raise RuntimeError(f"unknown backend {backend!r}")

    def _psql(self, sql):
        proc = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.pg_base,
                               "-c", sql], capture_output=True, text=True, timeout=CLI_TIMEOUT)
        if proc.returncode != 0:
            raise RuntimeError(f"psql {sql!r} failed with exit code {proc.returncode}: "
                               f"{proc.stderr.strip()}")

    def drop(self):
        if self.pg_name:
            self._psql(f"DROP DATABASE IF EXISTS {self.pg_name} WITH (FORCE)")
            self.pg_name = None
        if self.folder:
            subprocess.run(["rm", "-rf", self.folder], check=False)
            self.folder = None


# ---------------------------------------------------------------------------------------------
# Command line


def require_binary():
    if not os.access(BINARY, os.X_OK):
        raise AssertionError(f"no cmfd binary at {BINARY}; build it or set CMFD_BINARY")


def run_cli(args, timeout=CLI_TIMEOUT, **kwargs):
    """Run `cmfd ARGS...` to completion and return the CompletedProcess (text output)."""
    require_binary()
    return subprocess.run([BINARY] + list(args), capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL, **kwargs)


def create_key(database, name, read_only=False, config=None):
    """Create an API key with `cmfd apikey create` and return the key (last line of stdout)."""
    args = ["apikey", "create", name, "--database", database.url]
    if read_only:
        args.append("--read-only")
    if config:
        args += ["--config", config]
    proc = run_cli(args)
    if proc.returncode != 0:
        raise AssertionError(f"cmfd {' '.join(args)} failed with exit code {proc.returncode}: "
                             f"{proc.stderr.strip()}")
    lines = proc.stdout.strip().splitlines()
    if not lines:
        raise AssertionError(f"cmfd {' '.join(args)} printed no key; stderr: {proc.stderr.strip()}")
    return lines[-1].strip()


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---------------------------------------------------------------------------------------------
# Servers


class Server:
    """One `cmfd serve` process on a free port of 127.0.0.1, with its output in files."""

    def __init__(self, database, config_text=None, extra_args=(), with_database_option=True):
        self.database = database
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.config_path = None
        if config_text is not None:
            self.config_path = os.path.join(database.folder, f"cmfd-{uid()}.toml")
            with open(self.config_path, "w", encoding="utf-8") as f:
                f.write(config_text)
        tag = uid()
        self.stderr_path = os.path.join(database.folder, f"server-{tag}.stderr")
        self.stdout_path = os.path.join(database.folder, f"server-{tag}.stdout")
        self.args = ["serve"]
        if with_database_option:
            self.args += ["--database", database.url]
        self.args += ["--listen", self.address]
        if self.config_path:
            self.args += ["--config", self.config_path]
        self.args += list(extra_args)
        self.process = None

    def start(self):
        """Start the server and wait until GET /health returns 200."""
        require_binary()
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            self.process = subprocess.Popen([BINARY] + self.args, stdout=out, stderr=err,
                                            stdin=subprocess.DEVNULL, cwd=self.database.folder)
        deadline = time.monotonic() + START_TIMEOUT
        last_error = None
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"cmfd {' '.join(self.args)} exited with code "
                                     f"{self.process.returncode} before answering /health; "
                                     f"its log:\n{self.log()}")
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", PREFIX + "/health")
                status = conn.getresponse().status
                conn.close()
                if status == 200:
                    return self
                last_error = f"status {status}"
            except OSError as e:
                last_error = repr(e)
            time.sleep(0.05)
        self.kill()
        raise AssertionError(f"cmfd {' '.join(self.args)} did not answer GET /health with 200 "
                             f"within {START_TIMEOUT} s (last: {last_error}); its log:\n{self.log()}")

    def running(self):
        return self.process is not None and self.process.poll() is None

    def send_signal(self, signum):
        self.process.send_signal(signum)

    def wait(self, timeout=STOP_TIMEOUT):
        """Wait for the exit and return the exit code; kill and raise after `timeout`."""
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise AssertionError(f"cmfd did not exit within {timeout} s of the signal; its log:\n"
                                 f"{self.log()}")

    def stop(self, signum=signal.SIGTERM):
        """Send `signum` (SIGTERM by default) and return the exit code."""
        if self.process is None:
            return None
        if self.process.poll() is None:
            self.process.send_signal(signum)
        return self.wait()

    def kill(self):
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def log(self):
        """Return everything the server wrote so far, stderr first, then stdout."""
        parts = []
        for path in (self.stderr_path, self.stdout_path):
            try:
                with open(path, "rb") as f:
                    parts.append(f.read().decode("utf-8", "replace"))
            except FileNotFoundError:
                pass
        return "\n".join(parts)

    def wait_for_log(self, text, timeout=5.0):
        """Return the log once it contains `text`, or the log as it is after `timeout` s."""
        deadline = time.monotonic() + timeout
        log = self.log()
        while text not in log and time.monotonic() < deadline:
            time.sleep(0.05)
            log = self.log()
        return log


# ---------------------------------------------------------------------------------------------
# HTTP client


def parse_json(raw):
    """Parse JSON, rejecting duplicate object keys (a representation never repeats a key)."""
    def pairs(items):
        result = {}
        for k, v in items:
            if k in result:
                raise ValueError(f"duplicate key {k!r} in JSON object")
            result[k] = v
        return result
    return json.loads(raw, object_pairs_hook=pairs)


def parse_json_exact(raw):
    """Parse JSON keeping the text of every number and the order of keys, for comparing
    attributes exactly: numbers become ("num", text), objects lists of (key, value) pairs."""
    return json.loads(raw, parse_float=lambda s: ("num", s), parse_int=lambda s: ("num", s),
                      object_pairs_hook=lambda items: ("obj", list(items)))


class Reply:
    """An HTTP response: status, headers (case-insensitive), body (parsed JSON when the body
    is JSON, else the raw bytes) and raw (the bytes). Unpacks as (status, headers, body)."""

    def __init__(self, status, headers, raw):
        self.status = status
        self.headers = headers
        self.raw = raw
        self.json_error = None
        self.body = raw
        if raw:
            try:
                self.body = parse_json(raw.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as e:
                self.json_error = e

    def __iter__(self):
        return iter((self.status, self.headers, self.body))

    def __repr__(self):
        text = self.raw[:600].decode("utf-8", "replace")
        return f"<Reply {self.status} {text}>"

    @property
    def data(self):
        return self.body["data"]

    @property
    def msg(self):
        return self.body.get("msg") if isinstance(self.body, dict) else None

    @property
    def errors(self):
        return self.body.get("errors") if isinstance(self.body, dict) else None


class Client:
    """HTTP client for one server. With keep_alive it reuses one connection (one client per
    thread then); without it, every request has its own connection."""

    def __init__(self, port, key=None, prefix=PREFIX, keep_alive=False):
        self.port = port
        self.key = key
        self.prefix = prefix
        self.keep_alive = keep_alive
        self.conn = None

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method, path, body=None, headers=None, key=..., raw_body=None,
                prefix=None, query=None):
        """Send one request. `path` is relative to the prefix (`/customers?page=2`); `query`
        (dict or list of pairs) is appended URL-encoded. `body` is sent as JSON, `raw_body`
        (bytes or str) as it is. `key` defaults to the client's key and goes into X-API-Key;
        None sends none."""
        target = (self.prefix if prefix is None else prefix) + path
        if query:
            sep = "&" if "?" in target else "?"
            target += sep + urllib.parse.urlencode(query, doseq=True)
        all_headers = {}
        use_key = self.key if key is ... else key
        if use_key is not None:
            all_headers["X-API-Key"] = use_key
        payload = None
        if raw_body is not None:
            payload = raw_body.encode("utf-8") if isinstance(raw_body, str) else raw_body
        elif body is not None:
            payload = json.dumps(body).encode("utf-8")
        if payload is not None:
            all_headers["Content-Type"] = "application/json"
        if headers:
            all_headers.update(headers)
        return self._exchange(method, target, payload, all_headers)

    def _exchange(self, method, target, payload, headers):
        if not self.keep_alive:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=HTTP_TIMEOUT)
            try:
                conn.request(method, target, body=payload, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                return Reply(resp.status, resp.headers, raw)
            finally:
                conn.close()
        for attempt in (1, 2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port,
                                                       timeout=HTTP_TIMEOUT)
            try:
                self.conn.request(method, target, body=payload, headers=headers)
                resp = self.conn.getresponse()
                raw = resp.read()
                if resp.will_close:
                    self.close()
                return Reply(resp.status, resp.headers, raw)
            except (http.client.RemoteDisconnected, BrokenPipeError, ConnectionResetError):
                # The server closed an idle kept-alive connection before it read this
                # request; it was not processed, so sending it again once is safe.
                self.close()
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")


# ---------------------------------------------------------------------------------------------
# Raw HTTP over a socket, for pipelining, partial sends and oversized bodies


def read_response(stream):
    """Read one HTTP/1.1 response from a buffered binary stream. Return (status, headers dict
    with lower-case names, body bytes). Understands Content-Length and chunked bodies."""
    line = stream.readline()
    if not line:
        raise ConnectionError("connection closed before a status line")
    parts = line.decode("latin-1").split(" ", 2)
    status = int(parts[1])
    headers = {}
    while True:
        line = stream.readline()
        if not line:
            raise ConnectionError("connection closed inside the headers")
        if line in (b"\r\n", b"\n"):
            break
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    body = b""
    if headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int(stream.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while stream.readline() not in (b"\r\n", b"\n", b""):
                    pass
                break
            body += stream.read(size)
            stream.readline()
    elif "content-length" in headers:
        body = stream.read(int(headers["content-length"]))
    elif status not in (204, 304):
        body = stream.read()
    return status, headers, body


def raw_request_bytes(method, target, key=None, body=b"", extra_headers=()):
    lines = [f"{method} {target} HTTP/1.1", "Host: 127.0.0.1"]
    if key is not None:
        lines.append(f"X-API-Key: {key}")
    if body or method in ("POST", "PUT", "PATCH"):
        lines.append(f"Content-Length: {len(body)}")
    lines += list(extra_headers)
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def send_oversized(port, target, key, body):
    """POST `body` on a fresh connection and return (status, headers, body) of the reply. The
    server may reply and close before it read the whole body, so send errors are ignored."""
    with socket.create_connection(("127.0.0.1", port), timeout=HTTP_TIMEOUT) as sock:
        data = raw_request_bytes("POST", target, key=key, body=body,
                                 extra_headers=["Content-Type: application/json",
                                                "Connection: close"])
        try:
            sock.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        stream = sock.makefile("rb")
        return read_response(stream)


# ---------------------------------------------------------------------------------------------
# Test case bases


class BackendCase:
    """Mixin for a test class that runs once per backend; `backend` is set by expand()."""

    backend = None

    @classmethod
    def new_database(cls):
        db = Database(cls.backend)
        cls.addClassCleanup(db.drop)
        return db

    def new_server(self, database=None, config_text=None, keys=(), extra_args=(),
                   with_database_option=True):
        """Start a server for this test only, on `database` or a fresh one. `keys` are
        (name, read_only) pairs created before the start; returns (server, {name: key})."""
        if database is None:
            database = Database(self.backend)
            self.addCleanup(database.drop)
        server = Server(database, config_text=config_text, extra_args=extra_args,
                        with_database_option=with_database_option)
        created = {name: create_key(database, name, read_only, config=server.config_path)
                   for name, read_only in keys}
        self.addCleanup(server.kill)
        server.start()
        return server, created


class ServerCase(BackendCase):
    """Mixin for a test class that shares one server: started in setUpClass with a read-write
    key `cls.key` (name "writer") and a read-only key `cls.ro_key` (name "reader")."""

    config_text = None  # TOML for --config, or None for none
    key_name = "writer"
    ro_key_name = "reader"

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = cls.new_database()
        cls.server = Server(cls.db, config_text=cls.config_text)
        cls.key = create_key(cls.db, cls.key_name, config=cls.server.config_path)
        cls.ro_key = create_key(cls.db, cls.ro_key_name, read_only=True,
                                config=cls.server.config_path)
        cls.addClassCleanup(cls.server.kill)
        cls.addClassCleanup(cls.server.stop)
        cls.server.start()
        cls.client = Client(cls.server.port, key=cls.key)

    # ---- requests ----

    def request(self, method, path, body=None, **kwargs):
        return self.client.request(method, path, body=body, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self.request("POST", path, body, **kwargs)

    def put(self, path, body=None, **kwargs):
        return self.request("PUT", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self.request("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)

    # ---- resources ----

    def expect(self, reply, status):
        """Assert the status, showing the body on failure, and return the reply."""
        self.assertEqual(reply.status, status, f"unexpected status; body: {reply.raw[:1000]!r}")
        return reply

    def new_customer(self, **fields):
        return self.expect(self.post("/customers", fields), 201).data

    def new_activity(self, customer_id, **fields):
        body = {"customerId": customer_id, "type": fields.pop("type", "test-" + uid())}
        body.update(fields)
        return self.expect(self.post("/activities", body), 201).data

    def new_group(self, **fields):
        body = {"name": "group " + uid()}
        body.update(fields)
        return self.expect(self.post("/segment-groups", body), 200).body

    def new_segment(self, group_id, **fields):
        body = {"name": "segment " + uid(), "group": group_id}
        body.update(fields)
        return self.expect(self.post("/segments", body), 200).body

    def set_segments(self, customer_id, add=(), remove=()):
        reply = self.post("/segments-of-customers", {"customerId": customer_id,
                                                     "addSegments": list(add),
                                                     "removeSegments": list(remove)})
        return self.expect(reply, 200).body["segments"]

    def list_all(self, path, query=None, page_size=1000):
        """Fetch every page of a list; return (rows, timestamp of the first page)."""
        rows = []
        first_timestamp = None
        page = 1
        while True:
            pairs = list(query.items()) if isinstance(query, dict) else list(query or [])
            pairs += [("page", page), ("pageSize", page_size)]
            reply = self.expect(self.get(path, query=pairs), 200)
            if first_timestamp is None:
                first_timestamp = reply.body["timestamp"]
            rows += reply.data
            if page >= reply.body["totalPages"]:
                return rows, first_timestamp
            page += 1

    # ---- assertions ----

    def assert_error(self, reply, status, msg=None, contains=()):
        """Assert an error reply: the status, then `msg` exactly when given, then that the
        whole error text (msg and errors) contains every string of `contains`."""
        self.expect(reply, status)
        body = reply.body if isinstance(reply.body, dict) else {}
        if msg is not None:
            self.assertEqual(body.get("msg"), msg)
        text = " | ".join([str(body.get("msg"))] + [str(e) for e in body.get("errors") or []])
        for part in contains:
            self.assertIn(str(part), text)


def wait_past(second):
    """Sleep until the wall clock is past the end of epoch second `second`, so that a write
    after this call gets a later modificationDate."""
    deadline = time.monotonic() + 5
    while time.time() < second + 1.05 and time.monotonic() < deadline:
        time.sleep(0.05)


def expand(namespace):
    """Create NAME_<backend> TestCase classes for every BackendCase mixin defined in the module
    whose globals are `namespace`. When a backend cannot be used, the classes fail loudly."""
    module = namespace["__name__"]
    try:
        backends = selected_backends()
        setup_error = None
    except RuntimeError as e:
        backends = ["config"]
        setup_error = e
    if "postgres" in backends and not os.environ.get("CMFD_TEST_POSTGRES_URL"):
        setup_error = RuntimeError("CMFD_TEST_BACKENDS selects postgres but "
                                   "CMFD_TEST_POSTGRES_URL is not set")
    for name, obj in list(namespace.items()):
        if not (isinstance(obj, type) and issubclass(obj, BackendCase)):
            continue
        if issubclass(obj, unittest.TestCase) or obj.__module__ != module:
            continue
        for backend in backends:
            attrs = {"backend": backend, "__module__": module}
            if setup_error is not None and (backend == "postgres" or backend == "config"):
                def failing_setup(cls, error=setup_error):
                    raise error
                attrs["setUpClass"] = classmethod(failing_setup)
            cls_name = f"{name}_{backend}"
            attrs["__qualname__"] = cls_name
            namespace[cls_name] = type(cls_name, (obj, unittest.TestCase), attrs)


def json_compact(value):
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def find_raw_value(raw_text, key):
    """Return the raw JSON text that follows `"key":` in `raw_text` up to the end of that
    value (an object or array, matched by brackets outside strings), or None."""
    m = re.search(r'"' + re.escape(key) + r'"\s*:\s*', raw_text)
    if not m:
        return None
    i = m.end()
    if raw_text[i] not in "{[":
        return None

    depth = 0
    in_string = False
    escaped = False
    for j in range(i, len(raw_text)):
        c = raw_text[j]
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
            continue
        if c == '"':
            in_string = True
        elif c in "{[":
            depth += 1
        elif c in "}]":
            depth -= 1
            if depth == 0:
                return raw_text[i:j + 1]
    return None
