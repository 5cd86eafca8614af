"""HTTP layer: routing, status order, prefixes, bodies, error envelopes, ids, pipelining."""

import socket
import unittest

import cmfd_harness as h

COLLECTIONS = ["/customers", "/activities", "/segments", "/segment-groups"]
ITEM_NAMES = {
    "/customers": "Customer",
    "/activities": "Activity",
    "/segments": "Segment",
    "/segment-groups": "Segment group",
}
BAD_IDS = ["abc", "0", "-1", "99999999999999999999999", "12abc", "999999999"]


class Routing(h.ServerCase):

    def test_unknown_route_404(self):
        reply = self.get("/nope")
        self.assert_error(reply, 404)

    def test_unknown_route_json_body(self):
        reply = self.get("/nope")
        self.assertIsNone(reply.json_error)
        self.assertIs(reply.body.get("success"), False)

    def test_unknown_route_outside_prefix(self):
        reply = self.get("/customers", prefix="")
        self.assert_error(reply, 404)

    def test_unknown_subpath_404(self):
        customer = self.new_customer()
        reply = self.get(f"/customers/{customer['id']}/extra")
        self.assert_error(reply, 404)

    def test_wrong_method_405(self):
        cases = [
            ("DELETE", "/customers", {"GET", "POST", "PUT"}),
            ("PATCH", "/customers", {"GET", "POST", "PUT"}),
            ("DELETE", "/activities", {"GET", "POST", "PUT"}),
            ("DELETE", "/segments", {"GET", "POST", "PUT"}),
            ("DELETE", "/segment-groups", {"GET", "POST", "PUT"}),
            ("POST", "/deletions", {"GET"}),
            ("GET", "/segments-of-customers", {"POST", "PUT"}),
            ("DELETE", "/segments-of-customers", {"POST", "PUT"}),
            ("POST", "/health", {"GET", "HEAD"}),
            ("HEAD", "/segments-of-customers", {"POST", "PUT"}),
            ("OPTIONS", "/customers", {"GET", "POST", "PUT"}),
            ("OPTIONS", "/customers/1", {"GET", "POST", "PUT", "PATCH", "DELETE"}),
        ]
        for method, path, allowed in cases:
            with self.subTest(method=method, path=path):
                reply = self.request(method, path)
                self.assert_error(reply, 405)
                allow = reply.headers.get("Allow")
                self.assertIsNotNone(allow, "405 without an Allow header")
                methods = {m.strip() for m in allow.split(",")}
                self.assertLessEqual(allowed, methods)
                self.assertNotIn(method, methods)

    def test_item_route_allows_update_methods(self):
        customer = self.new_customer()
        for method in ("PATCH", "PUT", "POST"):
            with self.subTest(method=method):
                reply = self.request(method, f"/customers/{customer['id']}", {"city": method})
                self.expect(reply, 200)

    def test_health_without_key(self):
        for prefix in (h.PREFIX, h.ALT_PREFIX):
            with self.subTest(prefix=prefix):
                reply = self.get("/health", key=None, prefix=prefix)
                self.expect(reply, 200)

    def test_unknown_query_parameter_ignored(self):
        reply = self.get("/customers?foo=bar&pageSize=1")
        self.expect(reply, 200)

    def test_empty_query_value_is_absent(self):
        reply = self.get("/customers?page=&pageSize=&modificationTimestamp=")
        self.expect(reply, 200)
        self.assertEqual(reply.body["page"], 1)

    def test_empty_query_values_other_lists(self):
        paths = ["/customers?segments=&email=&includeActivities=",
                 "/activities?customerId=&type=&modifiedSinceTimestamp=&page=",
                 "/segments?group=&pageSize=", "/segment-groups?page=",
                 "/deletions?entityType=customers&deletionsSinceTimestamp="]
        for path in paths:
            with self.subTest(path=path):
                self.expect(self.get(path), 200)


