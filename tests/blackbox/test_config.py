"""The TOML configuration: custom customer fields, required combinations, the duplicate check,
limits, and configuration errors."""

import threading
import unittest

import cmfd_harness as h

CONFIG = """
[limits]
max_body_bytes = 4096
max_page_size = 5

[customer]
required = [["email"], ["firstname", "lastname"]]
duplicate_check = ["email"]

[[customer.fields]]
name = "customerNumber"
type = "string"
unique = true

[[customer.fields]]
name = "loyaltyTier"
type = "select"
options = ["bronze", "silver", "gold"]

[[customer.fields]]
name = "points"
type = "int"

[[customer.fields]]
name = "memberSince"
type = "date"

[[customer.fields]]
name = "newsletter"
type = "bool"

[[customer.fields]]
name = "score"
type = "number"

[[customer.fields]]
name = "workEmail"
type = "email"

[[customer.fields]]
name = "billingCountry"
type = "country"
"""

EXTRA_KEYS = ["customerNumber", "loyaltyTier", "points", "memberSince", "newsletter", "score",
              "workEmail", "billingCountry"]
CUSTOMER_KEYS = (h.CUSTOMER_KEYS[:h.CUSTOMER_KEYS.index("phone") + 1] + EXTRA_KEYS
                 + h.CUSTOMER_KEYS[h.CUSTOMER_KEYS.index("phone") + 1:])


def unique_email():
    return f"cfg-{h.uid()}@example.com"


class ConfiguredCase(h.ServerCase):
    config_text = CONFIG

    def create(self, **fields):
        """POST a customer that satisfies the required fields unless `fields` decides them."""
        body = {"email": unique_email()}
        body.update(fields)
        return self.post("/customers", body)

    def new(self, **fields):
        return self.expect(self.create(**fields), 201).data


class CustomFields(ConfiguredCase):

    def test_key_order(self):
        self.assertEqual(list(self.new()), CUSTOMER_KEYS)

    def test_defaults_null(self):
        customer = self.new()
        for key in EXTRA_KEYS:
            with self.subTest(key=key):
                self.assertIsNone(customer[key])

    def test_values_stored(self):
        values = {"customerNumber": "CN-" + h.uid(), "loyaltyTier": "gold", "points": 12,
                  "memberSince": "2020-02-29", "newsletter": True, "score": 1.5,
                  "workEmail": "work@example.com", "billingCountry": "AT"}
        customer = self.new(**values)
        for key, value in values.items():
            with self.subTest(key=key):
                self.assertEqual(customer[key], value)

    def test_values_read_back(self):
        customer = self.new(loyaltyTier="silver", points=-3, newsletter=False)
        fetched = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        self.assertEqual(fetched, customer)

    def test_select_case_sensitive(self):
        for value in ("Gold", "GOLD", "platinum"):
            with self.subTest(value=value):
                self.assert_error(self.create(loyaltyTier=value), 400,
                                  contains=["loyaltyTier", value])

    def test_select_wrong_type(self):
        self.assert_error(self.create(loyaltyTier=1), 400, contains=["loyaltyTier"])

    def test_int_rejects(self):
        for value in ("12", 1.5, True, "abc", 9223372036854775808, -9223372036854775809):
            with self.subTest(value=value):
                self.assert_error(self.create(points=value), 400, contains=["points"])

    def test_int_64_bit(self):
        self.assertEqual(self.new(points=9007199254740993)["points"], 9007199254740993)

    def test_number_accepts(self):
        for value in (2, 2.25, -0.5):
            with self.subTest(value=value):
                self.assertEqual(self.new(score=value)["score"], value)

    def test_number_rejects(self):
        for value in ("1.5", True, [1]):
            with self.subTest(value=value):
                self.assert_error(self.create(score=value), 400, contains=["score"])

    def test_date_rejects(self):
        for value in ("2021-02-29", "2020-13-01", "yesterday", 20200101):
            with self.subTest(value=value):
                self.assert_error(self.create(memberSince=value), 400, contains=["memberSince"])

    def test_bool_rejects(self):
        for value in ("yes", 1, "true"):
            with self.subTest(value=value):
                self.assert_error(self.create(newsletter=value), 400, contains=["newsletter"])

    def test_email_rejects(self):
        self.assert_error(self.create(workEmail="not-an-email"), 400,
                          contains=["workEmail", "not-an-email"])

    def test_country_rejects(self):
        for value in ("XX", "DEU"):
            with self.subTest(value=value):
                self.assert_error(self.create(billingCountry=value), 400,
                                  contains=["billingCountry"])

    def test_country_upper_cased(self):
        self.assertEqual(self.new(billingCountry="ch")["billingCountry"], "CH")

    def test_string_limit(self):
        self.assertEqual(self.new(customerNumber="n" * 255)["customerNumber"], "n" * 255)
        self.assert_error(self.create(customerNumber="n" * 256), 400,
                          contains=["customerNumber"])

    def test_nul_character_rejected(self):
        """PostgreSQL cannot store U+0000, so every backend rejects it in extra fields too."""
        for key in ("customerNumber", "loyaltyTier", "memberSince", "workEmail",
                    "billingCountry"):
            with self.subTest(key=key):
                self.assert_error(self.create(**{key: "a\u0000b"}), 400,
                                  contains=[key, "a\\u0000b", "NUL", "U+0000"])

    def test_empty_string_on_typed_is_null(self):
        customer = self.new(loyaltyTier="", points="", memberSince="", newsletter="",
                            score="", workEmail="", billingCountry="")
        for key in ("loyaltyTier", "points", "memberSince", "newsletter", "score", "workEmail",
                    "billingCountry"):
            with self.subTest(key=key):
                self.assertIsNone(customer[key])

    def test_update_and_clear(self):
        customer = self.new(loyaltyTier="bronze", points=1)
        updated = self.expect(self.patch(f"/customers/{customer['id']}",
                                         {"loyaltyTier": "gold", "points": None}), 200).data
        self.assertEqual(updated["loyaltyTier"], "gold")
        self.assertIsNone(updated["points"])

    def test_absent_keeps(self):
        customer = self.new(loyaltyTier="bronze")
        updated = self.expect(self.patch(f"/customers/{customer['id']}", {"points": 5}),
                              200).data
        self.assertEqual(updated["loyaltyTier"], "bronze")

    def test_put_back_what_was_read(self):
        customer = self.new(customerNumber="CN-" + h.uid(), loyaltyTier="gold", points=3)
        read = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        reply = self.expect(self.put(f"/customers/{customer['id']}", read), 200).data
        self.assertEqual(reply["customerNumber"], customer["customerNumber"])

    def test_unknown_field_still_rejected(self):
        self.assert_error(self.create(customerNo="x"), 400, contains=["customerNo"])


