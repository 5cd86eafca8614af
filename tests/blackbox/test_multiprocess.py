"""Two `cmfd serve` processes on one PostgreSQL database: the store rules hold across them, a
revoked key is refused by both, and a client that syncs through both never misses a change.

Runs only for the postgres backend: two processes cannot share an SQLite store's sync clock.
"""

import subprocess
import threading
import time
import unittest

import cmfd_harness as h
from test_sync import Mirror, Writer, describe_difference

ROUNDS = 15          # races per uniqueness test
WRITE_SECONDS = 4.0  # how long the writers of the sync test run
KEY_CACHE_SECONDS = 1  # how long each server keeps a key it found


class AlternatingClient:
    """Sends each request to the next server in turn, like a load balancer."""

    def __init__(self, clients):
        self.clients = clients
        self.next = 0

    def request(self, *args, **kwargs):
        client = self.clients[self.next]
        self.next = (self.next + 1) % len(self.clients)
        return client.request(*args, **kwargs)

    def close(self):
        for client in self.clients:
            client.close()


class TwoProcesses(h.BackendCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        if cls.backend != "postgres":
            raise unittest.SkipTest("two cmfd processes share a database only on PostgreSQL; "
                                    "run with CMFD_TEST_BACKENDS=postgres")
        cls.db = cls.new_database()
        cls.key = h.create_key(cls.db, "writer")
        cls.servers = []
        for _ in range(2):
            server = h.Server(cls.db, extra_args=["--pool-size", "4"],
                              config_text=f"[api_keys]\ncache_seconds = {KEY_CACHE_SECONDS}\n")
            cls.addClassCleanup(server.kill)
            cls.addClassCleanup(server.stop)
            server.start()
            cls.servers.append(server)
        cls.clients = [h.Client(server.port, key=cls.key) for server in cls.servers]

    def race(self, method, path, body):
        """Send the same request to both servers at once; return both replies."""
        barrier = threading.Barrier(2)
        replies = [None, None]

        def send(i):
            client = h.Client(self.servers[i].port, key=self.key)
            barrier.wait()
            replies[i] = client.request(method, path, body)

        threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        return replies

    def test_segment_reference_race_makes_one_row(self):
        group = self.clients[0].request("POST", "/segment-groups", {"name": "race"}).body
        for i in range(ROUNDS):
            with self.subTest(round=i):
                replies = self.race("POST", "/segments",
                                    {"name": f"s{i}", "group": group["id"], "reference": f"r{i}"})
                self.assertEqual(sorted(r.status for r in replies), [200, 409],
                                 [r.raw[:300] for r in replies])
                conflict = [r for r in replies if r.status == 409][0]
                self.assertEqual(conflict.msg, f"duplicate segment - segment with reference "
                                               f"'r{i}' already exists in this group")
        listed = self.clients[1].request("GET", "/segments",
                                         query={"group": group["id"], "pageSize": 1000})
        self.assertEqual(len(listed.data), ROUNDS)

    def test_external_id_race_makes_one_row(self):
        customer = self.clients[0].request("POST", "/customers", {"firstname": "race"}).data
        for i in range(ROUNDS):
            with self.subTest(round=i):
                replies = self.race("POST", "/activities", {"customerId": customer["id"],
                                                            "type": "order", "a_id": f"o{i}"})
                self.assertEqual(sorted(r.status for r in replies), [200, 201],
                                 [r.raw[:300] for r in replies])
                self.assertEqual(replies[0].data["id"], replies[1].data["id"])
        listed = self.clients[1].request("GET", "/activities",
                                         query={"customerId": customer["id"], "pageSize": 1000})
        self.assertEqual(listed.body["totalPages"], 1)
        self.assertEqual(len(listed.data), ROUNDS)

    def test_revoked_key_is_refused_by_both(self):
        key = h.create_key(self.db, "short-lived")
        for server in self.servers:
            reply = h.Client(server.port, key=key).request("GET", "/customers")
            self.assertEqual(reply.status, 200, reply.raw[:300])

        proc = h.run_cli(["apikey", "revoke", "short-lived", "--database", self.db.url])
        self.assertEqual(proc.returncode, 0, proc.stderr)
        # Each process may serve the key from its cache until the entry expires.
        time.sleep(KEY_CACHE_SECONDS + 0.2)

        for server in self.servers:
            reply = h.Client(server.port, key=key).request("GET", "/customers")
            self.assertEqual(reply.status, 403, reply.raw[:300])
            self.assertEqual(reply.msg, h.FORBIDDEN_MSG)

    def test_mirror_through_both_converges(self):
        stop = threading.Event()
        writers = [Writer(server.port, self.key, stop, seed)
                   for seed, server in enumerate(self.servers)]
        mirror = Mirror(self.servers[0].port, self.key)
        mirror.client.close()
        mirror.client = AlternatingClient([h.Client(server.port, key=self.key, keep_alive=True)
                                           for server in self.servers])
        for writer in writers:
            writer.start()
        deadline = time.monotonic() + WRITE_SECONDS
        while time.monotonic() < deadline:
            mirror.round()
        stop.set()
        for writer in writers:
            writer.join(60)
            self.assertFalse(writer.is_alive(), "a writer did not stop")
        mirror.round()
        mirror.client.close()

        problems = mirror.problems + [p for w in writers for p in w.problems]
        self.assertEqual(problems[:10], [])
        self.assertGreaterEqual(mirror.rounds, 3)

        def full_listing(path):
            rows = []
            page = 1
            while True:
                reply = self.clients[1].request("GET", path,
                                                query={"page": page, "pageSize": 1000})
                self.assertEqual(reply.status, 200, reply.raw[:300])
                rows += reply.data
                if page >= reply.body["totalPages"]:
                    return {row["id"]: row["modificationDate"] for row in rows}
                page += 1

        customers = full_listing("/customers")
        activities = full_listing("/activities")
        self.assertEqual(mirror.customers, customers,
                         describe_difference("customers", mirror.customers, customers))
        self.assertEqual(mirror.activities, activities,
                         describe_difference("activities", mirror.activities, activities))


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