class OddInput(h.ServerCase):
    """Nothing a client sends may produce a 5xx or stop the server."""

    def test_odd_paths_and_queries(self):
        paths = ["/customers/%FF", "/customers/%ZZ", "/customers/%00", "/customers?page=%ZZ",
                 "/customers?email=%00", "/customers?email=%FF%FE", "/customers?" + "x=1&" * 2000,
                 "/customers/" + "9" * 5000, "/" + "a/" * 200, "/customers?segments=,,,",
                 "/customers?segments=1,,2", "/activities?type=,", "/customers?%=1&=2&&",
                 "/activities?type=%FF%FE", "/activities?type=a%00b", "/customers?email=a%00b",
                 "/deletions?entityType=%FF"]
        for path in paths:
            with self.subTest(path=path[:60]):
                reply = self.get(path)
                self.assertLess(reply.status, 500, reply)
        self.expect(self.get("/health"), 200)

    def test_odd_bodies(self):
        deep = "[" * 100000 + "]" * 100000
        cid = self.new_customer()["id"]
        cases = [
            ("/customers", '{"firstname": ' + deep + '}'),
            ("/customers", '{"firstname": 1e999}'),
            ("/customers", '{"firstname": "a\\u0000b"}'),
            ("/customers", '{"firstname": "\\ud800"}'),
            ("/customers", '{"birthdate": "9999-99-99"}'),
            ("/customers", '{"active": 1e999}'),
            ("/activities", '{"customerId": %d, "type": "t", "attributes": {"d": %s}}'
             % (cid, deep)),
            ("/activities", '{"customerId": %d, "type": "t", "attributes": {"n": 1e999}}' % cid),
            ("/activities", '{"customerId": 99999999999999999999999, "type": "t"}'),
            ("/activities", '{"customerId": %d, "type": "t", "activityDate": 99999999999999999}'
             % cid),
            ("/activities", '{"customerId": %d, "type": "t", "activityDate": -99999999999999}'
             % cid),
            ("/segments", '{"name": "s", "group": 99999999999999999999999}'),
            ("/segments-of-customers", '{"customerId": %d, "addSegments": [%s]}'
             % (cid, ",".join(["99999999999999999999"] * 3))),
            ("/segments-of-customers", '{"customerId": %d, "addSegments": [%s]}'
             % (cid, ",".join(str(i) for i in range(1, 5000)))),
        ]
        for path, raw in cases:
            with self.subTest(path=path, body=raw[:60]):
                reply = self.request("POST", path, raw_body=raw.encode())
                self.assertLess(reply.status, 500, reply)
        self.expect(self.get("/health"), 200)

    def test_nul_character_rejected(self):
        """A string with U+0000 is rejected with a 400 naming each such field, on every
        backend, because PostgreSQL would cut it short."""
        cid = self.new_customer()["id"]
        group = self.new_group()
        cases = [
            ("/customers", {"firstname": "a\u0000b", "city": "c\u0000"}, ["firstname", "city"]),
            ("/activities", {"customerId": cid, "type": "t\u0000x", "a_id": "q\u0000r"},
             ["type", "a_id"]),
            ("/segment-groups", {"name": "g\u0000h", "reference": "r\u0000"},
             ["name", "reference"]),
            ("/segments", {"name": "s\u0000t", "group": group["id"]}, ["name"]),
        ]
        for path, body, keys in cases:
            with self.subTest(path=path):
                reply = self.post(path, body)
                self.assert_error(reply, 400, contains=keys + ["NUL"])

    def test_odd_headers(self):
        cases = [{"X-API-Key": "x" * 8000}, {"X-API-Key": self.key + " "},
                 {"Content-Length": "0"}, {"X-Other": "tab\there"}]
        for headers in cases:
            with self.subTest(headers=str(headers)[:60]):
                reply = self.request("GET", "/customers", key=None, headers=headers)
                self.assertLess(reply.status, 500, reply)


def read_head_response(stream):
    """Read the status line and headers of a response that has no body; return (status,
    headers dict with lower-case names)."""
    status = int(stream.readline().decode("latin-1").split(" ", 2)[1])
    headers = {}
    while True:
        line = stream.readline()
        if line in (b"\r\n", b"\n", b""):
            return status, headers
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()


