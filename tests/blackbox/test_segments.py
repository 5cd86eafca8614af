"""Segment groups and segments: create, update, validation, conflicts, cascades, deletes."""

import unittest

import cmfd_harness as h


class GroupWrites(h.ServerCase):

    def test_create_200(self):
        self.expect(self.post("/segment-groups", {"name": "g"}), 200)

    def test_create_flat_keys(self):
        group = self.new_group()
        self.assertEqual(list(group), h.GROUP_KEYS + ["success"])

    def test_create_success_true(self):
        self.assertIs(self.new_group()["success"], True)

    def test_defaults(self):
        group = self.new_group()
        self.assertIsNone(group["reference"])
        self.assertIs(group["calculated"], False)
        self.assertIs(group["showAsFilter"], False)
        self.assertIsNone(group["filterSortOrder"])
        self.assertIs(group["exportNewsletterProvider"], False)

    def test_fields_stored(self):
        fields = {"name": "Sport", "reference": "sport-" + h.uid(), "calculated": True,
                  "showAsFilter": True, "filterSortOrder": 10, "exportNewsletterProvider": True}
        group = self.expect(self.post("/segment-groups", fields), 200).body
        for key, value in fields.items():
            with self.subTest(key=key):
                self.assertEqual(group[key], value)

    def test_links(self):
        group = self.new_group()
        self.assertEqual(group["_links"], [{"rel": "self",
                                            "href": f"/webservice/cmf/segment-groups/{group['id']}",
                                            "method": "GET"}])

    def test_put_on_collection_creates(self):
        self.expect(self.put("/segment-groups", {"name": "put"}), 200)

    def test_get(self):
        group = self.new_group()
        reply = self.expect(self.get(f"/segment-groups/{group['id']}"), 200)
        self.assertEqual(list(reply.body), ["timestamp", "data"])
        self.assertEqual(list(reply.data), h.GROUP_KEYS)
        expected = dict(group)
        del expected["success"]
        self.assertEqual(reply.data, expected)

    def test_get_unknown(self):
        self.assert_error(self.get("/segment-groups/999999999"), 404,
                          msg="Segment group with ID 999999999 was not found")

    def test_name_missing(self):
        self.assert_error(self.post("/segment-groups", {"reference": "r"}), 400,
                          msg="name required")

    def test_name_empty(self):
        self.assert_error(self.post("/segment-groups", {"name": ""}), 400, msg="name required")

    def test_update_each_method(self):
        group = self.new_group()
        for method in ("PATCH", "PUT", "POST"):
            with self.subTest(method=method):
                reply = self.expect(self.request(method, f"/segment-groups/{group['id']}",
                                                 {"name": method}), 200)
                self.assertEqual(reply.body["name"], method)
                self.assertEqual(list(reply.body), h.GROUP_KEYS + ["success"])
                self.assertIs(reply.body["success"], True)

    def test_update_partial(self):
        group = self.new_group(reference="keep-" + h.uid(), showAsFilter=True)
        updated = self.expect(self.patch(f"/segment-groups/{group['id']}", {"name": "new"}),
                              200).body
        self.assertEqual(updated["reference"], group["reference"])
        self.assertIs(updated["showAsFilter"], True)

    def test_update_null_clears(self):
        group = self.new_group(reference="clear-" + h.uid(), filterSortOrder=3)
        updated = self.expect(self.patch(f"/segment-groups/{group['id']}",
                                         {"reference": None, "filterSortOrder": None}), 200).body
        self.assertIsNone(updated["reference"])
        self.assertIsNone(updated["filterSortOrder"])

    def test_update_empty_name(self):
        group = self.new_group()
        self.assert_error(self.patch(f"/segment-groups/{group['id']}", {"name": ""}), 400,
                          msg="name required")

    def test_update_unknown(self):
        self.assert_error(self.patch("/segment-groups/999999999", {"name": "x"}), 404,
                          msg="Segment group with ID 999999999 was not found")

    def test_duplicate_reference(self):
        reference = "dup-" + h.uid()
        self.new_group(reference=reference)
        self.assert_error(self.post("/segment-groups", {"name": "b", "reference": reference}),
                          409)

    def test_duplicate_reference_other_calculated(self):
        reference = "dup-" + h.uid()
        self.new_group(reference=reference, calculated=False)
        reply = self.post("/segment-groups", {"name": "b", "reference": reference,
                                              "calculated": True})
        self.expect(reply, 200)

    def test_duplicate_reference_on_update(self):
        reference = "dup-" + h.uid()
        self.new_group(reference=reference)
        other = self.new_group()
        self.assert_error(self.patch(f"/segment-groups/{other['id']}",
                                     {"reference": reference}), 409)

    def test_null_references_no_conflict(self):
        self.new_group()
        self.new_group()

    def test_keep_own_reference_on_update(self):
        group = self.new_group(reference="own-" + h.uid())
        reply = self.patch(f"/segment-groups/{group['id']}", {"reference": group["reference"],
                                                               "name": "renamed"})
        self.expect(reply, 200)

    def test_wrong_types(self):
        for key, value in (("name", 5), ("calculated", "yes"), ("showAsFilter", 1),
                           ("filterSortOrder", "ten"), ("reference", 7)):
            with self.subTest(key=key):
                body = {"name": "typed", key: value}
                self.assert_error(self.post("/segment-groups", body), 400, contains=[key])

    def test_nul_character_rejected(self):
        """PostgreSQL cannot store U+0000, so every backend rejects it instead of cutting the
        text short."""
        for key in ("name", "reference"):
            with self.subTest(key=key):
                body = {"name": "nul", key: "a\u0000b"}
                self.assert_error(self.post("/segment-groups", body), 400,
                                  contains=[key, "a\\u0000b", "NUL", "U+0000"])

    def test_nul_character_on_update_changes_nothing(self):
        group = self.new_group(reference="ref-" + h.uid())
        for key in ("name", "reference"):
            with self.subTest(key=key):
                reply = self.patch(f"/segment-groups/{group['id']}", {key: "x\u0000"})
                self.assert_error(reply, 400, contains=[key, "NUL"])
        after = self.expect(self.get(f"/segment-groups/{group['id']}"), 200).data
        self.assertEqual(after["name"], group["name"])
        self.assertEqual(after["reference"], group["reference"])

    def test_modification_date_advances(self):
        group = self.new_group()
        h.wait_past(group["modificationDate"])
        updated = self.expect(self.patch(f"/segment-groups/{group['id']}", {"name": "later"}),
                              200).body
        self.assertGreater(updated["modificationDate"], group["modificationDate"])