class UniqueField(ConfiguredCase):

    def test_second_create_conflicts(self):
        number = "CN-" + h.uid()
        first = self.new(customerNumber=number)
        reply = self.create(customerNumber=number)
        self.assert_error(reply, 409, contains=[str(first["id"])])

    def test_update_conflicts(self):
        number = "CN-" + h.uid()
        first = self.new(customerNumber=number)
        second = self.new(customerNumber="CN-" + h.uid())
        reply = self.patch(f"/customers/{second['id']}", {"customerNumber": number})
        self.assert_error(reply, 409, contains=[str(first["id"])])

    def test_keep_own_value(self):
        customer = self.new(customerNumber="CN-" + h.uid())
        reply = self.patch(f"/customers/{customer['id']}",
                           {"customerNumber": customer["customerNumber"], "city": "x"})
        self.expect(reply, 200)

    def test_null_not_unique(self):
        self.new()
        self.new()

    def test_empty_string_is_null(self):
        first = self.new(customerNumber="")
        second = self.new(customerNumber="")
        self.assertIsNone(first["customerNumber"])
        self.assertIsNone(second["customerNumber"])
        # Clearing a value with "" frees it too.
        number = "CN-" + h.uid()
        third = self.new(customerNumber=number)
        cleared = self.expect(self.patch(f"/customers/{third['id']}", {"customerNumber": ""}),
                              200).data
        self.assertIsNone(cleared["customerNumber"])
        self.new(customerNumber=number)

    def test_value_free_after_delete(self):
        number = "CN-" + h.uid()
        first = self.new(customerNumber=number)
        self.expect(self.delete(f"/customers/{first['id']}"), 204)
        self.new(customerNumber=number)

    def test_concurrent_creates(self):
        number = "CN-" + h.uid()
        replies = []

        def send():
            client = h.Client(self.server.port, key=self.key)
            replies.append(client.request("POST", "/customers", {"email": unique_email(),
                                                                 "customerNumber": number}))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(sorted(r.status for r in replies), [201, 409, 409, 409])
        reply = self.expect(self.get("/customers", query={"customerNumber": number}), 200)
        self.assertEqual(len(reply.data), 1)

    def test_filter(self):
        number = "CN-" + h.uid()
        customer = self.new(customerNumber=number)
        self.new(customerNumber=number + "0")
        reply = self.expect(self.get("/customers", query={"customerNumber": number}), 200)
        self.assertEqual([row["id"] for row in reply.data], [customer["id"]])

    def test_filter_no_match(self):
        reply = self.expect(self.get("/customers", query={"customerNumber": "none-" + h.uid()}),
                            200)
        self.assertEqual(reply.data, [])
        self.assertEqual(reply.body["totalPages"], 0)

    def test_filter_invalid_utf8(self):
        reply = self.get("/customers?customerNumber=%FF%FE")
        self.assert_error(reply, 400, contains=["customerNumber", "%FF%FE", "not valid UTF-8"])

    def test_filter_nul_character(self):
        reply = self.get("/customers?customerNumber=12%0034")
        self.assert_error(reply, 400, contains=["customerNumber", "12%0034", "NUL"])

    def test_filter_exact_case(self):
        number = "cn-lower-" + h.uid()
        self.new(customerNumber=number)
        reply = self.expect(self.get("/customers", query={"customerNumber": number.upper()}),
                            200)
        self.assertEqual(reply.data, [])