class Head(h.ServerCase):

    def head_then_get(self, path, key):
        """Send HEAD and then GET for `path` on one connection; return both responses. The
        GET response is read right after the HEAD headers, so a HEAD body would break it."""
        target = h.PREFIX + path
        data = (h.raw_request_bytes("HEAD", target, key=key) +
                h.raw_request_bytes("GET", target, key=key, extra_headers=["Connection: close"]))
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as sock:
            sock.sendall(data)
            stream = sock.makefile("rb")
            head = read_head_response(stream)
            get = h.read_response(stream)
        return head, get

    def test_head_like_get(self):
        customer = self.new_customer()
        cases = [("/customers?pageSize=2", self.key), (f"/customers/{customer['id']}", self.key),
                 ("/deletions?entityType=customers", self.key), ("/health", None),
                 ("/customers", None), ("/customers/999999999", self.key),
                 ("/customers/abc", self.key)]
        for path, key in cases:
            with self.subTest(path=path, key=key is not None):
                (head_status, head_headers), (status, headers, body) = self.head_then_get(path, key)
                self.assertEqual(head_status, status)
                self.assertEqual(head_headers.get("content-type"), headers.get("content-type"))
                if "content-length" in head_headers:
                    self.assertEqual(int(head_headers["content-length"]), len(body))

    def test_head_needs_key(self):
        (status, _), _ = self.head_then_get("/customers", None)
        self.assertEqual(status, 403)

    def test_head_not_on_post_only_route(self):
        reply = self.request("HEAD", "/segments-of-customers")
        self.assertEqual(reply.status, 405)
        self.assertNotIn("HEAD", reply.headers.get("Allow"))


class StatusOrder(h.ServerCase):

    def test_unknown_route_before_method(self):
        reply = self.request("DELETE", "/nope", key=None)
        self.assert_error(reply, 404)

    def test_method_before_key(self):
        reply = self.request("DELETE", "/customers", key=None)
        self.assert_error(reply, 405)

    def test_method_before_bad_key(self):
        reply = self.request("DELETE", "/customers", key="not-a-key")
        self.assert_error(reply, 405)

    def test_key_before_unknown_id(self):
        reply = self.get("/customers/999999999", key=None)
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_key_before_non_numeric_id(self):
        reply = self.get("/customers/abc", key="not-a-key")
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_read_only_key_before_unknown_id(self):
        reply = self.patch("/customers/999999999", {"city": "x"}, key=self.ro_key)
        self.assert_error(reply, 403, contains=[self.ro_key_name])

    def test_unknown_id_before_bad_body(self):
        reply = self.request("PATCH", "/customers/999999999", raw_body="{")
        self.assert_error(reply, 404, msg="Customer with ID 999999999 was not found")

    def test_unknown_id_before_invalid_field(self):
        reply = self.patch("/customers/999999999", {"gender": "robot"})
        self.assert_error(reply, 404, msg="Customer with ID 999999999 was not found")

    def test_bad_body_before_conflict(self):
        reference = "ref-" + h.uid()
        self.new_group(reference=reference)
        reply = self.post("/segment-groups", {"reference": reference})
        self.assert_error(reply, 400, msg="name required")

    def test_conflict_after_valid_body(self):
        reference = "ref-" + h.uid()
        self.new_group(reference=reference)
        reply = self.post("/segment-groups", {"name": "second", "reference": reference})
        self.assert_error(reply, 409)

    def test_bad_query_is_400(self):
        reply = self.get("/customers?modificationTimestamp=abc")
        self.assert_error(reply, 400, contains=["modificationTimestamp", "abc"])


class TrailingSlash(h.ServerCase):

    def test_collection_get(self):
        reply = self.get("/customers/")
        self.expect(reply, 200)
        self.assertEqual(list(reply.body), h.LIST_KEYS)

    def test_collection_post(self):
        reply = self.post("/customers/", {"firstname": "slash"})
        self.expect(reply, 201)

    def test_item_get(self):
        customer = self.new_customer(firstname="slash")
        reply = self.get(f"/customers/{customer['id']}/")
        self.expect(reply, 200)
        self.assertEqual(reply.data["id"], customer["id"])

    def test_item_delete(self):
        customer = self.new_customer()
        reply = self.delete(f"/customers/{customer['id']}/")
        self.expect(reply, 204)

    def test_deletions(self):
        reply = self.get("/deletions/?entityType=customers")
        self.expect(reply, 200)

    def test_health(self):
        reply = self.get("/health/", key=None)
        self.expect(reply, 200)