class GroupList(h.ServerCase):

    def test_envelope(self):
        self.new_group()
        reply = self.expect(self.get("/segment-groups"), 200)
        self.assertEqual(list(reply.body), h.LIST_KEYS)
        self.assertEqual(list(reply.data[0]), h.GROUP_KEYS)

    def test_order_and_paging(self):
        created = [self.new_group()["id"] for _ in range(3)]
        rows, _ = self.list_all("/segment-groups", page_size=2)
        ids = [row["id"] for row in rows]
        self.assertEqual(ids, sorted(ids))
        for group_id in created:
            self.assertIn(group_id, ids)


class SegmentWrites(h.ServerCase):

    def setUp(self):
        self.group = self.new_group()
        self.gid = self.group["id"]

    def test_create_200(self):
        self.expect(self.post("/segments", {"name": "s", "group": self.gid}), 200)

    def test_create_flat_keys(self):
        segment = self.new_segment(self.gid)
        self.assertEqual(list(segment), h.SEGMENT_KEYS + ["success"])
        self.assertIs(segment["success"], True)

    def test_defaults(self):
        segment = self.new_segment(self.gid)
        self.assertEqual(segment["group"], self.gid)
        self.assertIsNone(segment["reference"])
        self.assertIs(segment["calculated"], False)
        self.assertIs(segment["useAsTargetGroup"], False)

    def test_links(self):
        segment = self.new_segment(self.gid)
        self.assertEqual(segment["_links"], [{"rel": "self",
                                              "href": f"/webservice/cmf/segments/{segment['id']}",
                                              "method": "GET"}])

    def test_calculated_from_group(self):
        group = self.new_group(calculated=True)
        self.assertIs(self.new_segment(group["id"])["calculated"], True)

    def test_calculated_equal_accepted(self):
        group = self.new_group(calculated=True)
        self.assertIs(self.new_segment(group["id"], calculated=True)["calculated"], True)

    def test_calculated_mismatch(self):
        reply = self.post("/segments", {"name": "s", "group": self.gid, "calculated": True})
        self.assert_error(reply, 400, contains=["calculated"])

    def test_calculated_mismatch_other_way(self):
        group = self.new_group(calculated=True)
        reply = self.post("/segments", {"name": "s", "group": group["id"], "calculated": False})
        self.assert_error(reply, 400, contains=["calculated"])

    def test_group_as_string(self):
        segment = self.expect(self.post("/segments", {"name": "s", "group": str(self.gid)}),
                              200).body
        self.assertEqual(segment["group"], self.gid)

    def test_group_required(self):
        self.assert_error(self.post("/segments", {"name": "s"}), 400, msg="group required")

    def test_group_null_required(self):
        self.assert_error(self.post("/segments", {"name": "s", "group": None}), 400,
                          msg="group required")

    def test_group_not_found(self):
        self.assert_error(self.post("/segments", {"name": "s", "group": 999999999}), 400,
                          msg="group not found")

    def test_name_required(self):
        self.assert_error(self.post("/segments", {"group": self.gid}), 400, msg="name required")

    def test_name_empty(self):
        self.assert_error(self.post("/segments", {"group": self.gid, "name": ""}), 400,
                          msg="name required")

    def test_put_on_collection_creates(self):
        self.expect(self.put("/segments", {"name": "put", "group": self.gid}), 200)

    def test_get(self):
        segment = self.new_segment(self.gid, reference="r")
        reply = self.expect(self.get(f"/segments/{segment['id']}"), 200)
        self.assertEqual(list(reply.body), ["timestamp", "data"])
        expected = dict(segment)
        del expected["success"]
        self.assertEqual(reply.data, expected)

    def test_get_unknown(self):
        self.assert_error(self.get("/segments/999999999"), 404,
                          msg="Segment with ID 999999999 was not found")

    def test_duplicate_reference_in_group(self):
        self.new_segment(self.gid, reference="same")
        self.assert_error(self.post("/segments", {"name": "b", "group": self.gid,
                                                  "reference": "same"}), 409)

    def test_same_reference_other_group(self):
        self.new_segment(self.gid, reference="shared")
        other = self.new_group()
        self.new_segment(other["id"], reference="shared")

    def test_update_each_method(self):
        segment = self.new_segment(self.gid)
        for method in ("PATCH", "PUT", "POST"):
            with self.subTest(method=method):
                reply = self.expect(self.request(method, f"/segments/{segment['id']}",
                                                 {"name": method}), 200)
                self.assertEqual(reply.body["name"], method)
                self.assertEqual(list(reply.body), h.SEGMENT_KEYS + ["success"])

    def test_update_partial(self):
        segment = self.new_segment(self.gid, reference="keep", useAsTargetGroup=True)
        updated = self.expect(self.patch(f"/segments/{segment['id']}", {"name": "n"}), 200).body
        self.assertEqual(updated["reference"], "keep")
        self.assertIs(updated["useAsTargetGroup"], True)
        self.assertEqual(updated["group"], self.gid)

    def test_update_unknown(self):
        self.assert_error(self.patch("/segments/999999999", {"name": "x"}), 404,
                          msg="Segment with ID 999999999 was not found")

    def test_move_to_group(self):
        segment = self.new_segment(self.gid)
        other = self.new_group()
        moved = self.expect(self.patch(f"/segments/{segment['id']}", {"group": other["id"]}),
                            200).body
        self.assertEqual(moved["group"], other["id"])

    def test_move_to_unknown_group(self):
        segment = self.new_segment(self.gid)
        self.assert_error(self.patch(f"/segments/{segment['id']}", {"group": 999999999}), 400,
                          msg="group not found")

    def test_move_takes_calculated(self):
        segment = self.new_segment(self.gid)
        calculated = self.new_group(calculated=True)
        moved = self.expect(self.patch(f"/segments/{segment['id']}",
                                       {"group": calculated["id"]}), 200).body
        self.assertIs(moved["calculated"], True)

    def test_move_with_mismatch(self):
        segment = self.new_segment(self.gid)
        calculated = self.new_group(calculated=True)
        reply = self.patch(f"/segments/{segment['id']}", {"group": calculated["id"],
                                                          "calculated": False})
        self.assert_error(reply, 400, contains=["calculated"])

    def test_move_duplicate_reference(self):
        other = self.new_group()
        self.new_segment(other["id"], reference="taken")
        segment = self.new_segment(self.gid, reference="taken")
        self.assert_error(self.patch(f"/segments/{segment['id']}", {"group": other["id"]}), 409)

    def test_update_calculated_mismatch(self):
        segment = self.new_segment(self.gid)
        self.assert_error(self.patch(f"/segments/{segment['id']}", {"calculated": True}), 400,
                          contains=["calculated"])

    def test_nul_character_rejected(self):
        for key in ("name", "reference"):
            with self.subTest(key=key):
                body = {"name": "nul", "group": self.gid, key: "a\u0000b"}
                self.assert_error(self.post("/segments", body), 400,
                                  contains=[key, "a\\u0000b", "NUL", "U+0000"])
        rows, _ = self.list_all("/segments", query={"group": self.gid})
        self.assertEqual(rows, [])

    def test_nul_character_on_update_changes_nothing(self):
        segment = self.new_segment(self.gid)
        reply = self.patch(f"/segments/{segment['id']}", {"name": "x\u0000"})
        self.assert_error(reply, 400, contains=["name", "NUL"])
        after = self.expect(self.get(f"/segments/{segment['id']}"), 200).data
        self.assertEqual(after["name"], segment["name"])

    def test_failed_update_changes_nothing(self):
        segment = self.new_segment(self.gid)
        self.patch(f"/segments/{segment['id']}", {"name": "changed", "group": 999999999})
        after = self.expect(self.get(f"/segments/{segment['id']}"), 200).data
        self.assertEqual(after["name"], segment["name"])


