"""`cmfd copy` from an SQLite file to a PostgreSQL database: every row arrives with its id and
dates, API keys keep working, new ids continue after the copied and the deleted ones, and a
non-empty target is refused without a change.

Runs only for the postgres backend (the target).
"""

import unittest

import cmfd_harness as h

CONFIG = """
[[customer.fields]]
name = "customerNumber"
type = "string"
unique = true
"""


class CopyCommand(h.BackendCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.backend != "postgres":
            raise unittest.SkipTest("cmfd copy is tested into PostgreSQL; run with "
                                    "CMFD_TEST_BACKENDS=postgres")

    def fill_source(self):
        """Start a server on a new SQLite file, write one of everything, stop it, and return
        (database, key, config path, {path: body} of what the source served)."""
        source = h.Database("sqlite")
        self.addCleanup(source.drop)
        server, keys = self.new_server(database=source, config_text=CONFIG,
                                       keys=[("shop", False)])
        client = h.Client(server.port, key=keys["shop"])

        def call(method, path, body=None, status=200):
            reply = client.request(method, path, body)
            self.assertEqual(reply.status, status, reply.raw[:300])
            return reply

        ada = call("POST", "/customers", {"firstname": "Ada", "email": "ada@example.com",
                                          "customerNumber": "C-1"}, 201).data
        bob = call("POST", "/customers", {"firstname": "Bob"}, 201).data
        gone = call("POST", "/customers", {"firstname": "Gone"}, 201).data
        group = call("POST", "/segment-groups", {"name": "tiers", "reference": "t"}).body
        segment = call("POST", "/segments", {"name": "gold", "group": group["id"]}).body
        call("POST", "/segments-of-customers", {"customerId": ada["id"],
                                                "addSegments": [segment["id"]]})
        call("POST", "/activities", {"customerId": ada["id"], "type": "order", "a_id": "o-1",
                                     "attributes": {"total": 1.50}}, 201)
        doomed = call("POST", "/activities", {"customerId": bob["id"], "type": "visit"}, 201).data
        call("POST", "/activities", {"customerId": gone["id"], "type": "visit"}, 201)
        call("DELETE", f"/activities/{doomed['id']}", status=204)
        call("DELETE", f"/customers/{gone['id']}", status=204)

        served = {}
        for path in ("/customers?includeActivities=true", "/activities", "/segment-groups",
                     "/segments", "/deletions?entityType=customers",
                     "/deletions?entityType=activities"):
            served[path] = call("GET", path).body["data"]
        server.stop()
        return source, keys["shop"], server.config_path, served

    def test_copy_keeps_rows_ids_and_keys(self):
        source, key, config, served = self.fill_source()
        target = h.Database("postgres")
        self.addCleanup(target.drop)

        proc = h.run_cli(["copy", "--from", source.url, "--to", target.url, "--config", config])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        for line in ("customers: 2", "segment groups: 1", "segments: 1",
                     "segment assignments: 1", "activities: 1", "deletions: 3", "API keys: 1"):
            self.assertIn(line, proc.stdout.splitlines())

        # The same key works on the copy, and every list is the same, dates included.
        server, _ = self.new_server(database=target, config_text=CONFIG)
        client = h.Client(server.port, key=key)
        for path, rows in served.items():
            with self.subTest(path=path):
                reply = client.request("GET", path)
                self.assertEqual(reply.status, 200, reply.raw[:300])
                self.assertEqual(reply.body["data"], rows)

        # New ids follow the highest ever handed out, the deleted ones included.
        customer = client.request("POST", "/customers", {"firstname": "New"})
        self.assertEqual(customer.status, 201, customer.raw[:300])
        highest = max([c["id"] for c in served["/customers?includeActivities=true"]] +
                      [d["id"] for d in served["/deletions?entityType=customers"]])
        self.assertEqual(customer.data["id"], highest + 1)
        activity = client.request("POST", "/activities", {"customerId": customer.data["id"],
                                                          "type": "visit"})
        highest_activity = max([a["id"] for a in served["/activities"]] +
                               [d["id"] for d in served["/deletions?entityType=activities"]])
        self.assertEqual(activity.data["id"], highest_activity + 1)

        # The unique extra field came along with its index.
        clash = client.request("POST", "/customers", {"customerNumber": "C-1"})
        self.assertEqual(clash.status, 409, clash.raw[:300])

    def test_copy_without_config_keeps_extra_fields(self):
        source, key, _, served = self.fill_source()
        target = h.Database("postgres")
        self.addCleanup(target.drop)

        proc = h.run_cli(["copy", "--from", source.url, "--to", target.url])
        self.assertEqual(proc.returncode, 0, proc.stderr)

        # The copy declared no field, yet a server that declares it finds the values.
        server, _ = self.new_server(database=target, config_text=CONFIG)
        client = h.Client(server.port, key=key)
        path = "/customers?includeActivities=true"
        reply = client.request("GET", path)
        self.assertEqual(reply.status, 200, reply.raw[:300])
        self.assertEqual(reply.body["data"], served[path])
        numbers = [c.get("customerNumber") for c in reply.body["data"]]
        self.assertIn("C-1", numbers)

    def test_non_empty_target_is_refused(self):
        source, _, config, _ = self.fill_source()
        target = h.Database("postgres")
        self.addCleanup(target.drop)
        h.create_key(target, "existing")

        proc = h.run_cli(["copy", "--from", source.url, "--to", target.url, "--config", config])
        self.assertEqual(proc.returncode, 1)
        self.assertIn("not empty", proc.stderr)
        self.assertIn("API keys", proc.stderr)

        # Nothing was written: the target still has only its own key.
        listed = h.run_cli(["apikey", "list", "--database", target.url])
        self.assertEqual(listed.returncode, 0, listed.stderr)
        self.assertIn("existing", listed.stdout)
        self.assertNotIn("shop", listed.stdout)

    def test_missing_source_is_an_error(self):
        target = h.Database("postgres")
        self.addCleanup(target.drop)
        proc = h.run_cli(["copy", "--from", "/nonexistent/cmf.db", "--to", target.url])
        self.assertEqual(proc.returncode, 1)
        self.assertIn("/nonexistent/cmf.db does not exist", proc.stderr)


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