class RequiredFields(ConfiguredCase):

    def test_email_alone(self):
        self.expect(self.post("/customers", {"email": unique_email()}), 201)

    def test_names_alone(self):
        self.expect(self.post("/customers", {"firstname": "A", "lastname": "B"}), 201)

    def test_nothing(self):
        reply = self.post("/customers", {"city": "Graz"})
        self.assert_error(reply, 400, contains=["email", "firstname", "lastname"])

    def test_firstname_only(self):
        reply = self.post("/customers", {"firstname": "A"})
        self.assert_error(reply, 400, contains=["email", "firstname", "lastname"])

    def test_empty_strings_not_filled(self):
        reply = self.post("/customers", {"firstname": "", "lastname": "B", "email": ""})
        self.assert_error(reply, 400, contains=["email", "firstname", "lastname"])

    def test_update_removing_required(self):
        customer = self.expect(self.post("/customers", {"email": unique_email()}), 201).data
        reply = self.patch(f"/customers/{customer['id']}", {"email": None})
        self.assert_error(reply, 400, contains=["email"])
        after = self.expect(self.get(f"/customers/{customer['id']}"), 200).data
        self.assertEqual(after["email"], customer["email"])

    def test_update_switching_combination(self):
        customer = self.expect(self.post("/customers", {"email": unique_email()}), 201).data
        reply = self.patch(f"/customers/{customer['id']}",
                           {"email": None, "firstname": "A", "lastname": "B"})
        self.expect(reply, 200)


