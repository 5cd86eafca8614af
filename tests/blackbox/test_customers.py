"""Customers: representation, validation, partial updates, deletes, list filters and paging."""

import datetime
import unittest

import cmfd_harness as h

TEXT_FIELDS = ["firstname", "lastname", "street", "zip", "city", "phone"]


def utc_today():
    return datetime.datetime.now(datetime.timezone.utc).date()


def email_of_length(length):
    """Return a valid address of exactly `length` characters: a 64-character local part and
    a domain of labels of at most 63 characters."""
    local = "a" * 64
    rest = length - len(local) - 1 - len(".com")
    labels = []
    while rest > 63:
        size = 62 if rest == 64 else 63  # leave at least one character for the last label
        labels.append("b" * size)
        rest -= size + 1
    labels.append("c" * rest)
    address = local + "@" + ".".join(labels) + ".com"
    assert len(address) == length, (len(address), length)
    return address


class CustomerCreate(h.ServerCase):

    def test_status_201(self):
        self.expect(self.post("/customers", {"firstname": "Anna"}), 201)

    def test_envelope(self):
        reply = self.expect(self.post("/customers", {}), 201)
        self.assertEqual(list(reply.body), ["timestamp", "data"])
        self.assertIsInstance(reply.body["timestamp"], int)

    def test_key_order(self):
        customer = self.new_customer(firstname="Anna")
        self.assertEqual(list(customer), h.CUSTOMER_KEYS)

    def test_defaults(self):
        customer = self.new_customer()
        self.assertIs(customer["active"], True)
        self.assertIs(customer["profilingConsent"], False)
        for key in ["gender", "birthdate", "countryCode", "email", "password"] + TEXT_FIELDS:
            with self.subTest(key=key):
                self.assertIsNone(customer[key])
        self.assertEqual(customer["segments"], [])

    def test_links(self):
        customer = self.new_customer()
        self.assertEqual(customer["_links"], [{"rel": "self",
                                               "href": f"/webservice/cmf/customers/{customer['id']}",
                                               "method": "GET"}])

    def test_id_positive_int(self):
        customer = self.new_customer()
        self.assertIsInstance(customer["id"], int)
        self.assertGreater(customer["id"], 0)

    def test_dates(self):
        customer = self.new_customer()
        self.assertIsInstance(customer["creationDate"], int)
        self.assertIsInstance(customer["modificationDate"], int)
        self.assertGreater(customer["creationDate"], 1600000000)
        self.assertGreaterEqual(customer["modificationDate"], customer["creationDate"])

    def test_all_fields_stored(self):
        fields = {"active": False, "gender": "female", "firstname": "Ilse", "lastname": "Brand",
                  "birthdate": "1979-11-30", "street": "Lindengasse 7", "zip": "8010",
                  "city": "Graz", "phone": "+43 316 1234", "countryCode": "AT",
                  "email": "ilse@example.net", "profilingConsent": True}
        customer = self.new_customer(**fields)
        for key, value in fields.items():
            with self.subTest(key=key):
                self.assertEqual(customer[key], value)

    def test_get_equals_created(self):
        customer = self.new_customer(firstname="Get", city="Linz")
        fetched = self.expect(self.get(f"/customers/{customer['id']}"), 200)
        self.assertEqual(list(fetched.body), ["timestamp", "data"])
        self.assertEqual(fetched.data, customer)

    def test_id_encoded_set(self):
        customer = self.new_customer()
        self.assertIsInstance(customer["idEncoded"], str)
        self.assertTrue(customer["idEncoded"])

    def test_id_encoded_differs(self):
        a = self.new_customer()
        b = self.new_customer()
        self.assertNotEqual(a["idEncoded"], b["idEncoded"])

    def test_id_encoded_given(self):
        token = "token-" + h.uid()
        customer = self.new_customer(idEncoded=token)
        self.assertEqual(customer["idEncoded"], token)

    def test_id_encoded_stable(self):
        customer = self.new_customer()
        updated = self.expect(self.patch(f"/customers/{customer['id']}", {"city": "x"}), 200).data
        self.assertEqual(updated["idEncoded"], customer["idEncoded"])

    def test_password_never_output(self):
        customer = self.new_customer(password="s3cret-" + h.uid())
        self.assertIsNone(customer["password"])
        fetched = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        self.assertIsNone(fetched["password"])

    def test_password_not_in_any_output(self):
        secret = "s3cret-" + h.uid()
        customer = self.new_customer(password=secret, email=f"pw-{h.uid()}@example.com")
        replies = [self.post("/customers", {"password": secret}),
                   self.get(f"/customers/{customer['id']}"),
                   self.get("/customers", query={"email": customer["email"]}),
                   self.patch(f"/customers/{customer['id']}", {"password": secret})]
        for reply in replies:
            self.assertNotIn(secret.encode(), reply.raw)

    def test_password_empty_removes(self):
        customer = self.new_customer(password="first")
        reply = self.patch(f"/customers/{customer['id']}", {"password": ""})
        self.expect(reply, 200)
        self.assertIsNone(reply.data["password"])

    def test_password_null_ignored(self):
        customer = self.new_customer(password="first")
        reply = self.patch(f"/customers/{customer['id']}", {"password": None})
        self.expect(reply, 200)
        self.assertIsNone(reply.data["password"])

    def test_password_not_in_log(self):
        secret = "logged-" + h.uid()
        self.new_customer(password=secret)
        self.assertNotIn(secret, self.server.log())

    def test_empty_string_is_null(self):
        customer = self.new_customer(gender="", birthdate="", countryCode="", email="")
        for key in ("gender", "birthdate", "countryCode", "email"):
            with self.subTest(key=key):
                self.assertIsNone(customer[key])

    def test_text_fields_keep_empty(self):
        customer = self.new_customer(**{key: "" for key in TEXT_FIELDS})
        for key in TEXT_FIELDS:
            with self.subTest(key=key):
                self.assertEqual(customer[key], "")

    def test_country_code_upper_cased(self):
        for sent in ("de", "De", "dE"):
            with self.subTest(sent=sent):
                self.assertEqual(self.new_customer(countryCode=sent)["countryCode"], "DE")

    def test_email_stored_as_sent(self):
        email = f"Mixed.Case+{h.uid()}@Example.COM"
        self.assertEqual(self.new_customer(email=email)["email"], email)

    def test_id_in_body_ignored(self):
        customer = self.new_customer(id=987654321, firstname="idless")
        self.assertNotEqual(customer["id"], 987654321)
        self.assert_error(self.get("/customers/987654321"), 404)

    def test_read_only_keys_ignored(self):
        customer = self.new_customer(creationDate=5, modificationDate=6, segments=[1, 2],
                                     activities=[{"x": 1}], _links=[], firstname="ro")
        self.assertNotEqual(customer["creationDate"], 5)
        self.assertNotEqual(customer["modificationDate"], 6)
        self.assertEqual(customer["segments"], [])
        self.assertNotIn("activities", customer)
        self.assertEqual(customer["firstname"], "ro")

    def test_put_on_collection_creates(self):
        reply = self.expect(self.put("/customers", {"firstname": "put"}), 201)
        self.assertEqual(reply.data["firstname"], "put")

    def test_unicode_round_trip(self):
        name = "Zoë Ångström 李 😀"
        self.assertEqual(self.new_customer(firstname=name)["firstname"], name)