class Prefixes(h.ServerCase):

    def test_lists_under_both(self):
        paths = COLLECTIONS + ["/deletions?entityType=customers",
                               "/deletions?entityType=activities"]
        for prefix in (h.PREFIX, h.ALT_PREFIX):
            for path in paths:
                with self.subTest(prefix=prefix, path=path):
                    self.expect(self.get(path, prefix=prefix), 200)

    def test_customer_crud_alt_prefix(self):
        p = h.ALT_PREFIX
        created = self.expect(self.post("/customers", {"firstname": "alt"}, prefix=p), 201).data
        path = f"/customers/{created['id']}"
        self.assertEqual(self.expect(self.get(path, prefix=p), 200).data["firstname"], "alt")
        updated = self.expect(self.patch(path, {"firstname": "alt2"}, prefix=p), 200).data
        self.assertEqual(updated["firstname"], "alt2")
        self.expect(self.delete(path, prefix=p), 204)
        self.assert_error(self.get(path, prefix=p), 404)

    def test_same_customer_both_prefixes(self):
        created = self.new_customer(firstname="both")
        path = f"/customers/{created['id']}"
        a = self.expect(self.get(path), 200).data
        b = self.expect(self.get(path, prefix=h.ALT_PREFIX), 200).data
        self.assertEqual(a, b)

    def test_item_routes_alt_prefix(self):
        customer = self.new_customer()
        activity = self.new_activity(customer["id"])
        group = self.new_group()
        segment = self.new_segment(group["id"])
        for path in (f"/activities/{activity['id']}", f"/segment-groups/{group['id']}",
                     f"/segments/{segment['id']}"):
            with self.subTest(path=path):
                self.expect(self.get(path, prefix=h.ALT_PREFIX), 200)

    def test_segments_of_customers_alt_prefix(self):
        customer = self.new_customer()
        group = self.new_group()
        segment = self.new_segment(group["id"])
        reply = self.post("/segments-of-customers",
                          {"customerId": customer["id"], "addSegments": [segment["id"]]},
                          prefix=h.ALT_PREFIX)
        self.expect(reply, 200)
        self.assertEqual(reply.body["segments"], [segment["id"]])

    def test_unknown_route_alt_prefix(self):
        self.assert_error(self.get("/nope", prefix=h.ALT_PREFIX), 404)

    def test_wrong_method_alt_prefix(self):
        reply = self.request("DELETE", "/customers", prefix=h.ALT_PREFIX)
        self.assert_error(reply, 405)

    def test_key_needed_alt_prefix(self):
        reply = self.get("/customers", key=None, prefix=h.ALT_PREFIX)
        self.assert_error(reply, 403, msg=h.FORBIDDEN_MSG)

    def test_links_use_cmf_prefix(self):
        created = self.expect(self.post("/customers", {}, prefix=h.ALT_PREFIX), 201).data
        self.assertEqual(created["_links"], [{"rel": "self",
                                              "href": f"/webservice/cmf/customers/{created['id']}",
                                              "method": "GET"}])


