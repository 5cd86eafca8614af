"""API keys: where a key may travel, what missing, unknown, revoked and read-only keys get,
and that no key is ever written to the log."""

import socket
import time
import unittest

import cmfd_harness as h

GET_ROUTES = ["/customers", "/activities", "/segments", "/segment-groups",
              "/deletions?entityType=customers"]


class KeyTransport(h.ServerCase):

    def test_header(self):
        self.expect(self.get("/customers", key=None, headers={"X-API-Key": self.key}), 200)

    def test_header_lower_case(self):
        self.expect(self.get("/customers", key=None, headers={"x-api-key": self.key}), 200)

    def test_header_upper_case(self):
        self.expect(self.get("/customers", key=None, headers={"X-API-KEY": self.key}), 200)

    def test_query_apikey(self):
        self.expect(self.get("/customers", key=None, query={"apikey": self.key}), 200)

    def test_query_apiKey(self):
        self.expect(self.get("/customers", key=None, query={"apiKey": self.key}), 200)

    def test_query_with_other_parameters(self):
        reply = self.get("/customers", key=None, query={"pageSize": 1, "apikey": self.key,
                                                        "page": 1})
        self.expect(reply, 200)

    def test_query_key_for_write(self):
        reply = self.post("/customers", {"firstname": "query"}, key=None,
                          query={"apikey": self.key})
        self.expect(reply, 201)


    def raw_get(self, header_value):
        """GET /customers with the X-API-Key header line written byte for byte."""
        request = (f"GET {h.PREFIX}/customers?pageSize=1 HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                   f"X-API-Key: {header_value}\r\nConnection: close\r\n\r\n")
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as sock:
            sock.sendall(request.encode("latin-1"))
            return h.read_response(sock.makefile("rb"))

    def test_header_surrounding_whitespace_ignored(self):
        for value in (self.key + "  ", self.key + "\t", " \t" + self.key + " \t "):
            with self.subTest(value=repr(value)):
                status, _, body = self.raw_get(value)
                self.assertEqual(status, 200, body)

    def test_header_whitespace_inside_key_counts(self):
        status, _, _ = self.raw_get(self.key[:5] + " " + self.key[5:])
        self.assertEqual(status, 403)


class KeyRejection(h.ServerCase):

    def test_missing_key(self):
        for path in GET_ROUTES:
            with self.subTest(path=path):
                self.assert_error(self.get(path, key=None), 403, msg=h.FORBIDDEN_MSG)

    def test_missing_key_on_write(self):
        reply = self.post("/customers", {"firstname": "x"}, key=None)
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_missing_key_segments_of_customers(self):
        reply = self.post("/segments-of-customers", {"customerId": 1}, key=None)
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_unknown_key(self):
        reply = self.get("/customers", key="unknown-" + h.uid())
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_unknown_key_in_query(self):
        reply = self.get("/customers", key=None, query={"apikey": "unknown-" + h.uid()})
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_empty_key(self):
        reply = self.get("/customers", key="")
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_empty_query_key(self):
        reply = self.get("/customers?apikey=", key=None)
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_key_with_extra_character(self):
        reply = self.get("/customers", key=self.key + "x")
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_key_prefix(self):
        reply = self.get("/customers", key=self.key[:-1])
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_rejected_write_creates_nothing(self):
        name = "nokey-" + h.uid()
        self.post("/customers", {"firstname": name}, key=None)
        rows, _ = self.list_all("/customers")
        self.assertNotIn(name, [row["firstname"] for row in rows])


class ReadOnlyKey(h.ServerCase):

    def test_reads_allowed(self):
        customer = self.new_customer()
        paths = GET_ROUTES + [f"/customers/{customer['id']}"]
        for path in paths:
            with self.subTest(path=path):
                self.expect(self.get(path, key=self.ro_key), 200)

    def test_create_forbidden(self):
        reply = self.post("/customers", {"firstname": "ro"}, key=self.ro_key)
        self.assert_error(reply, 403, contains=[self.ro_key_name])

    def test_writes_forbidden(self):
        customer = self.new_customer()
        activity = self.new_activity(customer["id"])
        group = self.new_group()
        segment = self.new_segment(group["id"])
        cases = [
            ("POST", "/customers", {}), ("PUT", "/customers", {}),
            ("PATCH", f"/customers/{customer['id']}", {"city": "x"}),
            ("PUT", f"/customers/{customer['id']}", {"city": "x"}),
            ("POST", f"/customers/{customer['id']}", {"city": "x"}),
            ("DELETE", f"/customers/{customer['id']}", None),
            ("POST", "/activities", {"customerId": customer["id"], "type": "t"}),
            ("PATCH", f"/activities/{activity['id']}", {"type": "t2"}),
            ("DELETE", f"/activities/{activity['id']}", None),
            ("POST", "/segment-groups", {"name": "g"}),
            ("PATCH", f"/segment-groups/{group['id']}", {"name": "g2"}),
            ("DELETE", f"/segment-groups/{group['id']}", None),
            ("POST", "/segments", {"name": "s", "group": group["id"]}),
            ("PATCH", f"/segments/{segment['id']}", {"name": "s2"}),
            ("DELETE", f"/segments/{segment['id']}", None),
            ("POST", "/segments-of-customers", {"customerId": customer["id"],
                                                "addSegments": [segment["id"]]}),
            ("PUT", "/segments-of-customers", {"customerId": customer["id"]}),
        ]
        for method, path, body in cases:
            with self.subTest(method=method, path=path):
                reply = self.request(method, path, body, key=self.ro_key)
                self.assert_error(reply, 403, contains=[self.ro_key_name])

    def test_forbidden_write_changes_nothing(self):
        customer = self.new_customer(city="before")
        self.patch(f"/customers/{customer['id']}", {"city": "after"}, key=self.ro_key)
        self.delete(f"/customers/{customer['id']}", key=self.ro_key)
        after = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        self.assertEqual(after, customer)

    def test_health_public(self):
        self.expect(self.get("/health", key=self.ro_key), 200)


class KeyLifecycle(h.ServerCase):
    """A server keeps the keys it found for `[api_keys] cache_seconds`, so a key revoked by
    another process stops working within that time."""

    CACHE_SECONDS = 1
    config_text = f"[api_keys]\ncache_seconds = {CACHE_SECONDS}\n"

    def revoke(self, name):
        proc = h.run_cli(["apikey", "revoke", name, "--database", self.db.url])
        self.assertEqual(proc.returncode, 0, proc.stderr)

    def wait_past_cache_lifetime(self):
        time.sleep(self.CACHE_SECONDS + 0.2)

    def test_created_while_running(self):
        name = "late-" + h.uid()
        key = h.create_key(self.db, name)
        self.expect(self.get("/customers", key=key), 200)

    def test_revoke_takes_effect(self):
        name = "revoked-" + h.uid()
        key = h.create_key(self.db, name)
        self.expect(self.get("/customers", key=key), 200)
        self.revoke(name)
        self.wait_past_cache_lifetime()
        self.assert_error(self.get("/customers", key=key), 403, msg=h.FORBIDDEN_MSG)

    def test_revoke_keeps_other_keys(self):
        name = "revoked-" + h.uid()
        h.create_key(self.db, name)
        self.revoke(name)
        self.expect(self.get("/customers"), 200)

    def test_revoked_read_only_key(self):
        name = "revoked-ro-" + h.uid()
        key = h.create_key(self.db, name, read_only=True)
        self.expect(self.get("/customers", key=key), 200)
        self.revoke(name)
        self.wait_past_cache_lifetime()
        self.assert_error(self.get("/customers", key=key), 403, msg=h.FORBIDDEN_MSG)

    def test_unknown_key_then_created(self):
        # A failed lookup is not remembered: the key works as soon as it exists.
        self.assert_error(self.get("/customers", key="0" * 64), 403, msg=h.FORBIDDEN_MSG)
        name = "after-miss-" + h.uid()
        key = h.create_key(self.db, name)
        self.expect(self.get("/customers", key=key), 200)

    def test_read_only_scope_from_cli(self):
        name = "scoped-" + h.uid()
        key = h.create_key(self.db, name, read_only=True)
        self.assert_error(self.post("/customers", {}, key=key), 403, contains=[name])

    def test_keys_differ(self):
        a = h.create_key(self.db, "a-" + h.uid())
        b = h.create_key(self.db, "b-" + h.uid())
        self.assertNotEqual(a, b)

    def test_list_never_prints_key(self):
        name = "listed-" + h.uid()
        key = h.create_key(self.db, name)
        proc = h.run_cli(["apikey", "list", "--database", self.db.url])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        output = proc.stdout + proc.stderr
        self.assertIn(name, output)
        self.assertIn(self.key_name, output)
        self.assertNotIn(key, output)
        self.assertNotIn(self.key, output)
        self.assertNotIn(self.ro_key, output)


class KeyLifecycleWithoutCache(h.ServerCase):
    """With `cache_seconds = 0` every request looks its key up, so a revocation is
    effective from the next request."""

    config_text = "[api_keys]\ncache_seconds = 0\n"

    def test_revoke_takes_effect_at_once(self):
        name = "revoked-" + h.uid()
        key = h.create_key(self.db, name)
        self.expect(self.get("/customers", key=key), 200)
        proc = h.run_cli(["apikey", "revoke", name, "--database", self.db.url])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assert_error(self.get("/customers", key=key), 403, msg=h.FORBIDDEN_MSG)


class KeyNotLogged(h.ServerCase):

    def test_query_key_redacted(self):
        self.expect(self.get("/customers?apikey=" + self.key + "&pageSize=3", key=None), 200)
        marker = "/customers?apikey=REDACTED&pageSize=3"
        log = self.server.wait_for_log(marker)
        self.assertIn(marker, log)
        self.assertNotIn(self.key, log)

    def test_query_apiKey_redacted(self):
        self.expect(self.get("/segments?pageSize=2&apiKey=" + self.key, key=None), 200)
        log = self.server.wait_for_log("/segments?pageSize=2&apiKey=REDACTED")
        self.assertIn("REDACTED", log)
        self.assertNotIn(self.key, log)

    def test_header_key_not_logged(self):
        self.expect(self.get("/segment-groups?pageSize=4"), 200)
        log = self.server.wait_for_log("/segment-groups?pageSize=4")
        self.assertIn("/segment-groups?pageSize=4", log)
        self.assertNotIn(self.key, log)

    def test_rejected_key_not_logged(self):
        bogus = "bogus" + h.uid() + h.uid()
        self.assert_error(self.get("/activities?apikey=" + bogus, key=None), 403)
        self.assert_error(self.get("/activities?pageSize=5", key=bogus), 403)
        log = self.server.wait_for_log("/activities?pageSize=5")
        self.assertIn("/activities?pageSize=5", log)
        self.assertNotIn(bogus, log)

    def test_read_only_key_not_logged(self):
        self.expect(self.get("/customers?apikey=" + self.ro_key + "&page=1", key=None), 200)
        self.post("/customers?apikey=" + self.ro_key, {}, key=None)
        log = self.server.wait_for_log("/customers?apikey=REDACTED&page=1")
        self.assertNotIn(self.ro_key, log)

    def test_secret_parameters_redacted(self):
        secret = "s3cret" + h.uid() + h.uid()
        queries = [f"api_key={secret}", f"api-key={secret}", f"access_token={secret}",
                   f"client_secret={secret}", f"password={secret}", f"pageSize=6;apikey={secret}",
                   f"apikey%3D{secret}", f"API_KEY%3d{secret}", f"x=1&token[]={secret}"]
        for query in queries:
            with self.subTest(query=query):
                marker = f"/customers?{query}"
                self.get(marker, key=None)
                redacted_marker = marker.replace(secret, "REDACTED")
                log = self.server.wait_for_log(redacted_marker)
                self.assertIn(redacted_marker, log)
                self.assertNotIn(secret, log)

    def test_long_target_cut_in_log(self):
        filler = "f" * 60000
        self.expect(self.get(f"/customers?pageSize=1&q={filler}&apikey={self.key}", key=None),
                    200)
        log = self.server.wait_for_log(" bytes)")
        lines = [line for line in log.splitlines() if "/customers?pageSize=1&q=fff" in line]
        self.assertTrue(lines, "no access-log line for the long request")
        self.assertLess(len(lines[-1]), 2048 + 200)
        self.assertRegex(lines[-1], r"f\.\.\.\(\d+ bytes\)")
        self.assertNotIn(self.key, log)

    def test_access_log_line(self):
        path = "/customers/987654321"
        self.assert_error(self.get(path), 404)
        log = self.server.wait_for_log(h.PREFIX + path)
        lines = [line for line in log.splitlines() if h.PREFIX + path in line]
        self.assertTrue(lines, "no access-log line names the path")
        self.assertIn("GET", lines[-1])
        self.assertIn("404", lines[-1])


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