class CustomerValidation(h.ServerCase):

    def assert_rejected(self, body, *named):
        reply = self.post("/customers", body)
        self.assert_error(reply, 400, contains=named)

    def test_gender_values(self):
        for value in ("male", "female", "other", None):
            with self.subTest(value=value):
                self.assertEqual(self.new_customer(gender=value)["gender"], value)

    def test_duplicate_key_rejected(self):
        for body in ('{"firstname": "a", "firstname": "b"}',
                     '{"firstname": "a", "first\\u006eame": "b"}'):
            with self.subTest(body=body):
                reply = self.request("POST", "/customers", raw_body=body.encode())
                self.assert_error(reply, 400, contains=['duplicate key "firstname"'])

    def test_gender_case_sensitive(self):
        for value in ("Male", "FEMALE", "Other"):
            with self.subTest(value=value):
                self.assert_rejected({"gender": value}, "gender", value)

    def test_gender_unknown(self):
        for value in ("robot", " male", "m"):
            with self.subTest(value=value):
                self.assert_rejected({"gender": value}, "gender")

    def test_text_255_accepted(self):
        for key in TEXT_FIELDS:
            with self.subTest(key=key):
                self.assertEqual(self.new_customer(**{key: "x" * 255})[key], "x" * 255)

    def test_text_256_rejected(self):
        for key in TEXT_FIELDS:
            with self.subTest(key=key):
                self.assert_rejected({key: "x" * 256}, key)

    def test_multibyte_255_accepted(self):
        for char in ("ä", "李", "😀"):
            with self.subTest(char=char):
                self.assertEqual(self.new_customer(firstname=char * 255)["firstname"],
                                 char * 255)

    def test_multibyte_256_rejected(self):
        for char in ("ä", "李", "😀"):
            with self.subTest(char=char):
                self.assert_rejected({"lastname": char * 256}, "lastname")

    def test_birthdate_valid(self):
        yesterday = (utc_today() - datetime.timedelta(days=1)).isoformat()
        for value in ("2000-02-29", "1900-01-01", "1979-11-30", yesterday):
            with self.subTest(value=value):
                self.assertEqual(self.new_customer(birthdate=value)["birthdate"], value)

    def test_birthdate_today(self):
        today = utc_today().isoformat()
        self.assertEqual(self.new_customer(birthdate=today)["birthdate"], today)

    def test_birthdate_not_a_date(self):
        for value in ("2001-02-29", "2000-13-01", "2000-00-10", "2000-01-32", "2000-04-31",
                      "20000101", "2000-1-1", "01.02.2000", "abc", "2000-01-01T00:00:00"):
            with self.subTest(value=value):
                self.assert_rejected({"birthdate": value}, "birthdate", value)

    def test_birthdate_in_future(self):
        future = (utc_today() + datetime.timedelta(days=2)).isoformat()
        self.assert_rejected({"birthdate": future}, "birthdate", future)

    def test_birthdate_far_future(self):
        self.assert_rejected({"birthdate": "2999-01-01"}, "birthdate")

    def test_country_code_valid(self):
        for value, stored in (("AT", "AT"), ("us", "US"), ("Gb", "GB")):
            with self.subTest(value=value):
                self.assertEqual(self.new_customer(countryCode=value)["countryCode"], stored)

    def test_country_code_xx(self):
        self.assert_rejected({"countryCode": "XX"}, "countryCode", "XX")

    def test_country_code_lower_xx(self):
        self.assert_rejected({"countryCode": "xx"}, "countryCode")

    def test_country_code_malformed(self):
        for value in ("D", "DEU", "1A", "D-", " DE"):
            with self.subTest(value=value):
                self.assert_rejected({"countryCode": value}, "countryCode")

    def test_country_code_unassigned(self):
        for value in ("AA", "ZZ", "QQ"):
            with self.subTest(value=value):
                self.assert_rejected({"countryCode": value}, "countryCode", value)

    def test_email_valid(self):
        for value in ("user@example.com", "first.last+tag@sub.example.org"):
            with self.subTest(value=value):
                self.assertEqual(self.new_customer(email=value)["email"], value)

    def test_email_invalid(self):
        for value in ("plain", "@example.com", "user@", "us er@example.com",
                      "user@@example.com"):
            with self.subTest(value=value):
                self.assert_rejected({"email": value}, "email", value)

    def test_email_254_accepted(self):
        address = email_of_length(254)
        self.assertEqual(self.new_customer(email=address)["email"], address)

    def test_email_255_rejected(self):
        self.assert_rejected({"email": email_of_length(255)}, "email")

    def test_unknown_keys_named(self):
        reply = self.post("/customers", {"foo": 1, "firstname": "x", "barBaz": 2})
        self.assert_error(reply, 400, contains=["foo", "barBaz"])

    def test_key_names_case_sensitive(self):
        self.assert_rejected({"FirstName": "x"}, "FirstName")

    def test_unknown_key_creates_nothing(self):
        name = "unknown-" + h.uid()
        self.post("/customers", {"firstname": name, "nope": 1})
        rows, _ = self.list_all("/customers")
        self.assertNotIn(name, [row["firstname"] for row in rows])

    def test_bool_wrong_type(self):
        self.assert_rejected({"active": "yes"}, "active", "yes")

    def test_consent_wrong_type(self):
        self.assert_rejected({"profilingConsent": "true"}, "profilingConsent")

    def test_string_wrong_type(self):
        self.assert_rejected({"firstname": 5}, "firstname", "5", "string")

    def test_string_given_object(self):
        self.assert_rejected({"city": {"name": "Graz"}}, "city")

    def test_string_given_bool(self):
        self.assert_rejected({"email": True}, "email")

    def test_birthdate_wrong_type(self):
        self.assert_rejected({"birthdate": 20000101}, "birthdate", "20000101")

    def test_gender_wrong_type(self):
        self.assert_rejected({"gender": 1}, "gender")

    def test_password_wrong_type(self):
        self.assert_rejected({"password": 5}, "password")

    def test_every_bad_field_listed(self):
        reply = self.post("/customers", {"gender": "robot", "email": "plain", "nope": 1})
        self.assert_error(reply, 400, contains=["gender", "email", "nope"])

    def test_nul_character_rejected(self):
        """PostgreSQL cannot store U+0000, so every backend rejects it instead of cutting the
        text short."""
        for key in ("firstname", "lastname", "street", "zip", "city", "phone", "gender",
                    "birthdate", "countryCode", "email", "idEncoded"):
            with self.subTest(key=key):
                reply = self.post("/customers", {key: "a\u0000b"})
                self.assert_error(reply, 400, contains=[key, "a\\u0000b", "NUL", "U+0000"])

    def test_nul_character_creates_nothing(self):
        name = "nul-" + h.uid()
        self.assert_rejected({"firstname": name + "\u0000tail", "lastname": name}, "firstname")
        rows, _ = self.list_all("/customers")
        self.assertNotIn(name, [row["lastname"] for row in rows])

    def test_nul_character_in_password_not_quoted(self):
        secret = "pw-" + h.uid()
        reply = self.post("/customers", {"password": secret + "\u0000"})
        self.assert_error(reply, 400, contains=["password", "NUL"])
        self.assertNotIn(secret.encode(), reply.raw)


