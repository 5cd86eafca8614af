"""The command line: help texts, `cmfd apikey`, start-up failures, logging and signals."""

import os
import re
import shutil
import signal
import socket
import subprocess
import time
import unittest
import urllib.parse

import cmfd_harness as h


def project_version():
    with open(os.path.join(h.HERE, "../../CMakeLists.txt"), encoding="utf-8") as f:
        return re.search(r"project\(cmfd\s+VERSION\s+([0-9.]+)", f.read()).group(1)


class Help(unittest.TestCase):

    def help_of(self, *args):
        proc = h.run_cli(list(args) + ["--help"])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        return proc.stdout + proc.stderr

    def test_main_help(self):
        text = self.help_of()
        self.assertIn("serve", text)
        self.assertIn("apikey", text)

    def test_serve_help(self):
        text = self.help_of("serve")
        for option in ("--database", "--listen", "--threads", "--config"):
            with self.subTest(option=option):
                self.assertIn(option, text)

    def test_serve_help_defaults(self):
        text = self.help_of("serve")
        self.assertIn("127.0.0.1:8080", text)
        self.assertIn("cmf.db", text)

    def test_apikey_help(self):
        text = self.help_of("apikey")
        for command in ("create", "list", "revoke"):
            with self.subTest(command=command):
                self.assertIn(command, text)

    def test_apikey_create_help(self):
        text = self.help_of("apikey", "create")
        for option in ("--read-only", "--database", "--config"):
            with self.subTest(option=option):
                self.assertIn(option, text)

    def test_apikey_revoke_help(self):
        text = self.help_of("apikey", "revoke")
        self.assertIn("--database", text)

    def test_unknown_command(self):
        proc = h.run_cli(["frobnicate"])
        self.assertNotEqual(proc.returncode, 0)

    def test_unknown_option(self):
        proc = h.run_cli(["serve", "--no-such-option"], timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("no-such-option", proc.stdout + proc.stderr)


class ApiKeyCommands(h.BackendCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.db = cls.new_database()

    def cli(self, *args):
        return h.run_cli(list(args) + ["--database", self.db.url])

    def test_key_alone_on_last_line(self):
        proc = self.cli("apikey", "create", "last-" + h.uid())
        self.assertEqual(proc.returncode, 0, proc.stderr)
        last = proc.stdout.rstrip("\n").splitlines()[-1]
        self.assertRegex(last, r"^[A-Za-z0-9_\-+/=.~]+$")

    def test_key_has_128_bits(self):
        key = h.create_key(self.db, "long-" + h.uid())
        # 128 bits are at least 22 characters in base64 and 32 in hex.
        self.assertGreaterEqual(len(key), 22)

    def test_keys_differ(self):
        keys = {h.create_key(self.db, "many-" + h.uid()) for _ in range(3)}
        self.assertEqual(len(keys), 3)

    def test_duplicate_name_fails(self):
        name = "twice-" + h.uid()
        h.create_key(self.db, name)
        proc = self.cli("apikey", "create", name)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(name, proc.stdout + proc.stderr)

    def test_revoke_unknown_fails(self):
        name = "ghost-" + h.uid()
        proc = self.cli("apikey", "revoke", name)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn(name, proc.stderr + proc.stdout)

    def test_revoke_twice_fails(self):
        name = "gone-" + h.uid()
        h.create_key(self.db, name)
        self.assertEqual(self.cli("apikey", "revoke", name).returncode, 0)
        self.assertNotEqual(self.cli("apikey", "revoke", name).returncode, 0)

    def test_revoked_name_reusable(self):
        name = "again-" + h.uid()
        first = h.create_key(self.db, name)
        self.assertEqual(self.cli("apikey", "revoke", name).returncode, 0)
        second = h.create_key(self.db, name)
        self.assertNotEqual(first, second)

    def test_list_names_and_scopes(self):
        rw = "rw-" + h.uid()
        ro = "ro-" + h.uid()
        h.create_key(self.db, rw)
        h.create_key(self.db, ro, read_only=True)
        proc = self.cli("apikey", "list")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        lines = proc.stdout.splitlines()
        rw_lines = [line for line in lines if rw in line]
        ro_lines = [line for line in lines if ro in line]
        self.assertEqual(len(rw_lines), 1, proc.stdout)
        self.assertEqual(len(ro_lines), 1, proc.stdout)
        self.assertIn("only", ro_lines[0].lower())
        self.assertNotIn("only", rw_lines[0].lower())

    def test_list_omits_revoked(self):
        name = "dropped-" + h.uid()
        h.create_key(self.db, name)
        self.cli("apikey", "revoke", name)
        proc = self.cli("apikey", "list")
        self.assertNotIn(name, proc.stdout)

    def test_list_never_prints_key(self):
        name = "secret-" + h.uid()
        key = h.create_key(self.db, name)
        proc = self.cli("apikey", "list")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertNotIn(key, proc.stdout + proc.stderr)

    def test_key_stored_hashed(self):
        key = h.create_key(self.db, "hashed-" + h.uid())
        if self.backend == "sqlite":
            contents = b""
            for suffix in ("", "-wal"):
                path = self.db.url + suffix
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        contents += f.read()
            self.assertNotIn(key.encode(), contents)
        else:
            pg_dump = shutil.which("pg_dump")
            if pg_dump is None:
                self.skipTest("pg_dump is not installed")
            dump = subprocess.run([pg_dump, "-d", self.db.url], capture_output=True, text=True,
                                  timeout=60)
            self.assertEqual(dump.returncode, 0, dump.stderr)
            self.assertNotIn(key, dump.stdout)

    def test_list_with_empty_database(self):
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        proc = h.run_cli(["apikey", "list", "--database", db.url])
        self.assertEqual(proc.returncode, 0, proc.stderr)


class StartUp(h.BackendCase):

    def test_log_names_address(self):
        server, _ = self.new_server()
        self.assertIn(server.address, server.log())

    def test_log_names_version(self):
        server, _ = self.new_server()
        self.assertIn(project_version(), server.log())

    def test_log_names_database(self):
        server, _ = self.new_server()
        expected = server.database.pg_name or server.database.url
        self.assertIn(expected, server.log())

    def password_url(self, database, port=None):
        """Return the PostgreSQL URL of `database` with a password that trust auth ignores."""
        parts = urllib.parse.urlsplit(database.url)
        netloc = f"{parts.username}:pw-{self.secret}@{parts.hostname}:{port or parts.port}"
        return urllib.parse.urlunsplit(parts._replace(netloc=netloc))

    def test_database_password_not_logged(self):
        if self.backend != "postgres":
            self.skipTest("only a PostgreSQL URL carries a password")
        self.secret = h.uid()
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        db.url = self.password_url(db)
        server, keys = self.new_server(database=db, keys=[("k", False)])
        h.Client(server.port, key=keys["k"]).request("GET", "/customers")
        self.assertEqual(server.stop(), 0)
        self.assertNotIn(self.secret, server.log())

    def test_password_not_in_connect_error(self):
        if self.backend != "postgres":
            self.skipTest("only a PostgreSQL URL carries a password")
        self.secret = h.uid()
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        url = self.password_url(db, port=h.free_port())
        proc = h.run_cli(["serve", "--database", url, "--listen",
                          f"127.0.0.1:{h.free_port()}"], timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertNotIn(self.secret, proc.stdout + proc.stderr)
        proc = h.run_cli(["apikey", "list", "--database", url], timeout=60)
        self.assertNotEqual(proc.returncode, 0)
        self.assertNotIn(self.secret, proc.stdout + proc.stderr)

    def test_threads_option(self):
        server, keys = self.new_server(extra_args=["--threads", "1"], keys=[("k", False)])
        reply = h.Client(server.port, key=keys["k"]).request("GET", "/customers")
        self.assertEqual(reply.status, 200)

    def test_port_in_use_fails(self):
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        with socket.socket() as blocker:
            blocker.bind(("127.0.0.1", 0))
            blocker.listen(1)
            port = blocker.getsockname()[1]
            proc = h.run_cli(["serve", "--database", db.url, "--listen", f"127.0.0.1:{port}"],
                             timeout=30)
        self.assertNotEqual(proc.returncode, 0)

    def test_bad_listen_fails(self):
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        proc = h.run_cli(["serve", "--database", db.url, "--listen", "not-an-address"],
                         timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("not-an-address", proc.stdout + proc.stderr)

    def test_unusable_database_fails(self):
        if self.backend == "sqlite":
            database = "/nonexistent-" + h.uid() + "/cmf.db"
        else:
            database = f"postgresql://postgres@127.0.0.1:{h.free_port()}/nope"
        proc = h.run_cli(["serve", "--database", database, "--listen",
                          f"127.0.0.1:{h.free_port()}"], timeout=60)
        self.assertNotEqual(proc.returncode, 0)


class _Prepend:
    """A binary stream that returns `first` as its first line, then reads from `stream`."""

    def __init__(self, first, stream):
        self.first = first
        self.stream = stream

    def readline(self):
        if self.first is not None:
            line, self.first = self.first, None
            return line
        return self.stream.readline()

    def read(self, size=-1):
        return self.stream.read(size)


class Restart(h.BackendCase):

    def test_data_survives_restart(self):
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        server, keys = self.new_server(database=db, keys=[("k", False)])
        client = h.Client(server.port, key=keys["k"])
        created = client.request("POST", "/customers", {"firstname": "durable"}).data
        self.assertEqual(server.stop(), 0)
        again, _ = self.new_server(database=db)
        reply = h.Client(again.port, key=keys["k"]).request("GET", f"/customers/{created['id']}")
        self.assertEqual(reply.status, 200)
        self.assertEqual(reply.data, created)

    def test_ids_not_reused_after_restart(self):
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        server, keys = self.new_server(database=db, keys=[("k", False)])
        client = h.Client(server.port, key=keys["k"])
        customer = client.request("POST", "/customers", {}).data
        activity = client.request("POST", "/activities", {"customerId": customer["id"],
                                                          "type": "t"}).data
        group = client.request("POST", "/segment-groups", {"name": "g"}).body
        segment = client.request("POST", "/segments", {"name": "s", "group": group["id"]}).body
        client.request("DELETE", f"/customers/{customer['id']}")
        client.request("DELETE", f"/segment-groups/{group['id']}")
        self.assertEqual(server.stop(), 0)

        again, _ = self.new_server(database=db)
        client = h.Client(again.port, key=keys["k"])
        customer2 = client.request("POST", "/customers", {}).data
        activity2 = client.request("POST", "/activities", {"customerId": customer2["id"],
                                                           "type": "t"}).data
        group2 = client.request("POST", "/segment-groups", {"name": "g"}).body
        segment2 = client.request("POST", "/segments", {"name": "s", "group": group2["id"]}).body
        self.assertGreater(customer2["id"], customer["id"])
        self.assertGreater(activity2["id"], activity["id"])
        self.assertGreater(group2["id"], group["id"])
        self.assertGreater(segment2["id"], segment["id"])


class Signals(h.BackendCase):

    def start(self):
        server, keys = self.new_server(keys=[("k", False)])
        return server, keys["k"]

    def test_sigterm_exits_0(self):
        server, key = self.start()
        self.assertEqual(h.Client(server.port, key=key).request("GET", "/customers").status, 200)
        self.assertEqual(server.stop(signal.SIGTERM), 0)

    def test_sigint_exits_0(self):
        server, key = self.start()
        self.assertEqual(h.Client(server.port, key=key).request("GET", "/customers").status, 200)
        self.assertEqual(server.stop(signal.SIGINT), 0)

    def test_shutdown_logged(self):
        server, _ = self.start()
        before = len(server.log())
        self.assertEqual(server.stop(signal.SIGTERM), 0)
        self.assertRegex(server.log()[before:], r"(?i)shut|stop")

    def in_flight(self, signum):
        """Start a request, send `signum` while its body is still arriving, then finish it;
        return the reply and the exit code."""
        server, key = self.start()
        body = b'{"firstname": "in flight", "city": "' + b"x" * 200 + b'"}'
        request = h.raw_request_bytes("POST", h.PREFIX + "/customers", key=key, body=body)
        split = len(request) - 100
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(request[:split])
            time.sleep(0.5)
            server.send_signal(signum)
            time.sleep(0.5)
            sock.sendall(request[split:])
            try:
                reply = h.read_response(sock.makefile("rb"))
            except ConnectionError as e:
                server.wait()
                self.fail(f"the server closed the connection of a request whose body was still "
                          f"arriving when the signal came ({e})")
        return reply, server.wait()

    def test_sigterm_finishes_response(self):
        server, key = self.start()
        client = h.Client(server.port, key=key, keep_alive=True)
        cid = client.request("POST", "/customers", {}).data["id"]
        for i in range(1000):
            client.request("POST", "/activities", {"customerId": cid, "type": "big",
                                                   "attributes": {"pad": "p" * 1000, "i": i}})
        client.close()
        request = h.raw_request_bytes("GET", h.PREFIX + "/activities?pageSize=1000", key=key)
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(request)
            stream = sock.makefile("rb")
            status_line = stream.readline()
            server.send_signal(signal.SIGTERM)
            time.sleep(0.5)
            status, headers, body = h.read_response(_Prepend(status_line, stream))
        self.assertEqual(status, 200)
        self.assertEqual(len(h.parse_json(body.decode())["data"]), 1000)
        self.assertEqual(server.wait(), 0)

    def test_sigterm_waits_for_body(self):
        (status, headers, body), code = self.in_flight(signal.SIGTERM)
        self.assertEqual(status, 201)
        self.assertEqual(h.parse_json(body.decode())["data"]["firstname"], "in flight")
        self.assertEqual(code, 0)

    def test_sigint_waits_for_body(self):
        (status, headers, body), code = self.in_flight(signal.SIGINT)
        self.assertEqual(status, 201)
        self.assertEqual(code, 0)

    def test_sigterm_during_short_body_answers_or_stores_nothing(self):
        db = self.new_database()
        server, keys = self.new_server(database=db, keys=[("k", False)])
        body = b'{"firstname": "late arrival!"}'
        self.assertEqual(len(body), 30)
        request = h.raw_request_bytes("POST", h.PREFIX + "/customers", key=keys["k"], body=body)
        split = len(request) - 20
        reply = None
        with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
            sock.sendall(request[:split])
            time.sleep(0.2)
            server.send_signal(signal.SIGTERM)
            time.sleep(1)
            try:
                sock.sendall(request[split:])
                reply = h.read_response(sock.makefile("rb"))
            except (ConnectionError, OSError):
                pass
        self.assertEqual(server.wait(), 0)

        if reply is not None and reply[0] == 201:
            return
        # Without a 201 the request must not have been executed.
        again, _ = self.new_server(database=db)
        client = h.Client(again.port, key=keys["k"])
        names = [c.get("firstname") for c in client.request("GET", "/customers").data]
        self.assertNotIn("late arrival!", names, f"stored, but the reply was {reply}")

    def test_access_log_line(self):
        server, key = self.start()
        h.Client(server.port, key=key).request("GET", "/customers?pageSize=7")
        log = server.wait_for_log("/customers?pageSize=7")
        lines = [line for line in log.splitlines() if "/customers?pageSize=7" in line]
        self.assertEqual(len(lines), 1, log)
        self.assertIn("GET", lines[0])
        self.assertIn("200", lines[0])


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
