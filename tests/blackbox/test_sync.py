"""The sync guarantee: a client that passes each response's `timestamp` back as the since-filter
never misses a change, even while writers run and within the same second."""

import random
import threading
import time
import unittest

import cmfd_harness as h

WRITE_SECONDS = 4.0      # how long the writers run
WRITERS = 2              # concurrent writer threads, each with its own customers
MAX_CUSTOMERS = 400      # per writer; creates turn into updates beyond this
MAX_ACTIVITIES = 400     # per writer
# The mirror pages through every delta with this size. Offset paging can skip a row when a
# row on an earlier page is deleted between two page reads, which the contract does not rule
# out. So deltas stay within one page in practice, because a round gets far fewer changes.
PAGE_SIZE = 1000


class Writer(threading.Thread):
    """Creates, updates and deletes its own customers and activities until `stop` is set.
    Every status other than the expected one is recorded in `problems`."""

    def __init__(self, port, key, stop, seed):
        super().__init__(daemon=True)
        self.client = h.Client(port, key=key, keep_alive=True)
        self.stop_event = stop
        self.random = random.Random(seed)
        self.customers = []
        self.activities = {}  # activity id -> customer id
        self.created_customers = 0
        self.created_activities = 0
        self.operations = 0
        self.problems = []

    def check(self, reply, status, what):
        if reply.status != status:
            self.problems.append(f"{what}: expected {status}, got {reply!r}")
            return False
        return True

    def create_customer(self):
        reply = self.client.request("POST", "/customers", {"firstname": "w" + h.uid()})
        if self.check(reply, 201, "create customer"):
            self.customers.append(reply.data["id"])
            self.created_customers += 1

    def update_customer(self):
        cid = self.random.choice(self.customers)
        reply = self.client.request("PATCH", f"/customers/{cid}", {"city": h.uid()})
        self.check(reply, 200, f"update customer {cid}")

    def delete_customer(self):
        cid = self.customers.pop(self.random.randrange(len(self.customers)))
        reply = self.client.request("DELETE", f"/customers/{cid}")
        self.check(reply, 204, f"delete customer {cid}")
        for aid in [a for a, c in self.activities.items() if c == cid]:
            del self.activities[aid]

    def create_activity(self):
        cid = self.random.choice(self.customers)
        # Random activityDates make later inserts land on earlier positions of the list.
        reply = self.client.request("POST", "/activities", {
            "customerId": cid, "type": "sync", "activityDate": self.random.randrange(1, 10**9),
            "attributes": {"n": self.operations}})
        if self.check(reply, 201, f"create activity for {cid}"):
            self.activities[reply.data["id"]] = cid
            self.created_activities += 1

    def update_activity(self):
        aid = self.random.choice(list(self.activities))
        reply = self.client.request("PATCH", f"/activities/{aid}",
                                    {"attributes": {"u": self.operations}})
        self.check(reply, 200, f"update activity {aid}")

    def delete_activity(self):
        aid = self.random.choice(list(self.activities))
        del self.activities[aid]
        reply = self.client.request("DELETE", f"/activities/{aid}")
        self.check(reply, 204, f"delete activity {aid}")

    def step(self):
        roll = self.random.random()
        if not self.customers or (roll < 0.25 and self.created_customers < MAX_CUSTOMERS):
            self.create_customer()
        elif roll < 0.50:
            self.update_customer()
        elif roll < 0.58 and len(self.customers) > 5:
            self.delete_customer()
        elif roll < 0.78 and self.created_activities < MAX_ACTIVITIES:
            self.create_activity()
        elif roll < 0.93 and self.activities:
            self.update_activity()
        elif self.activities:
            self.delete_activity()
        else:
            self.update_customer()

    def run(self):
        try:
            while not self.stop_event.is_set():
                self.step()
                self.operations += 1
        except Exception as e:  # reported by the test, which cannot see this thread's errors
            self.problems.append(f"writer failed: {e!r}")
        finally:
            self.client.close()


class Mirror:
    """A client-side copy of customers and activities (id -> modificationDate), kept up to
    date with the four since-filters the way a CMF client does it."""

    def __init__(self, port, key):
        self.client = h.Client(port, key=key, keep_alive=True)
        self.customers = {}
        self.activities = {}
        self.deleted_customers = set()
        self.deleted_activities = set()
        self.since = {"customers": None, "activities": None, "deleted customers": None,
                      "deleted activities": None}
        self.rounds = 0
        self.problems = []

    def fetch_pages(self, path, query):
        """Return every row of a paged list and the timestamp of its first page."""
        rows = []
        first_timestamp = None
        page = 1
        while True:
            q = dict(query)
            q.update({"page": page, "pageSize": PAGE_SIZE})
            reply = self.client.request("GET", path, query=q)
            if reply.status != 200:
                self.problems.append(f"GET {path} {q}: {reply!r}")
                return rows, first_timestamp
            if first_timestamp is None:
                first_timestamp = reply.body["timestamp"]
            rows += reply.data
            if page >= reply.body["totalPages"]:
                return rows, first_timestamp
            page += 1

    def fetch_deletions(self, entity_type):
        query = {"entityType": entity_type}
        since = self.since["deleted " + entity_type]
        if since is not None:
            query["deletionsSinceTimestamp"] = since
        reply = self.client.request("GET", "/deletions", query=query)
        if reply.status != 200:
            self.problems.append(f"GET /deletions {query}: {reply!r}")
            return []
        self.since["deleted " + entity_type] = reply.body["timestamp"]
        return [row["id"] for row in reply.data]

    def round(self):
        query = {}
        if self.since["customers"] is not None:
            query["modificationTimestamp"] = self.since["customers"]
        rows, stamp = self.fetch_pages("/customers", query)
        if stamp is not None:
            self.since["customers"] = stamp
        for row in rows:
            if row["id"] not in self.deleted_customers:
                self.customers[row["id"]] = row["modificationDate"]

        query = {}
        if self.since["activities"] is not None:
            query["modifiedSinceTimestamp"] = self.since["activities"]
        rows, stamp = self.fetch_pages("/activities", query)
        if stamp is not None:
            self.since["activities"] = stamp
        for row in rows:
            if row["id"] not in self.deleted_activities:
                self.activities[row["id"]] = row["modificationDate"]

        for cid in self.fetch_deletions("customers"):
            self.deleted_customers.add(cid)
            self.customers.pop(cid, None)
        for aid in self.fetch_deletions("activities"):
            self.deleted_activities.add(aid)
            self.activities.pop(aid, None)
        self.rounds += 1


