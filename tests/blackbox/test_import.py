"""`cmfd import`: files of request bodies loaded without a server, then read through the API.

The first import into an empty database takes the store's bulk path. On SQLite, that path
rebuilds the indexes and counting triggers at the end. A second import into the same database
takes the row-by-row path. Both must leave totals, per-type counts and segment member counts
that the list endpoints read exactly, and report bad lines by number without stopping.
"""

import json
import os
import sqlite3
import unittest

import cmfd_harness as h


def write_lines(folder, name, lines):
    path = os.path.join(folder, name)
    with open(path, "w", encoding="utf-8") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


class ImportCase(h.BackendCase):

    def setUp(self):
        self.db = self.new_database()
        self.key = h.create_key(self.db, "writer")

    # ---- helpers ----

    def start_server(self):
        server = h.Server(self.db)
        self.addCleanup(server.kill)
        server.start()
        client = h.Client(server.port, key=self.key)
        self.addCleanup(client.close)
        return server, client

    def create_segments(self, count):
        server, client = self.start_server()
        group = client.request("POST", "/segment-groups", {"name": "imported"})
        self.assertEqual(group.status, 200, group.raw)
        ids = []
        for n in range(count):
            segment = client.request("POST", "/segments",
                                     {"name": f"s{n}", "group": group.body["id"]})
            self.assertEqual(segment.status, 200, segment.raw)
            ids.append(segment.body["id"])
        server.stop()
        return ids

    def run_import(self, *args):
        return h.run_cli(["import", "--database", self.db.url] + list(args), timeout=120)

    def total(self, client, path, **query):
        """The number of matching rows: totalPages of pages of one row."""
        reply = client.request("GET", path, query=list(query.items()) + [("pageSize", 1)])
        self.assertEqual(reply.status, 200, reply.raw)
        return reply.body["totalPages"]

    def import_sample(self, segments, first_id=1):
        """Imports 4 customers (ids first_id..first_id+3; one bad line), activities with an
        a_id update, an unknown customer and a bad line, and assignments with an unknown
        segment. Returns the completed process."""
        c = [first_id + n for n in range(4)]
        folder = self.db.folder
        customers = write_lines(folder, f"customers-{first_id}.ndjson", [
            {"firstname": "A", "email": f"a{first_id}@example.com"},
            {"firstname": "B", "email": f"b{first_id}@example.com"},
            '{"firstname": ',
            {"firstname": "C"},
            {"firstname": "D", "profilingConsent": True},
        ])
        activities = write_lines(folder, f"activities-{first_id}.ndjson", [
            {"customerId": c[0], "type": "order", "activityDate": 500, "a_id": "o-1"},
            {"customerId": c[0], "type": "login", "activityDate": 100},
            {"customerId": c[1], "type": "order", "activityDate": 300},
            {"customerId": 999999, "type": "order", "activityDate": 10},
            {"customerId": c[2], "type": "login", "activityDate": 50},
            {"customerId": c[0], "type": "order", "activityDate": 700, "a_id": "o-1"},
            {"type": "order"},
            {"customerId": c[3], "type": "cancellation", "activityDate": 20},
        ])
        assignments = write_lines(folder, f"assignments-{first_id}.ndjson", [
            {"customerId": c[0], "addSegments": [segments[0], segments[1]]},
            {"customerId": c[1], "addSegments": [segments[0]]},
            {"customerId": c[2], "addSegments": [segments[1], 4242]},
            {"customerId": c[0], "removeSegments": [segments[0]]},
        ])
        proc = self.run_import("--customers", customers, "--activities", activities,
                               "--assignments", assignments, "--batch", "3")
        return proc, (customers, activities, assignments)

    def assert_sample_report(self, proc, paths):
        customers, activities, assignments = paths
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("customers: " + customers + ": 5 lines, 4 created, 1 rejected", proc.stdout)
        self.assertIn("activities: " + activities + ": 8 lines, 5 created, 1 updated, 2 rejected",
                      proc.stdout)
        self.assertIn("assignments: " + assignments + ": 4 lines, 3 applied, 1 rejected",
                      proc.stdout)
        self.assertIn("total: 13 records written, 4 lines rejected", proc.stdout)
        # Bad lines by file and number, in line order.
        self.assertIn(customers + ":3: ", proc.stderr)
        self.assertIn(activities + ":4: customer with ID 999999 was not found", proc.stderr)
        self.assertIn(activities + ":7: ", proc.stderr)
        self.assertIn(assignments + ":3: unknown segment ID: 4242", proc.stderr)
        self.assertLess(proc.stderr.index(activities + ":4:"), proc.stderr.index(activities + ":7:"))

    # ---- tests ----

    def test_empty_database_exact_totals(self):
        segments = self.create_segments(2)
        proc, paths = self.import_sample(segments)
        self.assert_sample_report(proc, paths)

        if self.backend == "sqlite":
            with sqlite3.connect(self.db.url) as conn:
                names = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
            self.assertNotIn("import_deferred", names)
            for index in ("activities_date", "activities_type", "customers_email"):
                self.assertIn(index, names)

        server, client = self.start_server()
        self.assertEqual(self.total(client, "/customers"), 4)
        self.assertEqual(self.total(client, "/activities"), 5)
        self.assertEqual(self.total(client, "/activities", type="order"), 2)
        self.assertEqual(self.total(client, "/activities", type="login,cancellation"), 3)
        self.assertEqual(self.total(client, "/customers", segments=str(segments[0])), 1)
        self.assertEqual(self.total(client, "/customers", segments=str(segments[1])), 1)
        self.assertEqual(self.total(client, "/customers", email="B1@example.com"), 1)

        # The a_id update kept one activity with the later date; pages come in date order.
        reply = client.request("GET", "/activities", query=[("pageSize", 10)])
        self.assertEqual([a["activityDate"] for a in reply.data], [20, 50, 100, 300, 700])

        # Writes after the import keep the counts.
        created = client.request("POST", "/activities",
                                 {"customerId": 2, "type": "order", "activityDate": 1})
        self.assertEqual(created.status, 201, created.raw)
        self.assertEqual(self.total(client, "/activities", type="order"), 3)
        self.assertEqual(client.request("DELETE", "/customers/4").status, 204)
        self.assertEqual(self.total(client, "/customers"), 3)
        self.assertEqual(self.total(client, "/activities"), 5)
        server.stop()

        # A second import into the used database adds to the same counts.
        proc, paths = self.import_sample(segments, first_id=5)
        self.assert_sample_report(proc, paths)
        server, client = self.start_server()
        self.assertEqual(self.total(client, "/customers"), 7)
        self.assertEqual(self.total(client, "/activities"), 10)
        self.assertEqual(self.total(client, "/activities", type="order"), 5)
        self.assertEqual(self.total(client, "/customers", segments=str(segments[0])), 2)
        server.stop()

    def test_strict_exits_3_keeps_valid_lines(self):
        customers = write_lines(self.db.folder, "customers.ndjson", [
            {"firstname": "A"}, {"firstname": 7}, {"firstname": "C"}])
        proc = self.run_import("--customers", customers, "--strict")
        self.assertEqual(proc.returncode, 3, proc.stderr)
        self.assertIn(customers + ":2: ", proc.stderr)
        server, client = self.start_server()
        self.assertEqual(self.total(client, "/customers"), 2)
        server.stop()

    def test_missing_file_exits_1(self):
        customers = write_lines(self.db.folder, "customers.ndjson", [{"firstname": "A"}])
        proc = self.run_import("--customers", customers,
                               "--activities", os.path.join(self.db.folder, "missing.ndjson"))
        self.assertEqual(proc.returncode, 1)
        self.assertIn("activities import stopped", proc.stderr)
        server, client = self.start_server()
        self.assertEqual(self.total(client, "/customers"), 1)
        created = client.request("POST", "/activities",
                                 {"customerId": 1, "type": "order", "activityDate": 1})
        self.assertEqual(created.status, 201, created.raw)
        self.assertEqual(self.total(client, "/activities", type="order"), 1)
        server.stop()

    def test_nothing_to_import_exits_2(self):
        proc = self.run_import()
        self.assertEqual(proc.returncode, 2)


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
