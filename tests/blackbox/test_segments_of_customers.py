"""POST/PUT /segments-of-customers: adding and removing segments of one customer."""

import unittest

import cmfd_harness as h


class SegmentsOfCustomers(h.ServerCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        group = cls.client.request("POST", "/segment-groups", {"name": "soc"}).body
        cls.s = [cls.client.request("POST", "/segments",
                                    {"name": f"s{i}", "group": group["id"]}).body["id"]
                 for i in range(4)]

    def setUp(self):
        self.customer = self.new_customer()
        self.cid = self.customer["id"]

    def change(self, body, method="POST"):
        return self.request(method, "/segments-of-customers", body)

    def segments_of(self, customer_id):
        return self.expect(self.get(f"/customers/{customer_id}"), 200).data["segments"]

    def test_add(self):
        reply = self.expect(self.change({"customerId": self.cid,
                                         "addSegments": [self.s[0], self.s[1]]}), 200)
        self.assertEqual(reply.body["segments"], [self.s[0], self.s[1]])

    def test_body_keys(self):
        reply = self.expect(self.change({"customerId": self.cid, "addSegments": [self.s[0]]}),
                            200)
        self.assertEqual(list(reply.body), ["success", "segments"])
        self.assertIs(reply.body["success"], True)

    def test_add_visible_on_customer(self):
        self.change({"customerId": self.cid, "addSegments": [self.s[2], self.s[0]]})
        self.assertEqual(self.segments_of(self.cid), [self.s[0], self.s[2]])

    def test_result_ascending(self):
        reply = self.expect(self.change({"customerId": self.cid,
                                         "addSegments": [self.s[3], self.s[1], self.s[2]]}), 200)
        self.assertEqual(reply.body["segments"], [self.s[1], self.s[2], self.s[3]])

    def test_remove(self):
        self.change({"customerId": self.cid, "addSegments": [self.s[0], self.s[1]]})
        reply = self.expect(self.change({"customerId": self.cid, "removeSegments": [self.s[0]]}),
                            200)
        self.assertEqual(reply.body["segments"], [self.s[1]])
        self.assertEqual(self.segments_of(self.cid), [self.s[1]])

    def test_adds_before_removes(self):
        reply = self.expect(self.change({"customerId": self.cid, "addSegments": [self.s[0]],
                                         "removeSegments": [self.s[0]]}), 200)
        self.assertEqual(reply.body["segments"], [])

    def test_add_twice_once(self):
        self.change({"customerId": self.cid, "addSegments": [self.s[0]]})
        reply = self.expect(self.change({"customerId": self.cid,
                                         "addSegments": [self.s[0], self.s[0]]}), 200)
        self.assertEqual(reply.body["segments"], [self.s[0]])

    def test_remove_absent(self):
        reply = self.expect(self.change({"customerId": self.cid, "removeSegments": [self.s[3]]}),
                            200)
        self.assertEqual(reply.body["segments"], [])

    def test_both_lists_optional(self):
        self.change({"customerId": self.cid, "addSegments": [self.s[1]]})
        reply = self.expect(self.change({"customerId": self.cid}), 200)
        self.assertEqual(reply.body["segments"], [self.s[1]])

    def test_put(self):
        reply = self.expect(self.change({"customerId": self.cid, "addSegments": [self.s[0]]},
                                        method="PUT"), 200)
        self.assertEqual(reply.body["segments"], [self.s[0]])

    def test_ids_as_strings(self):
        reply = self.expect(self.change({"customerId": str(self.cid),
                                         "addSegments": [str(self.s[1]), self.s[0]]}), 200)
        self.assertEqual(reply.body["segments"], [self.s[0], self.s[1]])

    def test_remove_ids_as_strings(self):
        self.change({"customerId": self.cid, "addSegments": [self.s[0]]})
        reply = self.expect(self.change({"customerId": self.cid,
                                         "removeSegments": [str(self.s[0])]}), 200)
        self.assertEqual(reply.body["segments"], [])

    def test_customer_id_required(self):
        self.assert_error(self.change({"addSegments": [self.s[0]]}), 400,
                          msg="customerId required")

    def test_customer_id_null(self):
        self.assert_error(self.change({"customerId": None, "addSegments": [self.s[0]]}), 400,
                          msg="customerId required")

    def test_customer_id_invalid(self):
        for value in ("abc", 1.5, True, [1]):
            with self.subTest(value=value):
                self.assert_error(self.change({"customerId": value}), 400,
                                  contains=["customerId"])

    def test_unknown_customer(self):
        self.assert_error(self.change({"customerId": 999999999, "addSegments": [self.s[0]]}),
                          404, msg="Customer with ID 999999999 was not found")

    def test_unknown_segments_named(self):
        reply = self.change({"customerId": self.cid,
                             "addSegments": [self.s[0], 999999991, 999999992]})
        self.assert_error(reply, 400, contains=["999999991", "999999992"])

    def test_unknown_segments_apply_nothing(self):
        self.change({"customerId": self.cid, "addSegments": [self.s[0], 999999991]})
        self.assertEqual(self.segments_of(self.cid), [])

    def test_unknown_remove_named(self):
        self.change({"customerId": self.cid, "addSegments": [self.s[1]]})
        reply = self.change({"customerId": self.cid, "addSegments": [self.s[2]],
                             "removeSegments": [self.s[1], 999999993]})
        self.assert_error(reply, 400, contains=["999999993"])
        self.assertEqual(self.segments_of(self.cid), [self.s[1]])

    def test_unknown_in_both_lists(self):
        reply = self.change({"customerId": self.cid, "addSegments": [999999994],
                             "removeSegments": [999999995]})
        self.assert_error(reply, 400, contains=["999999994", "999999995"])

    def test_lists_wrong_type(self):
        for body in ({"customerId": self.cid, "addSegments": "1"},
                     {"customerId": self.cid, "removeSegments": {"a": 1}},
                     {"customerId": self.cid, "addSegments": ["abc"]},
                     {"customerId": self.cid, "addSegments": [1.5]}):
            with self.subTest(body=body):
                self.expect(self.change(body), 400)

    def test_modification_date_on_change(self):
        h.wait_past(self.customer["modificationDate"])
        self.expect(self.change({"customerId": self.cid, "addSegments": [self.s[0]]}), 200)
        after = self.expect(self.get(f"/customers/{self.cid}"), 200).data
        self.assertGreater(after["modificationDate"], self.customer["modificationDate"])

    def test_modification_date_without_change(self):
        self.change({"customerId": self.cid, "addSegments": [self.s[0]]})
        before = self.expect(self.get(f"/customers/{self.cid}"), 200).data
        h.wait_past(before["modificationDate"])
        self.expect(self.change({"customerId": self.cid, "addSegments": [self.s[0]],
                                 "removeSegments": [self.s[3]]}), 200)
        after = self.expect(self.get(f"/customers/{self.cid}"), 200).data
        self.assertEqual(after["modificationDate"], before["modificationDate"])

    def test_modification_date_add_then_remove_same(self):
        h.wait_past(self.customer["modificationDate"])
        self.change({"customerId": self.cid, "addSegments": [self.s[2]],
                     "removeSegments": [self.s[2]]})
        after = self.expect(self.get(f"/customers/{self.cid}"), 200).data
        self.assertEqual(after["modificationDate"], self.customer["modificationDate"])

    def test_change_seen_by_delta(self):
        since = self.expect(self.get("/customers", query={"pageSize": 1}), 200).body["timestamp"]
        self.expect(self.change({"customerId": self.cid, "addSegments": [self.s[3]]}), 200)
        rows, _ = self.list_all("/customers", query={"modificationTimestamp": since})
        self.assertIn(self.cid, [row["id"] for row in rows])

    def test_other_customers_untouched(self):
        other = self.new_customer()
        self.change({"customerId": self.cid, "addSegments": [self.s[0]]})
        self.assertEqual(self.segments_of(other["id"]), [])

    def test_unknown_key(self):
        reply = self.change({"customerId": self.cid, "addSegment": [self.s[0]]})
        self.assert_error(reply, 400, contains=["addSegment"])


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