class CustomerUpdate(h.ServerCase):

    def test_absent_keeps(self):
        customer = self.new_customer(firstname="Keep", lastname="Me", city="Graz")
        updated = self.expect(self.patch(f"/customers/{customer['id']}", {"city": "Wien"}),
                              200).data
        self.assertEqual(updated["firstname"], "Keep")
        self.assertEqual(updated["lastname"], "Me")
        self.assertEqual(updated["city"], "Wien")

    def test_null_clears(self):
        customer = self.new_customer(firstname="Clear", gender="male", birthdate="1990-01-01")
        updated = self.expect(self.patch(f"/customers/{customer['id']}",
                                         {"firstname": None, "gender": None, "birthdate": None}),
                              200).data
        self.assertIsNone(updated["firstname"])
        self.assertIsNone(updated["gender"])
        self.assertIsNone(updated["birthdate"])

    def test_update_persists(self):
        customer = self.new_customer(firstname="Old")
        self.expect(self.patch(f"/customers/{customer['id']}", {"firstname": "New"}), 200)
        self.assertEqual(self.get(f"/customers/{customer['id']}").data["firstname"], "New")

    def test_every_update_method(self):
        customer = self.new_customer(firstname="Method", city="start")
        for method in ("PATCH", "PUT", "POST"):
            with self.subTest(method=method):
                reply = self.expect(self.request(method, f"/customers/{customer['id']}",
                                                 {"city": method}), 200)
                self.assertEqual(reply.data["city"], method)
                self.assertEqual(reply.data["firstname"], "Method")

    def test_envelope(self):
        customer = self.new_customer()
        reply = self.expect(self.patch(f"/customers/{customer['id']}", {"zip": "1010"}), 200)
        self.assertEqual(list(reply.body), ["timestamp", "data"])
        self.assertEqual(list(reply.data), h.CUSTOMER_KEYS)

    def test_empty_body_changes_nothing(self):
        customer = self.new_customer(firstname="Same")
        updated = self.expect(self.patch(f"/customers/{customer['id']}", {}), 200).data
        self.assertEqual(updated["firstname"], "Same")

    def test_put_back_what_was_read(self):
        customer = self.new_customer(firstname="Round", lastname="Trip", email="rt@example.com",
                                     countryCode="at", birthdate="1980-05-05", password="pw")
        read = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        reply = self.expect(self.put(f"/customers/{customer['id']}", read), 200)
        for key in h.CUSTOMER_KEYS:
            if key == "modificationDate":
                continue
            with self.subTest(key=key):
                self.assertEqual(reply.data[key], read[key])

    def test_put_back_with_activities(self):
        customer = self.new_customer(firstname="WithActs")
        self.new_activity(customer["id"])
        read = self.expect(self.get(f"/customers/{customer['id']}?includeActivities=true"),
                           200).data
        self.assertIn("activities", read)
        self.expect(self.put(f"/customers/{customer['id']}", read), 200)

    def test_nul_character_on_update_changes_nothing(self):
        customer = self.new_customer(firstname="Before")
        reply = self.patch(f"/customers/{customer['id']}", {"firstname": "Aft\u0000er"})
        self.assert_error(reply, 400, contains=["firstname", "NUL"])
        self.assertEqual(self.get(f"/customers/{customer['id']}").data, customer)

    def test_invalid_update_changes_nothing(self):
        customer = self.new_customer(firstname="Before")
        reply = self.patch(f"/customers/{customer['id']}", {"firstname": "After",
                                                              "gender": "robot"})
        self.assert_error(reply, 400, contains=["gender"])
        self.assertEqual(self.get(f"/customers/{customer['id']}").data, customer)

    def test_unknown_key_on_update(self):
        customer = self.new_customer()
        reply = self.patch(f"/customers/{customer['id']}", {"shoeSize": 44})
        self.assert_error(reply, 400, contains=["shoeSize"])

    def test_read_only_keys_any_type(self):
        customer = self.new_customer(city="before")
        reply = self.patch(f"/customers/{customer['id']}",
                           {"id": "x", "segments": "junk", "_links": 5, "creationDate": "abc",
                            "modificationDate": None, "activities": {}, "city": "after"})
        self.expect(reply, 200)
        self.assertEqual(reply.data["city"], "after")
        self.assertEqual(reply.data["creationDate"], customer["creationDate"])

    def test_id_in_body_ignored(self):
        customer = self.new_customer()
        reply = self.expect(self.patch(f"/customers/{customer['id']}", {"id": 5, "city": "c"}),
                            200)
        self.assertEqual(reply.data["id"], customer["id"])

    def test_modification_date_advances(self):
        customer = self.new_customer()
        h.wait_past(customer["modificationDate"])
        updated = self.expect(self.patch(f"/customers/{customer['id']}", {"city": "later"}),
                              200).data
        self.assertGreater(updated["modificationDate"], customer["modificationDate"])
        self.assertEqual(updated["creationDate"], customer["creationDate"])

    def test_country_code_upper_cased(self):
        customer = self.new_customer()
        updated = self.expect(self.patch(f"/customers/{customer['id']}", {"countryCode": "fr"}),
                              200).data
        self.assertEqual(updated["countryCode"], "FR")

    def test_empty_string_is_null(self):
        customer = self.new_customer(gender="male", email="e@example.com")
        updated = self.expect(self.patch(f"/customers/{customer['id']}",
                                         {"gender": "", "email": ""}), 200).data
        self.assertIsNone(updated["gender"])
        self.assertIsNone(updated["email"])

    def test_bools_update(self):
        customer = self.new_customer()
        updated = self.expect(self.patch(f"/customers/{customer['id']}",
                                         {"active": False, "profilingConsent": True}), 200).data
        self.assertIs(updated["active"], False)
        self.assertIs(updated["profilingConsent"], True)