def describe_difference(name, mirror, truth):
    missing = sorted(set(truth) - set(mirror))
    extra = sorted(set(mirror) - set(truth))
    stale = sorted(i for i in set(truth) & set(mirror) if truth[i] != mirror[i])
    return (f"{name}: {len(missing)} missing {missing[:10]}, {len(extra)} extra {extra[:10]}, "
            f"{len(stale)} stale {[(i, mirror[i], truth[i]) for i in stale[:10]]}")


class SyncGuarantee(h.ServerCase):

    def full_listing(self, path):
        rows, _ = self.list_all(path, page_size=1000)
        return {row["id"]: row["modificationDate"] for row in rows}

    def test_mirror_converges(self):
        seed_client = h.Client(self.server.port, key=self.key, keep_alive=True)
        for _ in range(20):
            cid = seed_client.request("POST", "/customers", {"firstname": "seed"}).data["id"]
            seed_client.request("POST", "/activities", {"customerId": cid, "type": "seed"})
        seed_client.close()

        stop = threading.Event()
        writers = [Writer(self.server.port, self.key, stop, seed) for seed in range(WRITERS)]
        mirror = Mirror(self.server.port, self.key)
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
        self.assertGreaterEqual(sum(w.operations for w in writers), 20)

        customers = self.full_listing("/customers")
        activities = self.full_listing("/activities")
        self.assertEqual(mirror.customers, customers,
                         describe_difference("customers", mirror.customers, customers))
        self.assertEqual(mirror.activities, activities,
                         describe_difference("activities", mirror.activities, activities))

    def test_same_second_customer_update(self):
        customer = self.new_customer()
        for i in range(20):
            with self.subTest(round=i):
                since = self.expect(self.get("/customers", query={"pageSize": 1}),
                                    200).body["timestamp"]
                self.expect(self.patch(f"/customers/{customer['id']}", {"city": f"c{i}"}), 200)
                rows, _ = self.list_all("/customers", query={"modificationTimestamp": since})
                self.assertIn(customer["id"], [row["id"] for row in rows])

    def test_same_second_customer_create(self):
        for i in range(10):
            with self.subTest(round=i):
                since = self.expect(self.get("/customers", query={"pageSize": 1}),
                                    200).body["timestamp"]
                customer = self.new_customer()
                rows, _ = self.list_all("/customers", query={"modificationTimestamp": since})
                self.assertIn(customer["id"], [row["id"] for row in rows])

    def test_delta_timestamp_from_delta(self):
        customer = self.new_customer()
        since = self.expect(self.get("/customers", query={"pageSize": 1}), 200).body["timestamp"]
        for i in range(10):
            with self.subTest(round=i):
                self.expect(self.patch(f"/customers/{customer['id']}", {"zip": str(i)}), 200)
                reply = self.expect(self.get("/customers", query={
                    "modificationTimestamp": since, "pageSize": 1000}), 200)
                self.assertIn(customer["id"], [row["id"] for row in reply.data])
                since = reply.body["timestamp"]

    def test_same_second_activity_update(self):
        cid = self.new_customer()["id"]
        activity = self.new_activity(cid)
        for i in range(10):
            with self.subTest(round=i):
                since = self.expect(self.get("/activities", query={"pageSize": 1}),
                                    200).body["timestamp"]
                self.expect(self.patch(f"/activities/{activity['id']}", {"attributes": {"i": i}}),
                            200)
                rows, _ = self.list_all("/activities", query={"modifiedSinceTimestamp": since,
                                                              "customerId": cid})
                self.assertIn(activity["id"], [row["id"] for row in rows])

    def test_same_second_deletion(self):
        for entity_type in ("customers", "activities"):
            for i in range(5):
                with self.subTest(entity_type=entity_type, round=i):
                    customer = self.new_customer()
                    activity = self.new_activity(customer["id"])
                    since = self.expect(self.get("/deletions",
                                                 query={"entityType": entity_type}),
                                        200).body["timestamp"]
                    if entity_type == "customers":
                        doomed = customer["id"]
                        self.expect(self.delete(f"/customers/{doomed}"), 204)
                    else:
                        doomed = activity["id"]
                        self.expect(self.delete(f"/activities/{doomed}"), 204)
                    rows = self.expect(self.get("/deletions", query={
                        "entityType": entity_type, "deletionsSinceTimestamp": since}), 200).data
                    self.assertIn(doomed, [row["id"] for row in rows])

    def test_segment_change_seen(self):
        group = self.new_group()
        segment = self.new_segment(group["id"])
        customer = self.new_customer()
        since = self.expect(self.get("/customers", query={"pageSize": 1}), 200).body["timestamp"]
        self.set_segments(customer["id"], add=[segment["id"]])
        rows, _ = self.list_all("/customers", query={"modificationTimestamp": since})
        self.assertIn(customer["id"], [row["id"] for row in rows])


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