class Bodies(h.ServerCase):

    BAD_BODIES = [b"", b"   ", b"{", b'{"a":}', b"[1]", b"[]", b"null", b"42", b'"text"', b"true",
                  b"{}x", b"{} {}", b"\xff\xfe", b'{"firstname":"\xff"}', b"{'a':1}"]

    def test_bad_bodies_on_create(self):
        for raw in self.BAD_BODIES:
            with self.subTest(body=raw):
                reply = self.request("POST", "/customers", raw_body=raw)
                self.expect(reply, 400)
                self.assertTrue(str(reply.msg).startswith(h.INVALID_JSON_PREFIX), reply.msg)

    def test_malformed_body_names_offset(self):
        reply = self.request("POST", "/customers", raw_body=b'{"firstname": "x",, }')
        self.expect(reply, 400)
        self.assertTrue(reply.msg.startswith(h.INVALID_JSON_PREFIX), reply.msg)
        self.assertRegex(reply.msg[len(h.INVALID_JSON_PREFIX):], r"\d")

    def test_bad_bodies_on_every_write_route(self):
        customer = self.new_customer()
        activity = self.new_activity(customer["id"])
        group = self.new_group()
        segment = self.new_segment(group["id"])
        routes = [
            ("POST", "/customers"), ("PUT", "/customers"),
            ("PATCH", f"/customers/{customer['id']}"), ("PUT", f"/customers/{customer['id']}"),
            ("POST", f"/customers/{customer['id']}"),
            ("POST", "/activities"), ("PATCH", f"/activities/{activity['id']}"),
            ("POST", "/segment-groups"), ("PATCH", f"/segment-groups/{group['id']}"),
            ("POST", "/segments"), ("PATCH", f"/segments/{segment['id']}"),
            ("POST", "/segments-of-customers"), ("PUT", "/segments-of-customers"),
        ]
        for method, path in routes:
            for raw in (b"", b"{", b"[]", b"null"):
                with self.subTest(method=method, path=path, body=raw):
                    reply = self.request(method, path, raw_body=raw)
                    self.expect(reply, 400)
                    self.assertTrue(str(reply.msg).startswith(h.INVALID_JSON_PREFIX), reply.msg)

    def test_failed_update_changes_nothing(self):
        customer = self.new_customer(firstname="before")
        self.request("PATCH", f"/customers/{customer['id']}", raw_body=b'{"firstname":"after",')
        after = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        self.assertEqual(after, customer)

    def test_any_content_type(self):
        for content_type in ("text/plain", "application/x-www-form-urlencoded",
                             "application/octet-stream"):
            with self.subTest(content_type=content_type):
                reply = self.request("POST", "/customers", raw_body=b'{"firstname":"ct"}',
                                     headers={"Content-Type": content_type})
                self.expect(reply, 201)
                self.assertEqual(reply.data["firstname"], "ct")

    def test_body_of_exactly_1_mib(self):
        head = b'{"firstname":"big"'
        body = head + b" " * (1048576 - len(head) - 1) + b"}"
        self.assertEqual(len(body), 1048576)
        reply = self.request("POST", "/customers", raw_body=body)
        self.expect(reply, 201)
        self.assertEqual(reply.data["firstname"], "big")

    def test_body_one_byte_over_1_mib(self):
        head = b'{"firstname":"big"'
        body = head + b" " * (1048577 - len(head) - 1) + b"}"
        self.assertEqual(len(body), 1048577)
        status, headers, raw = h.send_oversized(self.server.port, h.PREFIX + "/customers",
                                                self.key, body)
        self.assertEqual(status, 413)

    def test_oversized_body_error_envelope(self):
        body = b"{" + b" " * (3 * 1048576) + b"}"
        status, headers, raw = h.send_oversized(self.server.port, h.PREFIX + "/customers",
                                                self.key, body)
        self.assertEqual(status, 413)
        parsed = h.parse_json(raw.decode())
        self.assertIs(parsed["success"], False)
        self.assertEqual(parsed["msg"], parsed["errors"][0])

    def test_oversized_body_creates_nothing(self):
        name = "huge-" + h.uid()
        head = f'{{"firstname":"{name}"'.encode()
        body = head + b" " * (1048577 - len(head) - 1) + b"}"
        h.send_oversized(self.server.port, h.PREFIX + "/customers", self.key, body)
        rows, _ = self.list_all("/customers")
        self.assertNotIn(name, [row["firstname"] for row in rows])

    def chunked_post(self, body, chunk_size=65536):
        """POST `body` with chunked transfer encoding; return the reply's status."""
        head = (f"POST {h.PREFIX}/customers HTTP/1.1\r\nHost: 127.0.0.1\r\n"
                f"X-API-Key: {self.key}\r\nTransfer-Encoding: chunked\r\n"
                f"Connection: close\r\n\r\n").encode()
        chunks = b"".join(b"%x\r\n" % len(body[i:i + chunk_size]) + body[i:i + chunk_size]
                          + b"\r\n" for i in range(0, len(body), chunk_size))
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=60) as sock:
            try:
                sock.sendall(head + chunks + b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError):
                pass
            return h.read_response(sock.makefile("rb"))[0]

    def test_chunked_body_accepted(self):
        self.assertEqual(self.chunked_post(b'{"firstname": "chunked"}'), 201)

    def test_chunked_body_at_limit(self):
        head = b'{"firstname":"big"'
        body = head + b" " * (1048576 - len(head) - 1) + b"}"
        self.assertEqual(self.chunked_post(body), 201)

    def test_chunked_body_over_limit(self):
        head = b'{"firstname":"big"'
        body = head + b" " * (1048577 - len(head) - 1) + b"}"
        self.assertEqual(self.chunked_post(body), 413)

    def test_server_alive_after_oversized(self):
        body = b"{" + b" " * (2 * 1048576) + b"}"
        h.send_oversized(self.server.port, h.PREFIX + "/customers", self.key, body)
        self.expect(self.get("/health"), 200)