class DuplicateCheck(ConfiguredCase):

    def test_same_email_conflicts(self):
        email = unique_email()
        first = self.new(email=email)
        self.assert_error(self.create(email=email), 409, contains=[str(first["id"])])

    def test_email_case_insensitive(self):
        email = unique_email()
        first = self.new(email=email)
        self.assert_error(self.create(email=email.upper()), 409, contains=[str(first["id"])])

    def test_update_conflicts(self):
        email = unique_email()
        first = self.new(email=email)
        second = self.new()
        reply = self.patch(f"/customers/{second['id']}", {"email": email})
        self.assert_error(reply, 409, contains=[str(first["id"])])

    def test_update_own_email(self):
        customer = self.new()
        reply = self.patch(f"/customers/{customer['id']}", {"email": customer["email"],
                                                             "city": "same"})
        self.expect(reply, 200)

    def test_conflict_creates_nothing(self):
        email = unique_email()
        self.new(email=email)
        self.create(email=email)
        reply = self.expect(self.get("/customers", query={"email": email}), 200)
        self.assertEqual(len(reply.data), 1)

    def test_concurrent_creates(self):
        email = unique_email()
        replies = []

        def send():
            client = h.Client(self.server.port, key=self.key)
            replies.append(client.request("POST", "/customers", {"email": email}))

        threads = [threading.Thread(target=send) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        self.assertEqual(sorted(r.status for r in replies), [201, 409, 409, 409])

    def test_null_emails_no_conflict(self):
        self.expect(self.post("/customers", {"firstname": "A", "lastname": "B"}), 201)
        self.expect(self.post("/customers", {"firstname": "A", "lastname": "B"}), 201)


class DuplicateCheckOnNames(h.ServerCase):
    config_text = '[customer]\nduplicate_check = ["firstname", "lastname"]\n'

    def test_all_fields_equal_conflicts(self):
        last = "Lee-" + h.uid()
        first = self.new_customer(firstname="Ann", lastname=last)
        reply = self.post("/customers", {"firstname": "ann", "lastname": last.upper()})
        self.assert_error(reply, 409, contains=[str(first["id"])])

    def test_one_field_differs(self):
        last = "Lee-" + h.uid()
        self.new_customer(firstname="Ann", lastname=last)
        self.expect(self.post("/customers", {"firstname": "Bob", "lastname": last}), 201)

    def test_update_into_duplicate(self):
        last = "Lee-" + h.uid()
        first = self.new_customer(firstname="Ann", lastname=last)
        other = self.new_customer(firstname="Bob", lastname=last)
        reply = self.patch(f"/customers/{other['id']}", {"firstname": "ANN"})
        self.assert_error(reply, 409, contains=[str(first["id"])])

    def test_email_not_checked(self):
        email = unique_email()
        self.new_customer(email=email, firstname="A", lastname="x" + h.uid())
        reply = self.post("/customers", {"email": email, "firstname": "B",
                                         "lastname": "y" + h.uid()})
        self.expect(reply, 201)


class Limits(ConfiguredCase):

    def test_default_page_size_is_max(self):
        for _ in range(6):
            self.new()
        reply = self.expect(self.get("/customers"), 200)
        self.assertEqual(len(reply.data), 5)

    def test_page_size_at_max(self):
        self.expect(self.get("/customers", query={"pageSize": 5}), 200)

    def test_page_size_above_max(self):
        self.assert_error(self.get("/customers", query={"pageSize": 6}), 400,
                          contains=["pageSize", "6", "5"])

    def test_body_at_limit(self):
        head = ('{"email":"' + unique_email() + '"').encode()
        body = head + b" " * (4096 - len(head) - 1) + b"}"
        self.assertEqual(len(body), 4096)
        self.expect(self.request("POST", "/customers", raw_body=body), 201)

    def test_body_over_limit(self):
        head = ('{"email":"' + unique_email() + '"').encode()
        body = head + b" " * (4097 - len(head) - 1) + b"}"
        status, _, _ = h.send_oversized(self.server.port, h.PREFIX + "/customers", self.key,
                                        body)
        self.assertEqual(status, 413)


class ConfigFiles(h.BackendCase):

    def serve_fails(self, config_text, *named):
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        path = db.folder + "/bad.toml"
        with open(path, "w", encoding="utf-8") as f:
            f.write(config_text)
        proc = h.run_cli(["serve", "--database", db.url, "--listen",
                          f"127.0.0.1:{h.free_port()}", "--config", path], timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        for part in named:
            self.assertIn(part, proc.stdout + proc.stderr)

    def test_unknown_key(self):
        self.serve_fails("[limits]\nmax_body_byte = 5\n", "max_body_byte")

    def test_wrong_type(self):
        self.serve_fails('[limits]\nmax_page_size = "many"\n', "max_page_size")

    def test_unknown_field_type(self):
        self.serve_fails('[[customer.fields]]\nname = "x"\ntype = "blob"\n', "blob")

    def test_select_without_options(self):
        self.serve_fails('[[customer.fields]]\nname = "tier"\ntype = "select"\n', "options")

    def test_field_clashes_with_builtin(self):
        self.serve_fails('[[customer.fields]]\nname = "email"\ntype = "string"\n', "email")

    def test_syntax_error(self):
        self.serve_fails("[limits\n", "")

    def test_missing_file(self):
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        missing = db.folder + "/missing.toml"
        proc = h.run_cli(["serve", "--database", db.url, "--listen",
                          f"127.0.0.1:{h.free_port()}", "--config", missing], timeout=30)
        self.assertNotEqual(proc.returncode, 0)
        self.assertIn("missing.toml", proc.stdout + proc.stderr)

    def test_command_line_overrides_listen(self):
        other = h.free_port()
        server, keys = self.new_server(config_text=f'listen = "127.0.0.1:{other}"\n',
                                       keys=[("k", False)])
        reply = h.Client(server.port, key=keys["k"]).request("GET", "/customers")
        self.assertEqual(reply.status, 200)

    def test_database_from_file(self):
        db = h.Database(self.backend)
        self.addCleanup(db.drop)
        key = h.create_key(db, "filed")
        server, _ = self.new_server(database=db, config_text=f'database = "{db.url}"\n',
                                    with_database_option=False)
        reply = h.Client(server.port, key=key).request("GET", "/customers")
        self.assertEqual(reply.status, 200)

    def test_max_page_size_default_100(self):
        server, keys = self.new_server(config_text="[limits]\nmax_page_size = 500\n",
                                       keys=[("k", False)])
        client = h.Client(server.port, key=keys["k"], keep_alive=True)
        for _ in range(101):
            client.request("POST", "/customers", {})
        self.assertEqual(len(client.request("GET", "/customers").data), 100)
        self.assertEqual(client.request("GET", "/customers?pageSize=500").status, 200)
        self.assertEqual(client.request("GET", "/customers?pageSize=501").status, 400)
        client.close()


h.expand(globals())

if __name__ == "__main__":
    unittest.main()