class SegmentList(h.ServerCase):

    def test_group_filter(self):
        a = self.new_group()
        b = self.new_group()
        in_a = [self.new_segment(a["id"])["id"] for _ in range(2)]
        self.new_segment(b["id"])
        reply = self.expect(self.get("/segments", query={"group": a["id"]}), 200)
        self.assertEqual([row["id"] for row in reply.data], in_a)

    def test_group_filter_unknown(self):
        reply = self.expect(self.get("/segments", query={"group": 999999999}), 200)
        self.assertEqual(reply.data, [])

    def test_group_filter_invalid(self):
        self.assert_error(self.get("/segments", query={"group": "abc"}), 400,
                          contains=["group", "abc"])

    def test_group_filter_beyond_64_bits(self):
        value = "99999999999999999999"
        self.assert_error(self.get("/segments", query={"group": value}), 400,
                          contains=["group", value, "positive 64-bit integer"])

    def test_envelope(self):
        group = self.new_group()
        self.new_segment(group["id"])
        reply = self.expect(self.get("/segments"), 200)
        self.assertEqual(list(reply.body), h.LIST_KEYS)
        self.assertEqual(list(reply.data[0]), h.SEGMENT_KEYS)

    def test_paging(self):
        group = self.new_group()
        created = [self.new_segment(group["id"])["id"] for _ in range(5)]
        reply = self.expect(self.get("/segments", query={"group": group["id"], "pageSize": 2,
                                                         "page": 3}), 200)
        self.assertEqual([row["id"] for row in reply.data], created[4:])
        self.assertEqual(reply.body["totalPages"], 3)