class ErrorEnvelope(h.ServerCase):

    def error_replies(self):
        reference = "ref-" + h.uid()
        self.new_group(reference=reference)
        return {
            "404 route": self.get("/nope"),
            "405": self.request("DELETE", "/customers"),
            "403": self.get("/customers", key=None),
            "404 id": self.get("/customers/999999999"),
            "400 body": self.request("POST", "/customers", raw_body=b"{"),
            "400 field": self.post("/customers", {"gender": "robot"}),
            "400 query": self.get("/customers?page=0"),
            "409": self.post("/segment-groups", {"name": "g", "reference": reference}),
        }

    def test_success_false(self):
        for name, reply in self.error_replies().items():
            with self.subTest(case=name):
                self.assertIs(reply.body.get("success"), False, reply)

    def test_msg_equals_first_error(self):
        for name, reply in self.error_replies().items():
            with self.subTest(case=name):
                self.assertIsInstance(reply.body.get("errors"), list, reply)
                self.assertGreaterEqual(len(reply.body["errors"]), 1, reply)
                self.assertEqual(reply.body.get("msg"), reply.body["errors"][0])

    def test_msg_not_empty(self):
        for name, reply in self.error_replies().items():
            with self.subTest(case=name):
                self.assertTrue(reply.body.get("msg"), reply)

    def test_key_order(self):
        for name, reply in self.error_replies().items():
            with self.subTest(case=name):
                self.assertEqual(list(reply.body), h.ERROR_KEYS)

    def test_content_type_json(self):
        for name, reply in self.error_replies().items():
            with self.subTest(case=name):
                self.assertTrue(reply.headers.get("Content-Type", "").startswith(
                    "application/json"), reply.headers.get("Content-Type"))

    def test_every_problem_listed(self):
        reply = self.post("/customers", {"gender": "robot", "countryCode": "XX"})
        self.expect(reply, 400)
        self.assertEqual(len(reply.errors), 2, reply.errors)


class Ids(h.ServerCase):

    def test_bad_ids_get(self):
        for collection, name in ITEM_NAMES.items():
            for segment in BAD_IDS:
                with self.subTest(path=f"{collection}/{segment}"):
                    reply = self.get(f"{collection}/{segment}")
                    self.assert_error(reply, 404, msg=f"{name} with ID {segment} was not found")

    def test_bad_ids_delete(self):
        for collection, name in ITEM_NAMES.items():
            for segment in BAD_IDS:
                with self.subTest(path=f"{collection}/{segment}"):
                    reply = self.delete(f"{collection}/{segment}")
                    self.assert_error(reply, 404, msg=f"{name} with ID {segment} was not found")

    def test_bad_ids_update(self):
        for collection, name in ITEM_NAMES.items():
            for segment in BAD_IDS:
                for method in ("PATCH", "PUT", "POST"):
                    with self.subTest(method=method, path=f"{collection}/{segment}"):
                        reply = self.request(method, f"{collection}/{segment}", {"name": "x"})
                        self.assert_error(reply, 404,
                                          msg=f"{name} with ID {segment} was not found")


class Pipelining(h.ServerCase):

    def exchange(self, payload, count):
        with socket.create_connection(("127.0.0.1", self.server.port), timeout=30) as sock:
            sock.sendall(payload)
            stream = sock.makefile("rb")
            return [h.read_response(stream) for _ in range(count)]

    def test_pipelined_answered_in_order(self):
        ids = [111111101 + i for i in range(20)]
        payload = b"".join(h.raw_request_bytes("GET", f"{h.PREFIX}/customers/{n}", key=self.key)
                           for n in ids)
        replies = self.exchange(payload, len(ids))
        for n, (status, headers, body) in zip(ids, replies):
            with self.subTest(id=n):
                self.assertEqual(status, 404)
                self.assertEqual(h.parse_json(body.decode())["msg"],
                                 f"Customer with ID {n} was not found")

    def test_pipelined_mixed_methods(self):
        name = "pipe-" + h.uid()
        create = f'{{"firstname":"{name}"}}'.encode()
        payload = (h.raw_request_bytes("GET", f"{h.PREFIX}/customers/222222201", key=self.key)
                   + h.raw_request_bytes("POST", f"{h.PREFIX}/customers", key=self.key,
                                         body=create)
                   + h.raw_request_bytes("GET", f"{h.PREFIX}/customers/222222202", key=self.key)
                   + h.raw_request_bytes("GET", f"{h.PREFIX}/health"))
        replies = self.exchange(payload, 4)
        self.assertEqual([r[0] for r in replies], [404, 201, 404, 200])
        self.assertEqual(h.parse_json(replies[1][2].decode())["data"]["firstname"], name)
        self.assertIn("222222202", h.parse_json(replies[2][2].decode())["msg"])


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
