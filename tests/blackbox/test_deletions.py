"""The deletions feed: parameters, filters, order, paged and streamed bodies."""

import math
import threading
import unittest

import cmfd_harness as h

ITEM_KEYS = ["id", "entityType", "type", "creationDate"]


class DeletionParameters(h.ServerCase):

    def test_entity_type_missing(self):
        reply = self.get("/deletions")
        self.assert_error(reply, 400, msg="parameter entityType is required")

    def test_entity_type_empty(self):
        reply = self.get("/deletions?entityType=")
        self.assert_error(reply, 400, msg="parameter entityType is required")

    def test_entity_type_invalid(self):
        for value in ("customer", "Customers", "segments", "x"):
            with self.subTest(value=value):
                reply = self.get("/deletions", query={"entityType": value})
                self.assert_error(reply, 400, msg="entityType must be activities or customers")

    def test_since_invalid(self):
        for value in ("abc", "-1", "99999999999999999999"):
            with self.subTest(value=value):
                reply = self.get("/deletions", query={"entityType": "customers",
                                                      "deletionsSinceTimestamp": value})
                self.assert_error(reply, 400, contains=["deletionsSinceTimestamp", value,
                                                        "9223372036854775807"])

    def test_entity_type_invalid_utf8(self):
        reply = self.get("/deletions?entityType=%FF%FE")
        self.assert_error(reply, 400, msg="entityType must be activities or customers")

    def test_page_invalid(self):
        for value in ("0", "99999999999999999999"):
            with self.subTest(value=value):
                reply = self.get("/deletions", query={"entityType": "customers", "page": value})
                self.assert_error(reply, 400, contains=["page", value])

    def test_page_size_invalid(self):
        reply = self.get("/deletions", query={"entityType": "customers", "pageSize": "1001"})
        self.assert_error(reply, 400, contains=["pageSize"])