class Cascades(h.ServerCase):

    def test_group_calculated_cascades(self):
        group = self.new_group()
        segments = [self.new_segment(group["id"]) for _ in range(2)]
        self.expect(self.patch(f"/segment-groups/{group['id']}", {"calculated": True}), 200)
        for segment in segments:
            fetched = self.expect(self.get(f"/segments/{segment['id']}"), 200).data
            self.assertIs(fetched["calculated"], True)

    def test_group_calculated_cascades_back(self):
        group = self.new_group(calculated=True)
        segment = self.new_segment(group["id"])
        self.expect(self.patch(f"/segment-groups/{group['id']}", {"calculated": False}), 200)
        self.assertIs(self.get(f"/segments/{segment['id']}").data["calculated"], False)

    def test_segment_delete_204(self):
        segment = self.new_segment(self.new_group()["id"])
        reply = self.expect(self.delete(f"/segments/{segment['id']}"), 204)
        self.assertEqual(reply.raw, b"")
        self.assert_error(self.get(f"/segments/{segment['id']}"), 404,
                          msg=f"Segment with ID {segment['id']} was not found")

    def test_segment_delete_removes_from_customers(self):
        group = self.new_group()
        doomed = self.new_segment(group["id"])
        kept = self.new_segment(group["id"])
        customer = self.new_customer()
        self.set_segments(customer["id"], add=[doomed["id"], kept["id"]])
        self.expect(self.delete(f"/segments/{doomed['id']}"), 204)
        after = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        self.assertEqual(after["segments"], [kept["id"]])

    def test_segment_delete_bumps_customer(self):
        group = self.new_group()
        segment = self.new_segment(group["id"])
        customer = self.new_customer()
        self.set_segments(customer["id"], add=[segment["id"]])
        before = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        h.wait_past(before["modificationDate"])
        since = self.expect(self.get("/customers", query={"pageSize": 1}), 200).body["timestamp"]
        self.expect(self.delete(f"/segments/{segment['id']}"), 204)
        after = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        self.assertGreater(after["modificationDate"], before["modificationDate"])
        rows, _ = self.list_all("/customers", query={"modificationTimestamp": since})
        self.assertIn(customer["id"], [row["id"] for row in rows])

    def test_segment_delete_leaves_others_alone(self):
        group = self.new_group()
        segment = self.new_segment(group["id"])
        bystander = self.new_customer()
        h.wait_past(bystander["modificationDate"])
        self.expect(self.delete(f"/segments/{segment['id']}"), 204)
        after = self.expect(self.get(f"/customers/{bystander['id']}"), 200).data
        self.assertEqual(after["modificationDate"], bystander["modificationDate"])

    def test_group_delete_204(self):
        group = self.new_group()
        reply = self.expect(self.delete(f"/segment-groups/{group['id']}"), 204)
        self.assertEqual(reply.raw, b"")
        self.assert_error(self.get(f"/segment-groups/{group['id']}"), 404,
                          msg=f"Segment group with ID {group['id']} was not found")

    def test_group_delete_deletes_segments(self):
        group = self.new_group()
        segments = [self.new_segment(group["id"]) for _ in range(2)]
        self.expect(self.delete(f"/segment-groups/{group['id']}"), 204)
        for segment in segments:
            self.assert_error(self.get(f"/segments/{segment['id']}"), 404)
        reply = self.expect(self.get("/segments", query={"group": group["id"]}), 200)
        self.assertEqual(reply.data, [])

    def test_group_delete_keeps_other_groups(self):
        group = self.new_group()
        other = self.new_group()
        survivor = self.new_segment(other["id"])
        self.new_segment(group["id"])
        self.expect(self.delete(f"/segment-groups/{group['id']}"), 204)
        self.expect(self.get(f"/segments/{survivor['id']}"), 200)

    def test_group_delete_removes_from_customers(self):
        group = self.new_group()
        other = self.new_group()
        doomed = self.new_segment(group["id"])
        kept = self.new_segment(other["id"])
        customer = self.new_customer()
        self.set_segments(customer["id"], add=[doomed["id"], kept["id"]])
        before = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        h.wait_past(before["modificationDate"])
        since = self.expect(self.get("/customers", query={"pageSize": 1}), 200).body["timestamp"]
        self.expect(self.delete(f"/segment-groups/{group['id']}"), 204)
        after = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        self.assertEqual(after["segments"], [kept["id"]])
        self.assertGreater(after["modificationDate"], before["modificationDate"])
        rows, _ = self.list_all("/customers", query={"modificationTimestamp": since})
        self.assertIn(customer["id"], [row["id"] for row in rows])

    def test_group_delete_unknown(self):
        self.assert_error(self.delete("/segment-groups/999999999"), 404,
                          msg="Segment group with ID 999999999 was not found")

    def test_segment_ids_never_reused(self):
        group = self.new_group()
        first = self.new_segment(group["id"])
        self.expect(self.delete(f"/segments/{first['id']}"), 204)
        self.assertGreater(self.new_segment(group["id"])["id"], first["id"])

    def test_group_ids_never_reused(self):
        first = self.new_group()
        self.expect(self.delete(f"/segment-groups/{first['id']}"), 204)
        self.assertGreater(self.new_group()["id"], first["id"])


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
