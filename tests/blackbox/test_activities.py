"""Activities: representation, activityDate forms, exact attributes, the a_id upsert, list
filters and order, deletes."""

import threading
import time
import unittest

import cmfd_harness as h

STAMP = 1700000000  # 2023-11-14T22:13:20Z
MIDNIGHT = 1699920000  # 2023-11-14T00:00:00Z


class ActivityCreate(h.ServerCase):

    def setUp(self):
        self.customer = self.new_customer()
        self.cid = self.customer["id"]

    def test_status_201(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": "login"})
        self.expect(reply, 201)

    def test_envelope(self):
        reply = self.expect(self.post("/activities", {"customerId": self.cid, "type": "login"}),
                            201)
        self.assertEqual(list(reply.body), ["timestamp", "data"])
        self.assertIsInstance(reply.body["timestamp"], int)

    def test_key_order(self):
        activity = self.new_activity(self.cid)
        self.assertEqual(list(activity), h.ACTIVITY_KEYS)

    def test_fields_stored(self):
        activity = self.new_activity(self.cid, type="purchase", activityDate=STAMP, o_id=42,
                                     a_id="order-1", implementationClass="App\\Activity\\Order",
                                     attributes={"sum": 12})
        self.assertEqual(activity["customerId"], self.cid)
        self.assertEqual(activity["type"], "purchase")
        self.assertEqual(activity["activityDate"], STAMP)
        self.assertEqual(activity["o_id"], 42)
        self.assertEqual(activity["a_id"], "order-1")
        self.assertEqual(activity["implementationClass"], "App\\Activity\\Order")
        self.assertEqual(activity["attributes"], {"sum": 12})

    def test_defaults(self):
        activity = self.new_activity(self.cid)
        self.assertEqual(activity["implementationClass"], h.GENERIC_ACTIVITY)
        self.assertIsNone(activity["o_id"])
        self.assertIsNone(activity["a_id"])
        self.assertEqual(activity["attributes"], {})

    def test_md5(self):
        activity = self.new_activity(self.cid)
        self.assertIsInstance(activity["md5"], str)
        self.assertTrue(activity["md5"])

    def test_md5_follows_content(self):
        activity = self.new_activity(self.cid, attributes={"v": 1})
        updated = self.expect(self.patch(f"/activities/{activity['id']}",
                                         {"attributes": {"v": 2}}), 200).data
        self.assertNotEqual(updated["md5"], activity["md5"])

    def test_links(self):
        activity = self.new_activity(self.cid)
        self.assertEqual(activity["_links"], [{"rel": "self",
                                               "href": f"/webservice/cmf/activities/{activity['id']}",
                                               "method": "GET"}])

    def test_dates(self):
        activity = self.new_activity(self.cid)
        self.assertIsInstance(activity["creationDate"], int)
        self.assertGreaterEqual(activity["modificationDate"], activity["creationDate"])

    def test_get_equals_created(self):
        activity = self.new_activity(self.cid, attributes={"k": [1, 2]})
        reply = self.expect(self.get(f"/activities/{activity['id']}"), 200)
        self.assertEqual(list(reply.body), ["timestamp", "data"])
        self.assertEqual(reply.data, activity)

    def test_put_on_collection_creates(self):
        reply = self.put("/activities", {"customerId": self.cid, "type": "put"})
        self.expect(reply, 201)

    def test_customer_alias(self):
        activity = self.expect(self.post("/activities", {"customer": self.cid, "type": "alias"}),
                               201).data
        self.assertEqual(activity["customerId"], self.cid)

    def test_customer_and_alias_equal(self):
        reply = self.post("/activities", {"customer": self.cid, "customerId": self.cid,
                                          "type": "both"})
        self.expect(reply, 201)

    def test_customer_and_alias_conflict(self):
        other = self.new_customer()
        reply = self.post("/activities", {"customer": self.cid, "customerId": other["id"],
                                          "type": "both"})
        self.assert_error(reply, 400, contains=["customer"])

    def test_customer_id_as_string(self):
        activity = self.expect(self.post("/activities", {"customerId": str(self.cid),
                                                         "type": "str"}), 201).data
        self.assertEqual(activity["customerId"], self.cid)

    def test_o_id_as_string(self):
        activity = self.new_activity(self.cid, o_id="77")
        self.assertEqual(activity["o_id"], 77)

    def test_unknown_customer(self):
        reply = self.post("/activities", {"customerId": 999999999, "type": "x"})
        self.assert_error(reply, 400, msg="customer with ID 999999999 was not found")

    def test_customer_id_missing(self):
        reply = self.post("/activities", {"type": "x"})
        self.assert_error(reply, 400, contains=["customerId"])

    def test_customer_id_invalid(self):
        for value in ("abc", -1, 0, 1.5, True, "12abc"):
            with self.subTest(value=value):
                reply = self.post("/activities", {"customerId": value, "type": "x"})
                self.expect(reply, 400)

    def test_type_missing(self):
        reply = self.post("/activities", {"customerId": self.cid})
        self.assert_error(reply, 400, contains=["type"])

    def test_type_empty(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": ""})
        self.assert_error(reply, 400, contains=["type"])

    def test_type_255(self):
        self.assertEqual(self.new_activity(self.cid, type="t" * 255)["type"], "t" * 255)

    def test_type_multibyte_255(self):
        self.assertEqual(self.new_activity(self.cid, type="ü" * 255)["type"], "ü" * 255)

    def test_type_256(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": "t" * 256})
        self.assert_error(reply, 400, contains=["type"])

    def test_type_wrong_type(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": 5})
        self.assert_error(reply, 400, contains=["type"])

    def test_implementation_class_empty(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": "x",
                                          "implementationClass": ""})
        self.assert_error(reply, 400, contains=["implementationClass"])

    def test_unknown_keys_named(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": "x", "colour": 1,
                                          "sizeX": 2})
        self.assert_error(reply, 400, contains=["colour", "sizeX"])

    def test_read_only_keys_ignored(self):
        activity = self.new_activity(self.cid, id=123456789, md5="abc", creationDate=5,
                                     modificationDate=6, _links=[])
        self.assertNotEqual(activity["id"], 123456789)
        self.assertNotEqual(activity["md5"], "abc")
        self.assertNotEqual(activity["creationDate"], 5)
        self.assertNotEqual(activity["modificationDate"], 6)

    def test_nul_character_rejected(self):
        """PostgreSQL cannot store U+0000, so every backend rejects it instead of cutting the
        text short, and stores nothing."""
        for key in ("type", "a_id", "implementationClass"):
            with self.subTest(key=key):
                body = {"customerId": self.cid, "type": "nul", key: "a\u0000b"}
                reply = self.post("/activities", body)
                self.assert_error(reply, 400, contains=[key, "a\\u0000b", "NUL", "U+0000"])
        rows = self.expect(self.get("/activities", query={"customerId": self.cid}), 200).data
        self.assertEqual(rows, [])

    def test_failed_create_stores_nothing(self):
        kind = "failed-" + h.uid()
        self.post("/activities", {"customerId": self.cid, "type": kind, "bogus": 1})
        reply = self.expect(self.get("/activities", query={"type": kind}), 200)
        self.assertEqual(reply.data, [])


class ActivityDate(h.ServerCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cid = cls.client.request("POST", "/customers", {}).data["id"]

    def date_of(self, value):
        reply = self.post("/activities", {"customerId": self.cid, "type": "d",
                                          "activityDate": value})
        return self.expect(reply, 201).data["activityDate"]

    def test_integer(self):
        self.assertEqual(self.date_of(STAMP), STAMP)

    def test_digit_string(self):
        self.assertEqual(self.date_of(str(STAMP)), STAMP)

    def test_iso_z(self):
        self.assertEqual(self.date_of("2023-11-14T22:13:20Z"), STAMP)

    def test_iso_offset(self):
        self.assertEqual(self.date_of("2023-11-15T00:13:20+02:00"), STAMP)

    def test_iso_negative_offset(self):
        self.assertEqual(self.date_of("2023-11-14T17:13:20-05:00"), STAMP)

    def test_iso_no_offset_is_utc(self):
        self.assertEqual(self.date_of("2023-11-14T22:13:20"), STAMP)

    def test_iso_fraction_dropped(self):
        self.assertEqual(self.date_of("2023-11-14T22:13:20.987Z"), STAMP)

    def test_iso_fraction_no_offset(self):
        self.assertEqual(self.date_of("2023-11-14T22:13:20.5"), STAMP)

    def test_date_only(self):
        self.assertEqual(self.date_of("2023-11-14"), MIDNIGHT)

    def test_absent_is_now(self):
        before = int(time.time())
        activity = self.new_activity(self.cid)
        after = int(time.time())
        self.assertGreaterEqual(activity["activityDate"], before - 5)
        self.assertLessEqual(activity["activityDate"], after + 5)

    def test_null_is_now(self):
        before = int(time.time())
        activity = self.new_activity(self.cid, activityDate=None)
        self.assertGreaterEqual(activity["activityDate"], before - 5)

    def test_negative_integer_in_both_forms(self):
        self.assertEqual(self.date_of(-1), -1)
        self.assertEqual(self.date_of("-1"), -1)
        self.assertEqual(self.date_of("-86400"), -86400)
        self.assertEqual(self.date_of("1969-12-31"), -86400)

    def test_garbage_rejected(self):
        for value in ("yesterday", "-", "+5", "- 5", "2023-13-01", "2023-02-30", "2023-11-14T25:00:00Z",
                      "2023-11-14 22:13:20x", "1.5e9", "12abc", "--", True, [1], {"a": 1},
                      1.5):
            with self.subTest(value=value):
                reply = self.post("/activities", {"customerId": self.cid, "type": "d",
                                                  "activityDate": value})
                self.assert_error(reply, 400, contains=["activityDate"])

    def test_empty_string_rejected(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": "d",
                                          "activityDate": ""})
        self.assert_error(reply, 400, contains=["activityDate"])

    def test_garbage_names_value(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": "d",
                                          "activityDate": "yesterday"})
        self.assert_error(reply, 400, contains=["activityDate", "yesterday"])

    def test_null_on_update_rejected(self):
        activity = self.new_activity(self.cid, activityDate=STAMP)
        reply = self.patch(f"/activities/{activity['id']}", {"activityDate": None})
        self.assert_error(reply, 400, contains=["activityDate"])
        after = self.expect(self.get(f"/activities/{activity['id']}"), 200).data
        self.assertEqual(after["activityDate"], STAMP)

    def test_update_date(self):
        activity = self.new_activity(self.cid, activityDate=STAMP)
        updated = self.expect(self.patch(f"/activities/{activity['id']}",
                                         {"activityDate": "2023-11-14"}), 200).data
        self.assertEqual(updated["activityDate"], MIDNIGHT)


class Attributes(h.ServerCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.cid = cls.client.request("POST", "/customers", {}).data["id"]

    def create_raw(self, attributes_text):
        body = f'{{"customerId": {self.cid}, "type": "attrs", "attributes": {attributes_text}}}'
        return self.expect(self.request("POST", "/activities", raw_body=body.encode()), 201)

    def assert_exact(self, attributes_text):
        reply = self.create_raw(attributes_text)
        returned = h.find_raw_value(reply.raw.decode(), "attributes")
        self.assertIsNotNone(returned)
        self.assertEqual(h.parse_json_exact(returned), h.parse_json_exact(attributes_text))
        return reply

    def test_float_text_kept(self):
        self.assert_exact('{"a": 1.0, "b": 2.50, "c": 1e3, "d": -0.0}')

    def test_big_integer(self):
        self.assert_exact('{"big": 123456789012345678901234567890}')

    def test_key_order(self):
        self.assert_exact('{"z": 1, "a": 2, "m": 3, "b": {"y": 1, "x": 2}}')

    def test_nested_arrays(self):
        self.assert_exact('{"n": [1, [2, [3.50, []]], {"k": null}], "e": {}}')

    def test_duplicate_keys_kept(self):
        # A customer of its own, so that the lists of the other tests do not show this
        # activity: the harness refuses duplicate keys in any other place of a reply.
        cid = self.new_customer()["id"]
        text = '{"a": 1, "a": 2, "n": {"b": 1, "b": 1}}'
        body = f'{{"customerId": {cid}, "type": "attrs", "attributes": {text}}}'
        reply = self.expect(self.request("POST", "/activities", raw_body=body.encode()), 201)
        returned = h.find_raw_value(reply.raw.decode(), "attributes")
        self.assertEqual(h.parse_json_exact(returned), h.parse_json_exact(text))

    def test_duplicate_top_level_key_rejected(self):
        body = f'{{"customerId": {self.cid}, "type": "a", "type": "b"}}'
        reply = self.request("POST", "/activities", raw_body=body.encode())
        self.assert_error(reply, 400, contains=['duplicate key "type"'])

    def test_types(self):
        self.assert_exact('{"s": "text", "t": true, "f": false, "n": null, "i": -7}')

    def test_unicode(self):
        self.assert_exact('{"ü": "ñ ☃ 😀", "esc": "q\\"uote\\\\ \\u00e9 \\n"}')

    def test_odd_keys(self):
        self.assert_exact('{"": "empty", "a b": 1, "$x.y": 2, "1": 3}')

    def test_nul_escape_kept(self):
        """U+0000 inside attributes is kept as the six characters of its escape."""
        text = '{"k\\u0000": "v\\u0000w", "n": ["\\u0000"]}'
        reply = self.assert_exact(text)
        expected = b'"attributes":{"k\\u0000":"v\\u0000w","n":["\\u0000"]}'
        self.assertIn(expected, reply.raw)
        stored = self.expect(self.get(f"/activities/{reply.data['id']}"), 200)
        self.assertIn(expected, stored.raw)
        self.assertEqual(stored.data["attributes"], {"k\u0000": "v\u0000w", "n": ["\u0000"]})

    def test_compact_form(self):
        reply = self.create_raw('{ "a" : 1.0 ,\n "b" : [ 1 , 2 ] ,\t"c" : { } }')
        self.assertIn(b'"attributes":{"a":1.0,"b":[1,2],"c":{}}', reply.raw)

    def test_get_returns_same(self):
        text = '{"x": 1.10, "y": [1.0, 100000000000000000000000000001]}'
        created = self.create_raw(text).data
        reply = self.expect(self.get(f"/activities/{created['id']}"), 200)
        returned = h.find_raw_value(reply.raw.decode(), "attributes")
        self.assertEqual(h.parse_json_exact(returned), h.parse_json_exact(text))

    def test_list_returns_same(self):
        text = '{"listed": 2.000}'
        created = self.create_raw(text).data
        reply = self.expect(self.get("/activities", query={"customerId": self.cid,
                                                           "type": "attrs",
                                                           "pageSize": 1000}), 200)
        self.assertIn(created["id"], [row["id"] for row in reply.data])
        self.assertIn(b'{"listed":2.000}', reply.raw)

    def test_not_an_object(self):
        for value in ([1, 2], "text", 5, True):
            with self.subTest(value=value):
                reply = self.post("/activities", {"customerId": self.cid, "type": "x",
                                                  "attributes": value})
                self.assert_error(reply, 400, contains=["attributes"])

    def test_null_is_empty(self):
        reply = self.post("/activities", {"customerId": self.cid, "type": "x",
                                          "attributes": None})
        if reply.status == 201:
            self.assertEqual(reply.data["attributes"], {})
        else:
            self.assert_error(reply, 400, contains=["attributes"])

    def test_update_replaces(self):
        created = self.create_raw('{"old": 1, "keep": 2}').data
        updated = self.expect(self.patch(f"/activities/{created['id']}",
                                         raw_body=b'{"attributes": {"new": 1.50}}'), 200)
        self.assertEqual(updated.data["attributes"], {"new": 1.5})
        self.assertIn(b'"attributes":{"new":1.50}', updated.raw)


class ActivityUpdate(h.ServerCase):

    def setUp(self):
        self.customer = self.new_customer()
        self.activity = self.new_activity(self.customer["id"], type="view", activityDate=STAMP,
                                          a_id="ext-1", attributes={"page": "home"})
        self.path = f"/activities/{self.activity['id']}"

    def test_absent_keeps(self):
        updated = self.expect(self.patch(self.path, {"type": "click"}), 200).data
        self.assertEqual(updated["type"], "click")
        self.assertEqual(updated["a_id"], "ext-1")
        self.assertEqual(updated["activityDate"], STAMP)
        self.assertEqual(updated["attributes"], {"page": "home"})

    def test_null_clears(self):
        updated = self.expect(self.patch(self.path, {"a_id": None}), 200).data
        self.assertIsNone(updated["a_id"])

    def test_every_update_method(self):
        for method in ("PATCH", "PUT", "POST"):
            with self.subTest(method=method):
                updated = self.expect(self.request(method, self.path, {"type": method}),
                                      200).data
                self.assertEqual(updated["type"], method)

    def test_envelope(self):
        reply = self.expect(self.patch(self.path, {"type": "x"}), 200)
        self.assertEqual(list(reply.body), ["timestamp", "data"])
        self.assertEqual(list(reply.data), h.ACTIVITY_KEYS)

    def test_put_back_what_was_read(self):
        read = self.expect(self.get(self.path), 200).data
        updated = self.expect(self.put(self.path, read), 200).data
        for key in h.ACTIVITY_KEYS:
            if key == "modificationDate":
                continue
            with self.subTest(key=key):
                self.assertEqual(updated[key], read[key])

    def test_move_to_other_customer(self):
        other = self.new_customer()
        updated = self.expect(self.patch(self.path, {"customerId": other["id"]}), 200).data
        self.assertEqual(updated["customerId"], other["id"])

    def test_move_to_unknown_customer(self):
        reply = self.patch(self.path, {"customerId": 999999999})
        self.assert_error(reply, 400, msg="customer with ID 999999999 was not found")

    def test_unknown_key(self):
        self.assert_error(self.patch(self.path, {"weird": 1}), 400, contains=["weird"])

    def test_invalid_changes_nothing(self):
        self.patch(self.path, {"type": "changed", "activityDate": "garbage"})
        self.assertEqual(self.get(self.path).data, self.activity)

    def test_modification_date_advances(self):
        h.wait_past(self.activity["modificationDate"])
        updated = self.expect(self.patch(self.path, {"type": "later"}), 200).data
        self.assertGreater(updated["modificationDate"], self.activity["modificationDate"])
        self.assertEqual(updated["creationDate"], self.activity["creationDate"])


class Upsert(h.ServerCase):

    def setUp(self):
        self.cid = self.new_customer()["id"]

    def test_same_a_id_updates(self):
        first = self.new_activity(self.cid, type="order", a_id="A-1", attributes={"v": 1})
        reply = self.post("/activities", {"customerId": self.cid, "type": "order", "a_id": "A-1",
                                          "attributes": {"v": 2}})
        self.expect(reply, 200)
        self.assertEqual(reply.data["id"], first["id"])
        self.assertEqual(reply.data["attributes"], {"v": 2})

    def test_same_a_id_no_duplicate(self):
        first = self.new_activity(self.cid, type="order", a_id="A-2")
        self.post("/activities", {"customerId": self.cid, "type": "order", "a_id": "A-2"})
        rows = self.expect(self.get("/activities", query={"customerId": self.cid}), 200).data
        self.assertEqual([row["id"] for row in rows], [first["id"]])

    def test_other_type_creates(self):
        first = self.new_activity(self.cid, type="order", a_id="A-3")
        reply = self.post("/activities", {"customerId": self.cid, "type": "refund",
                                          "a_id": "A-3"})
        self.expect(reply, 201)
        self.assertNotEqual(reply.data["id"], first["id"])

    def test_other_customer_creates(self):
        first = self.new_activity(self.cid, type="order", a_id="A-4")
        other = self.new_customer()["id"]
        reply = self.post("/activities", {"customerId": other, "type": "order", "a_id": "A-4"})
        self.expect(reply, 201)
        self.assertNotEqual(reply.data["id"], first["id"])

    def test_without_a_id_creates(self):
        first = self.new_activity(self.cid, type="order")
        reply = self.post("/activities", {"customerId": self.cid, "type": "order"})
        self.expect(reply, 201)
        self.assertNotEqual(reply.data["id"], first["id"])

    def test_concurrent_same_a_id(self):
        """Producers that retry at the same time still get one activity per a_id."""
        for round_number in range(10):
            a_id = f"race-{round_number}"
            replies = []

            def send():
                client = h.Client(self.server.port, key=self.key)
                replies.append(client.request("POST", "/activities", {
                    "customerId": self.cid, "type": "race", "a_id": a_id}))

            threads = [threading.Thread(target=send) for _ in range(4)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            with self.subTest(a_id=a_id):
                self.assertEqual(sorted(r.status for r in replies), [200, 200, 200, 201])
                self.assertEqual(len({r.data["id"] for r in replies}), 1)
        rows = self.expect(self.get("/activities", query={"customerId": self.cid}), 200).data
        self.assertEqual(len(rows), 10)

    def test_retry_without_date_keeps_date(self):
        first = self.new_activity(self.cid, type="order", a_id="D-1", activityDate=STAMP)
        reply = self.post("/activities", {"customerId": self.cid, "type": "order", "a_id": "D-1"})
        self.expect(reply, 200)
        self.assertEqual(reply.data["id"], first["id"])
        self.assertEqual(reply.data["activityDate"], STAMP)
        # Same content, same date: the hash is that of the first write.
        self.assertEqual(reply.data["md5"], first["md5"])
        stored = self.expect(self.get(f"/activities/{first['id']}"), 200).data
        self.assertEqual(stored["activityDate"], STAMP)
        self.assertEqual(stored["md5"], first["md5"])

    def test_retry_with_null_date_keeps_date(self):
        first = self.new_activity(self.cid, type="order", a_id="D-2", activityDate=STAMP)
        reply = self.post("/activities", {"customerId": self.cid, "type": "order", "a_id": "D-2",
                                          "activityDate": None, "attributes": {"v": 2}})
        self.expect(reply, 200)
        self.assertEqual(reply.data["activityDate"], STAMP)
        self.assertEqual(reply.data["attributes"], {"v": 2})
        self.assertNotEqual(reply.data["md5"], first["md5"])
        stored = self.expect(self.get(f"/activities/{first['id']}"), 200).data
        self.assertEqual(stored["activityDate"], STAMP)
        self.assertEqual(stored["md5"], reply.data["md5"])

    def test_retry_with_date_sets_date(self):
        first = self.new_activity(self.cid, type="order", a_id="D-3", activityDate=STAMP)
        reply = self.post("/activities", {"customerId": self.cid, "type": "order", "a_id": "D-3",
                                          "activityDate": MIDNIGHT})
        self.expect(reply, 200)
        self.assertEqual(reply.data["activityDate"], MIDNIGHT)
        self.assertNotEqual(reply.data["md5"], first["md5"])

    def test_upsert_envelope(self):
        self.new_activity(self.cid, type="order", a_id="A-5")
        reply = self.expect(self.post("/activities", {"customerId": self.cid, "type": "order",
                                                      "a_id": "A-5"}), 200)
        self.assertEqual(list(reply.body), ["timestamp", "data"])
        self.assertEqual(list(reply.data), h.ACTIVITY_KEYS)


class ActivityList(h.ServerCase):

    def test_envelope(self):
        reply = self.expect(self.get("/activities"), 200)
        self.assertEqual(list(reply.body), h.LIST_KEYS)

    def test_customer_filter(self):
        a = self.new_customer()["id"]
        b = self.new_customer()["id"]
        mine = self.new_activity(a)
        self.new_activity(b)
        rows = self.expect(self.get("/activities", query={"customerId": a}), 200).data
        self.assertEqual([row["id"] for row in rows], [mine["id"]])

    def test_customer_filter_string_form(self):
        for value in ("-1", "0", "abc", "1.5", "99999999999999999999"):
            with self.subTest(value=value):
                reply = self.get("/activities", query={"customerId": value})
                self.assert_error(reply, 400, contains=["customerId", value,
                                                        "positive 64-bit integer"])

    def test_type_filter_invalid_utf8(self):
        reply = self.get("/activities?type=%FF%FE")
        self.assert_error(reply, 400, contains=["type", "%FF%FE", "not valid UTF-8"])

    def test_type_filter_nul_character(self):
        reply = self.get("/activities?type=visit,a%00b")
        self.assert_error(reply, 400, contains=["type", "a%00b", "NUL"])

    def test_type_filter_empty_item(self):
        for value in (",", "visit,", ",visit", "visit,,order"):
            with self.subTest(value=value):
                reply = self.get("/activities", query={"type": value})
                self.assert_error(reply, 400, contains=["type", value, "without empty items"])

    def test_type_filter_empty_is_absent(self):
        self.expect(self.get("/activities", query={"type": ""}), 200)

    def test_type_filter_exact(self):
        kind = "kind-" + h.uid()
        cid = self.new_customer()["id"]
        match = self.new_activity(cid, type=kind)
        self.new_activity(cid, type=kind + "-longer")
        self.new_activity(cid, type=kind.upper())
        rows = self.expect(self.get("/activities", query={"type": kind}), 200).data
        self.assertEqual([row["id"] for row in rows], [match["id"]])

    def test_type_filter_any_of(self):
        kind = "kind-" + h.uid()
        cid = self.new_customer()["id"]
        a = self.new_activity(cid, type=kind + "-a", activityDate=100)
        b = self.new_activity(cid, type=kind + "-b", activityDate=200)
        self.new_activity(cid, type=kind + "-c", activityDate=300)
        rows = self.expect(self.get("/activities", query={"type": f"{kind}-a,{kind}-b"}),
                           200).data
        self.assertEqual([row["id"] for row in rows], [a["id"], b["id"]])

    def test_modified_since_inclusive(self):
        cid = self.new_customer()["id"]
        activity = self.new_activity(cid)
        stamp = activity["modificationDate"]
        rows = self.expect(self.get("/activities", query={"customerId": cid,
                                                          "modifiedSinceTimestamp": stamp}),
                           200).data
        self.assertEqual([row["id"] for row in rows], [activity["id"]])

    def test_modified_since_later(self):
        cid = self.new_customer()["id"]
        activity = self.new_activity(cid)
        stamp = activity["modificationDate"] + 1
        rows = self.expect(self.get("/activities", query={"customerId": cid,
                                                          "modifiedSinceTimestamp": stamp}),
                           200).data
        self.assertEqual(rows, [])

    def test_modified_since_rows(self):
        cid = self.new_customer()["id"]
        self.new_activity(cid)
        since = int(time.time()) - 3600
        rows, _ = self.list_all("/activities", query={"modifiedSinceTimestamp": since})
        for row in rows:
            self.assertGreaterEqual(row["modificationDate"], since)

    def test_modified_since_invalid(self):
        for value in ("abc", "-1", "99999999999999999999"):
            with self.subTest(value=value):
                reply = self.get("/activities", query={"modifiedSinceTimestamp": value})
                self.assert_error(reply, 400, contains=["modifiedSinceTimestamp", value,
                                                        "9223372036854775807"])

    def test_order_by_date_then_id(self):
        cid = self.new_customer()["id"]
        created = [self.new_activity(cid, activityDate=d) for d in (300, 100, 200, 100, 50)]
        rows = self.expect(self.get("/activities", query={"customerId": cid}), 200).data
        expected = [created[4]["id"], created[1]["id"], created[3]["id"], created[2]["id"],
                    created[0]["id"]]
        self.assertEqual([row["id"] for row in rows], expected)

    def test_paging(self):
        cid = self.new_customer()["id"]
        created = [self.new_activity(cid, activityDate=1000 + i)["id"] for i in range(5)]
        first = self.expect(self.get("/activities", query={"customerId": cid, "pageSize": 2}),
                            200)
        self.assertEqual(first.body["totalPages"], 3)
        self.assertEqual([row["id"] for row in first.data], created[:2])
        last = self.expect(self.get("/activities", query={"customerId": cid, "pageSize": 2,
                                                          "page": 3}), 200)
        self.assertEqual([row["id"] for row in last.data], created[4:])
        past = self.expect(self.get("/activities", query={"customerId": cid, "pageSize": 2,
                                                          "page": 4}), 200)
        self.assertEqual(past.data, [])
        self.assertEqual(past.body["page"], 4)

    def test_filters_combined(self):
        kind = "combo-" + h.uid()
        a = self.new_customer()["id"]
        b = self.new_customer()["id"]
        match = self.new_activity(a, type=kind)
        self.new_activity(b, type=kind)
        self.new_activity(a, type=kind + "x")
        rows = self.expect(self.get("/activities", query={"customerId": a, "type": kind}),
                           200).data
        self.assertEqual([row["id"] for row in rows], [match["id"]])


class ActivityDelete(h.ServerCase):

    def test_204_empty(self):
        activity = self.new_activity(self.new_customer()["id"])
        reply = self.expect(self.delete(f"/activities/{activity['id']}"), 204)
        self.assertEqual(reply.raw, b"")

    def test_gone(self):
        activity = self.new_activity(self.new_customer()["id"])
        self.expect(self.delete(f"/activities/{activity['id']}"), 204)
        self.assert_error(self.get(f"/activities/{activity['id']}"), 404,
                          msg=f"Activity with ID {activity['id']} was not found")

    def test_deletion_row_with_type(self):
        kind = "gone-" + h.uid()
        activity = self.new_activity(self.new_customer()["id"], type=kind)
        self.expect(self.delete(f"/activities/{activity['id']}"), 204)
        rows = self.expect(self.get("/deletions", query={"entityType": "activities"}), 200).data
        mine = [row for row in rows if row["id"] == activity["id"]]
        self.assertEqual(len(mine), 1)
        self.assertEqual(list(mine[0]), ["id", "entityType", "type", "creationDate"])
        self.assertEqual(mine[0]["entityType"], "activities")
        self.assertEqual(mine[0]["type"], kind)
        self.assertIsInstance(mine[0]["creationDate"], int)

    def test_customer_kept(self):
        customer = self.new_customer()
        activity = self.new_activity(customer["id"])
        self.expect(self.delete(f"/activities/{activity['id']}"), 204)
        self.expect(self.get(f"/customers/{customer['id']}"), 200)

    def test_ids_never_reused(self):
        cid = self.new_customer()["id"]
        first = self.new_activity(cid)
        self.expect(self.delete(f"/activities/{first['id']}"), 204)
        second = self.new_activity(cid)
        self.assertGreater(second["id"], first["id"])

    def test_second_delete_404(self):
        activity = self.new_activity(self.new_customer()["id"])
        self.expect(self.delete(f"/activities/{activity['id']}"), 204)
        self.assert_error(self.delete(f"/activities/{activity['id']}"), 404)


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