class CustomerDelete(h.ServerCase):

    def deletions(self, entity_type):
        reply = self.expect(self.get("/deletions", query={"entityType": entity_type}), 200)
        return reply.data

    def test_204_empty(self):
        customer = self.new_customer()
        reply = self.expect(self.delete(f"/customers/{customer['id']}"), 204)
        self.assertEqual(reply.raw, b"")

    def test_gone_after_delete(self):
        customer = self.new_customer()
        self.expect(self.delete(f"/customers/{customer['id']}"), 204)
        self.assert_error(self.get(f"/customers/{customer['id']}"), 404,
                          msg=f"Customer with ID {customer['id']} was not found")

    def test_second_delete_404(self):
        customer = self.new_customer()
        self.expect(self.delete(f"/customers/{customer['id']}"), 204)
        self.assert_error(self.delete(f"/customers/{customer['id']}"), 404)

    def test_update_after_delete_404(self):
        customer = self.new_customer()
        self.expect(self.delete(f"/customers/{customer['id']}"), 204)
        self.assert_error(self.patch(f"/customers/{customer['id']}", {"city": "x"}), 404)

    def test_deletion_row(self):
        customer = self.new_customer()
        self.expect(self.delete(f"/customers/{customer['id']}"), 204)
        rows = [r for r in self.deletions("customers") if r["id"] == customer["id"]]
        self.assertEqual(len(rows), 1)
        self.assertEqual(rows[0]["entityType"], "customers")
        self.assertEqual(rows[0]["type"], "")

    def test_activity_deletion_rows(self):
        customer = self.new_customer()
        a = self.new_activity(customer["id"], type="login")
        b = self.new_activity(customer["id"], type="purchase")
        self.expect(self.delete(f"/customers/{customer['id']}"), 204)
        rows = {r["id"]: r for r in self.deletions("activities") if r["id"] in (a["id"], b["id"])}
        self.assertEqual(set(rows), {a["id"], b["id"]})
        self.assertEqual(rows[a["id"]]["type"], "login")
        self.assertEqual(rows[b["id"]]["type"], "purchase")
        self.assertEqual(rows[a["id"]]["entityType"], "activities")

    def test_activities_gone(self):
        customer = self.new_customer()
        activity = self.new_activity(customer["id"])
        self.expect(self.delete(f"/customers/{customer['id']}"), 204)
        self.assert_error(self.get(f"/activities/{activity['id']}"), 404)
        reply = self.expect(self.get("/activities", query={"customerId": customer["id"]}), 200)
        self.assertEqual(reply.data, [])

    def test_ids_never_reused(self):
        first = self.new_customer()
        self.expect(self.delete(f"/customers/{first['id']}"), 204)
        second = self.new_customer()
        self.assertGreater(second["id"], first["id"])

    def test_ids_never_reused_after_several(self):
        created = [self.new_customer() for _ in range(3)]
        for customer in created:
            self.expect(self.delete(f"/customers/{customer['id']}"), 204)
        again = self.new_customer()
        self.assertGreater(again["id"], max(c["id"] for c in created))

    def test_other_customers_kept(self):
        a = self.new_customer()
        b = self.new_customer()
        self.expect(self.delete(f"/customers/{a['id']}"), 204)
        self.expect(self.get(f"/customers/{b['id']}"), 200)