class DeletionFeed(h.ServerCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Five deleted customers, deleted in descending id order, and a deleted activity.
        client = cls.client
        ids = [client.request("POST", "/customers", {}).data["id"] for _ in range(5)]
        for cid in reversed(ids):
            client.request("DELETE", f"/customers/{cid}")
        cls.customer_ids = ids
        keeper = client.request("POST", "/customers", {}).data["id"]
        activity = client.request("POST", "/activities",
                                  {"customerId": keeper, "type": "feed-type"}).data
        client.request("DELETE", f"/activities/{activity['id']}")
        cls.activity_id = activity["id"]

    def feed(self, entity_type, **query):
        query["entityType"] = entity_type
        return self.expect(self.get("/deletions", query=query), 200)

    def test_unpaged_keys(self):
        reply = self.feed("customers")
        self.assertEqual(list(reply.body), ["data", "success", "timestamp"])

    def test_unpaged_values(self):
        reply = self.feed("customers")
        self.assertIs(reply.body["success"], True)
        self.assertIsInstance(reply.body["timestamp"], int)

    def test_item_keys(self):
        for row in self.feed("customers").data + self.feed("activities").data:
            self.assertEqual(list(row), ITEM_KEYS)

    def test_customer_rows(self):
        rows = self.feed("customers").data
        self.assertEqual(sorted(row["id"] for row in rows), self.customer_ids)
        for row in rows:
            self.assertEqual(row["entityType"], "customers")
            self.assertEqual(row["type"], "")

    def test_activity_row(self):
        rows = self.feed("activities").data
        self.assertEqual([row["id"] for row in rows], [self.activity_id])
        self.assertEqual(rows[0]["type"], "feed-type")
        self.assertEqual(rows[0]["entityType"], "activities")

    def test_order(self):
        rows = self.feed("customers").data
        keys = [(row["creationDate"], row["id"]) for row in rows]
        self.assertEqual(keys, sorted(keys))

    def test_since_inclusive(self):
        rows = self.feed("customers").data
        latest = max(row["creationDate"] for row in rows)
        since = self.feed("customers", deletionsSinceTimestamp=latest).data
        expected = [row for row in rows if row["creationDate"] >= latest]
        self.assertEqual(since, expected)
        self.assertTrue(since)

    def test_since_later(self):
        rows = self.feed("customers").data
        latest = max(row["creationDate"] for row in rows)
        self.assertEqual(self.feed("customers", deletionsSinceTimestamp=latest + 1).data, [])

    def test_since_zero(self):
        self.assertEqual(self.feed("customers", deletionsSinceTimestamp=0).data,
                         self.feed("customers").data)

    def test_paged_keys(self):
        reply = self.feed("customers", page=1, pageSize=2)
        self.assertEqual(list(reply.body), ["page", "totalPages", "data", "success",
                                            "timestamp"])

    def test_paged_values(self):
        reply = self.feed("customers", page=2, pageSize=2)
        self.assertEqual(reply.body["page"], 2)
        self.assertEqual(reply.body["totalPages"], math.ceil(5 / 2))
        self.assertIs(reply.body["success"], True)
        self.assertEqual(len(reply.data), 2)

    def test_paged_by_page_size_only(self):
        reply = self.feed("customers", pageSize=2)
        self.assertEqual(list(reply.body), ["page", "totalPages", "data", "success",
                                            "timestamp"])
        self.assertEqual(reply.body["page"], 1)

    def test_empty_page_is_unpaged(self):
        reply = self.get("/deletions?entityType=customers&page=&pageSize=")
        self.expect(reply, 200)
        self.assertEqual(list(reply.body), ["data", "success", "timestamp"])

    def test_paged_by_page_only(self):
        reply = self.feed("customers", page=1)
        self.assertEqual(list(reply.body), ["page", "totalPages", "data", "success",
                                            "timestamp"])

    def test_pages_match_unpaged(self):
        everything = self.feed("customers").data
        paged = []
        for page in (1, 2, 3):
            paged += self.feed("customers", page=page, pageSize=2).data
        self.assertEqual(paged, everything)

    def test_page_past_end(self):
        reply = self.feed("customers", page=9, pageSize=2)
        self.assertEqual(reply.data, [])
        self.assertEqual(reply.body["page"], 9)
        self.assertEqual(reply.body["totalPages"], 3)

    def test_empty_feed_paged(self):
        reply = self.feed("customers", page=1, pageSize=2, deletionsSinceTimestamp=4000000000)
        self.assertEqual(reply.data, [])
        self.assertEqual(reply.body["totalPages"], 0)

    def test_read_only_key(self):
        reply = self.get("/deletions?entityType=customers", key=self.ro_key)
        self.expect(reply, 200)


class LargeFeed(h.ServerCase):
    """A few thousand activity deletions from one customer delete, read unpaged."""

    COUNT = 3000

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        client = h.Client(cls.server.port, key=cls.key, keep_alive=True)
        cid = client.request("POST", "/customers", {}).data["id"]
        cls.ids = []
        for i in range(cls.COUNT):
            reply = client.request("POST", "/activities",
                                   {"customerId": cid, "type": f"bulk-{i % 7}",
                                    "attributes": {"n": i, "pad": "x" * 40}})
            cls.ids.append(reply.data["id"])
        client.request("DELETE", f"/customers/{cid}")
        client.close()

    def test_unpaged_complete(self):
        reply = self.expect(self.get("/deletions?entityType=activities"), 200)
        self.assertIsNone(reply.json_error)
        self.assertEqual(sorted(row["id"] for row in reply.data), sorted(self.ids))

    def test_unpaged_body_shape(self):
        reply = self.expect(self.get("/deletions?entityType=activities"), 200)
        self.assertEqual(list(reply.body), ["data", "success", "timestamp"])
        self.assertIs(reply.body["success"], True)

    def test_unpaged_order(self):
        rows = self.expect(self.get("/deletions?entityType=activities"), 200).data
        keys = [(row["creationDate"], row["id"]) for row in rows]
        self.assertEqual(keys, sorted(keys))

    def test_types_kept(self):
        rows = self.expect(self.get("/deletions?entityType=activities"), 200).data
        by_id = {row["id"]: row["type"] for row in rows}
        for i, activity_id in enumerate(self.ids[:50]):
            self.assertEqual(by_id[activity_id], f"bulk-{i % 7}")

    def test_paged_equals_unpaged(self):
        everything = self.expect(self.get("/deletions?entityType=activities"), 200).data
        paged = []
        for page in range(1, 4):
            paged += self.expect(self.get("/deletions", query={"entityType": "activities",
                                                               "page": page,
                                                               "pageSize": 1000}), 200).data
        self.assertEqual(paged, everything)

    def test_concurrent_readers(self):
        results = []

        def read():
            reply = h.Client(self.server.port, key=self.key).request(
                "GET", "/deletions?entityType=activities")
            results.append((reply.status, len(reply.data) if reply.status == 200 else None))

        threads = [threading.Thread(target=read) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        self.assertEqual(results, [(200, self.COUNT)] * 4)


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