class CustomerFilters(h.ServerCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Three segments and customers a (s1, s2), b (s1), c (s2) for the segment filters.
        client = cls.client
        group = client.request("POST", "/segment-groups", {"name": "filters"}).body
        cls.s = [client.request("POST", "/segments", {"name": f"s{i}", "group": group["id"]}).body["id"]
                 for i in range(3)]
        cls.a = client.request("POST", "/customers", {"firstname": "a"}).data["id"]
        cls.b = client.request("POST", "/customers", {"firstname": "b"}).data["id"]
        cls.c = client.request("POST", "/customers", {"firstname": "c"}).data["id"]
        for customer, segments in ((cls.a, cls.s[:2]), (cls.b, [cls.s[0]]), (cls.c, [cls.s[1]])):
            client.request("POST", "/segments-of-customers",
                           {"customerId": customer, "addSegments": segments})

    def ids(self, query):
        rows, _ = self.list_all("/customers", query=query)
        return [row["id"] for row in rows]

    def test_list_envelope(self):
        reply = self.expect(self.get("/customers"), 200)
        self.assertEqual(list(reply.body), h.LIST_KEYS)
        self.assertEqual(reply.body["page"], 1)
        self.assertIsInstance(reply.body["timestamp"], int)

    def test_list_rows_full(self):
        reply = self.expect(self.get("/customers"), 200)
        for row in reply.data:
            self.assertEqual(list(row), h.CUSTOMER_KEYS)

    def test_modification_timestamp_strict(self):
        customer = self.new_customer()
        stamp = customer["modificationDate"]
        self.assertNotIn(customer["id"], self.ids({"modificationTimestamp": stamp}))

    def test_modification_timestamp_earlier(self):
        customer = self.new_customer()
        stamp = customer["modificationDate"]
        self.assertIn(customer["id"], self.ids({"modificationTimestamp": stamp - 1}))

    def test_modification_timestamp_rows_newer(self):
        customer = self.new_customer()
        since = customer["modificationDate"] - 1
        rows, _ = self.list_all("/customers", query={"modificationTimestamp": since})
        for row in rows:
            self.assertGreater(row["modificationDate"], since)

    def test_modification_timestamp_invalid(self):
        for value in ("abc", "1.5", "12x", "99999999999999999999"):
            with self.subTest(value=value):
                reply = self.get("/customers", query={"modificationTimestamp": value})
                self.assert_error(reply, 400, contains=["modificationTimestamp", value,
                                                        "9223372036854775807"])

    def test_segments_comma_and(self):
        self.assertEqual(self.ids({"segments": f"{self.s[0]},{self.s[1]}"}), [self.a])

    def test_segments_brackets_and(self):
        query = [("segments[]", self.s[0]), ("segments[]", self.s[1])]
        self.assertEqual(self.ids(query), [self.a])

    def test_segments_brackets_unencoded(self):
        path = f"/customers?segments[]={self.s[0]}&segments[]={self.s[1]}"
        reply = self.expect(self.get(path), 200)
        self.assertEqual([row["id"] for row in reply.data], [self.a])

    def test_segments_single(self):
        self.assertEqual(self.ids({"segments": self.s[0]}), [self.a, self.b])

    def test_segments_second(self):
        self.assertEqual(self.ids({"segments": self.s[1]}), [self.a, self.c])

    def test_segments_repeated_id(self):
        self.assertEqual(self.ids({"segments": f"{self.s[0]},{self.s[0]}"}), [self.a, self.b])

    def test_segments_unassigned(self):
        self.assertEqual(self.ids({"segments": self.s[2]}), [])

    def test_segments_unknown_matches_nothing(self):
        reply = self.expect(self.get("/customers", query={"segments": "999999999"}), 200)
        self.assertEqual(reply.data, [])
        self.assertEqual(reply.body["totalPages"], 0)

    def test_segments_with_unknown_matches_nothing(self):
        self.assertEqual(self.ids({"segments": f"{self.s[0]},999999999"}), [])

    def test_segments_invalid(self):
        reply = self.get("/customers", query={"segments": "abc"})
        self.assert_error(reply, 400, contains=["segments", "abc"])

    def test_segments_empty_item(self):
        for value in (",", f"{self.s[0]},", f",{self.s[0]}", f"{self.s[0]},,{self.s[1]}"):
            with self.subTest(value=value):
                reply = self.get("/customers", query={"segments": value})
                self.assert_error(reply, 400, contains=["segments", value, "without empty items"])

    def test_segments_empty_is_absent(self):
        everyone = self.ids({})
        self.assertEqual(self.ids({"segments": ""}), everyone)

    def test_segments_beyond_64_bits(self):
        value = "99999999999999999999"
        reply = self.get("/customers", query={"segments": f"{self.s[0]},{value}"})
        self.assert_error(reply, 400, contains=["segments", value, "positive integers"])

    def test_email_invalid_utf8(self):
        reply = self.get("/customers?email=%FF%FE")
        self.assert_error(reply, 400, contains=["email", "%FF%FE", "not valid UTF-8"])

    def test_email_nul_character(self):
        reply = self.get("/customers?email=a%00b%40example.com")
        self.assert_error(reply, 400, contains=["email", "a%00b@example.com", "NUL"])

    def test_email_case_insensitive(self):
        email = f"Case.{h.uid()}+tag@Example.COM"
        customer = self.new_customer(email=email)
        rows, _ = self.list_all("/customers", query={"email": email.lower()})
        self.assertEqual([row["id"] for row in rows], [customer["id"]])
        self.assertEqual(rows[0]["email"], email)

    def test_email_upper_query(self):
        email = f"lower.{h.uid()}@example.com"
        customer = self.new_customer(email=email)
        self.assertEqual(self.ids({"email": email.upper()}), [customer["id"]])

    def test_email_exact_only(self):
        email = f"exact.{h.uid()}@example.com"
        self.new_customer(email=email)
        self.assertEqual(self.ids({"email": email[:-4]}), [])
        self.assertEqual(self.ids({"email": "x" + email}), [])

    def test_filters_combined(self):
        email = f"combo.{h.uid()}@example.com"
        customer = self.new_customer(email=email)
        group = self.new_group()
        segment = self.new_segment(group["id"])
        self.set_segments(customer["id"], add=[segment["id"]])
        self.assertEqual(self.ids({"email": email, "segments": segment["id"]}), [customer["id"]])
        self.assertEqual(self.ids({"email": email, "segments": self.s[0]}), [])


class IncludeActivities(h.ServerCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        client = cls.client
        cls.email = f"acts.{h.uid()}@example.com"
        cls.customer = client.request("POST", "/customers", {"email": cls.email}).data
        cid = cls.customer["id"]
        dates = [300, 100, 200, 100]
        cls.activities = [client.request("POST", "/activities",
                                         {"customerId": cid, "type": "t", "activityDate": d}).data
                          for d in dates]
        # Ordered by activityDate, then id: the two at 100 first in creation order.
        a = cls.activities
        cls.expected_order = [a[1]["id"], a[3]["id"], a[2]["id"], a[0]["id"]]

    def test_true(self):
        reply = self.expect(self.get(f"/customers/{self.customer['id']}",
                                     query={"includeActivities": "true"}), 200)
        self.assertEqual([a["id"] for a in reply.data["activities"]], self.expected_order)

    def test_one(self):
        reply = self.expect(self.get(f"/customers/{self.customer['id']}",
                                     query={"includeActivities": "1"}), 200)
        self.assertEqual([a["id"] for a in reply.data["activities"]], self.expected_order)

    def test_absent(self):
        reply = self.expect(self.get(f"/customers/{self.customer['id']}"), 200)
        self.assertNotIn("activities", reply.data)

    def test_false(self):
        reply = self.expect(self.get(f"/customers/{self.customer['id']}",
                                     query={"includeActivities": "false"}), 200)
        self.assertNotIn("activities", reply.data)

    def test_key_position(self):
        reply = self.expect(self.get(f"/customers/{self.customer['id']}",
                                     query={"includeActivities": "true"}), 200)
        expected = h.CUSTOMER_KEYS[:-1] + ["activities", "_links"]
        self.assertEqual(list(reply.data), expected)

    def test_embedded_equals_activity(self):
        reply = self.expect(self.get(f"/customers/{self.customer['id']}",
                                     query={"includeActivities": "true"}), 200)
        embedded = reply.data["activities"][0]
        standalone = self.expect(self.get(f"/activities/{embedded['id']}"), 200).data
        self.assertEqual(embedded, standalone)

    def test_in_list(self):
        reply = self.expect(self.get("/customers", query={"email": self.email,
                                                          "includeActivities": "true"}), 200)
        self.assertEqual(len(reply.data), 1)
        self.assertEqual([a["id"] for a in reply.data[0]["activities"]], self.expected_order)

    def test_list_without(self):
        reply = self.expect(self.get("/customers", query={"email": self.email}), 200)
        self.assertNotIn("activities", reply.data[0])

    def test_customer_without_activities(self):
        customer = self.new_customer()
        reply = self.expect(self.get(f"/customers/{customer['id']}",
                                     query={"includeActivities": "true"}), 200)
        self.assertEqual(reply.data["activities"], [])


class CustomerPaging(h.ServerCase):
    """A database with exactly 105 customers; every test here only reads."""

    COUNT = 105

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        client = h.Client(cls.server.port, key=cls.key, keep_alive=True)
        cls.ids = [client.request("POST", "/customers", {"firstname": f"p{i}"}).data["id"]
                   for i in range(cls.COUNT)]
        client.close()

    def page(self, **query):
        return self.expect(self.get("/customers", query=query), 200)

    def test_default_page_size(self):
        reply = self.page()
        self.assertEqual(len(reply.data), 100)
        self.assertEqual(reply.body["totalPages"], 2)
        self.assertEqual(reply.body["page"], 1)

    def test_second_page(self):
        reply = self.page(page=2)
        self.assertEqual([row["id"] for row in reply.data], self.ids[100:])
        self.assertEqual(reply.body["page"], 2)

    def test_ids_ascending(self):
        reply = self.page(pageSize=1000)
        self.assertEqual([row["id"] for row in reply.data], sorted(self.ids))

    def test_pages_partition(self):
        seen = []
        for page in range(1, 12):
            seen += [row["id"] for row in self.page(page=page, pageSize=10).data]
        self.assertEqual(seen, self.ids)

    def test_total_pages(self):
        self.assertEqual(self.page(pageSize=10).body["totalPages"], 11)
        self.assertEqual(self.page(pageSize=105).body["totalPages"], 1)
        self.assertEqual(self.page(pageSize=104).body["totalPages"], 2)
        self.assertEqual(self.page(pageSize=1).body["totalPages"], 105)

    def test_last_page_partial(self):
        self.assertEqual(len(self.page(page=11, pageSize=10).data), 5)

    def test_page_past_end(self):
        reply = self.page(page=12, pageSize=10)
        self.assertEqual(reply.data, [])
        self.assertEqual(reply.body["page"], 12)
        self.assertEqual(reply.body["totalPages"], 11)

    def test_page_far_past_end(self):
        reply = self.page(page=1000000)
        self.assertEqual(reply.data, [])
        self.assertEqual(reply.body["page"], 1000000)

    def test_page_max_int64(self):
        reply = self.page(page=9223372036854775807)
        self.assertEqual(reply.data, [])
        self.assertEqual(reply.body["page"], 9223372036854775807)

    def test_nothing_matches(self):
        reply = self.page(email="nobody@example.com")
        self.assertEqual(reply.data, [])
        self.assertEqual(reply.body["totalPages"], 0)
        self.assertEqual(reply.body["page"], 1)

    def test_max_page_size(self):
        self.assertEqual(len(self.page(pageSize=1000).data), 105)

    def test_page_invalid(self):
        for value in ("0", "-1", "abc", "1.5", "99999999999999999999", "1e3"):
            with self.subTest(value=value):
                reply = self.get("/customers", query={"page": value})
                self.assert_error(reply, 400, contains=["page", value,
                                                        "from 1 to 9223372036854775807"])

    def test_page_size_invalid(self):
        for value in ("0", "-5", "abc", "2.5", "99999999999999999999"):
            with self.subTest(value=value):
                reply = self.get("/customers", query={"pageSize": value})
                self.assert_error(reply, 400, contains=["pageSize", value, "from 1 to 1000"])

    def test_page_size_above_max(self):
        reply = self.get("/customers", query={"pageSize": 1001})
        self.assert_error(reply, 400, contains=["pageSize", "1001", "1000"])

    def test_other_lists_validate_paging(self):
        for path in ("/activities", "/segments", "/segment-groups"):
            with self.subTest(path=path):
                self.assert_error(self.get(path, query={"page": 0}), 400, contains=["page"])
                self.assert_error(self.get(path, query={"pageSize": 1001}), 400,
                                  contains=["pageSize"])


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
