"""The Online Retail example: its loader run twice against a real server.

The loader (examples/online-retail/load_online_retail.py) runs as an integrator
would run it, as a separate process talking HTTP. The test computes the expected
counts from the CSV files itself and reads the result back through the API, so
it does not depend on the loader's own checks.
"""

import collections
import csv
import glob
import os
import re
import subprocess
import sys

import cmfd_harness as h

EXAMPLE_DIR = os.path.normpath(os.path.join(h.HERE, "../../examples/online-retail"))
LOADER = os.path.join(EXAMPLE_DIR, "load_online_retail.py")
CONFIG = os.path.join(EXAMPLE_DIR, "cmfd.toml")

CUSTOMER_LIMIT = 40  # the customers with the lowest numbers: 12346 and up
LOADER_TIMEOUT = 300  # seconds for one loader run


def expected_data(limit):
    """Return ({customer number: set of invoice numbers}, Counter of activity types)
    for the `limit` lowest customer numbers, read straight from the CSV files."""
    invoices_by_customer = collections.defaultdict(set)
    for path in sorted(glob.glob(os.path.join(EXAMPLE_DIR, "data", "*.csv"))):
        with open(path, newline="", encoding="utf-8") as csv_file:
            for row in csv.DictReader(csv_file):
                number = int(float(row["CustomerID"]))
                invoices_by_customer[number].add(row["InvoiceNo"])
    kept_numbers = sorted(invoices_by_customer)[:limit]
    invoices = {number: invoices_by_customer[number] for number in kept_numbers}
    types = collections.Counter(
        "cancellation" if invoice.startswith("C") else "order"
        for numbers in invoices.values() for invoice in numbers)
    return invoices, types


def summary_counts(output, label):
    """Return {"created": n, ...} from the loader's summary line that starts with `label`."""
    for line in output.splitlines():
        if line.startswith(label + ":"):
            return {word: int(count) for count, word in
                    re.findall(r"(\d+) (created|updated|unchanged)", line)}
    raise AssertionError(f"no '{label}:' line in the loader output:\n{output}")


class OnlineRetailExample(h.BackendCase):

    def run_loader(self, port, key, *extra):
        environment = dict(os.environ, CMFD_API_KEY=key)
        return subprocess.run(
            [sys.executable, LOADER, "--url", f"http://127.0.0.1:{port}",
             "--limit-customers", str(CUSTOMER_LIMIT), "--threads", "2", *extra],
            capture_output=True, text=True, timeout=LOADER_TIMEOUT, env=environment,
            stdin=subprocess.DEVNULL)

    def assert_loader_passed(self, process):
        self.assertEqual(process.returncode, 0,
                         f"loader failed\nstdout:\n{process.stdout}\nstderr:\n{process.stderr}")
        self.assertIn("checks passed", process.stdout)

    def read_state(self, client):
        """Return (customers, activities) of the server, each a list of every row."""
        state = []
        for path in ("/customers", "/activities"):
            rows = []
            page = 1
            while True:
                reply = client.request("GET", path, query={"page": page, "pageSize": 1000})
                self.assertEqual(reply.status, 200, reply)
                rows += reply.data
                if page >= reply.body["totalPages"]:
                    break
                page += 1
            state.append(rows)
        return state

    def test_loader_twice_no_duplicates(self):
        with open(CONFIG, encoding="utf-8") as config_file:
            config_text = config_file.read()
        server, keys = self.new_server(config_text=config_text, keys=[("loader", False)])
        client = h.Client(server.port, key=keys["loader"], keep_alive=True)
        self.addCleanup(client.close)
        invoices, types = expected_data(CUSTOMER_LIMIT)
        invoice_count = sum(len(numbers) for numbers in invoices.values())

        # First run: everything is new.
        first = self.run_loader(server.port, keys["loader"])
        self.assert_loader_passed(first)
        self.assertEqual(summary_counts(first.stdout, "customers"),
                         {"created": CUSTOMER_LIMIT, "updated": 0, "unchanged": 0})
        self.assertEqual(summary_counts(first.stdout, "activities"),
                         {"created": invoice_count, "updated": 0})
        customers, activities = self.read_state(client)

        # The server contains exactly the subset, each customer once under its number.
        numbers = collections.Counter(row["customerNumber"] for row in customers)
        self.assertEqual(set(numbers), {str(number) for number in invoices})
        self.assertEqual(max(numbers.values()), 1)
        self.assertEqual(len(activities), invoice_count)
        self.assertEqual(collections.Counter(row["type"] for row in activities), types)
        number_of = {row["id"]: int(row["customerNumber"]) for row in customers}
        for row in activities:
            self.assertIn(row["a_id"], invoices[number_of[row["customerId"]]])

        # Each customer is in one segment of each of the two groups.
        groups = client.request("GET", "/segment-groups").data
        self.assertEqual(sorted(group["reference"] for group in groups),
                         ["country-group", "order-frequency"])
        for group in groups:
            segments = client.request("GET", "/segments", query={"group": group["id"]}).data
            segment_ids = {segment["id"] for segment in segments}
            for row in customers:
                self.assertEqual(len(segment_ids & set(row["segments"])), 1, row)

        # Customer 12346 has one order, 74215 jars at 1.04, and its cancellation.
        customer = next(row for row in customers if row["customerNumber"] == "12346")
        self.assertEqual(customer["countryCode"], "GB")
        order = next(row for row in activities if row["a_id"] == "541431")
        self.assertEqual(order["customerId"], customer["id"])
        self.assertEqual(order["type"], "order")
        self.assertEqual(order["activityDate"], 1295344860)  # 2011-01-18 10:01:00 UTC
        self.assertEqual(order["attributes"]["total"], 77183.6)
        self.assertEqual(order["attributes"]["itemCount"], 1)
        self.assertEqual(order["attributes"]["items"][0],
                         {"stockCode": "23166", "description": "MEDIUM CERAMIC TOP STORAGE JAR",
                          "quantity": 74215, "unitPrice": 1.04})
        cancellation = next(row for row in activities if row["a_id"] == "C541433")
        self.assertEqual(cancellation["type"], "cancellation")
        self.assertEqual(cancellation["attributes"]["total"], -77183.6)

        # Second run: nothing is created and the customers are not even written.
        second = self.run_loader(server.port, keys["loader"])
        self.assert_loader_passed(second)
        self.assertEqual(summary_counts(second.stdout, "customers"),
                         {"created": 0, "updated": 0, "unchanged": CUSTOMER_LIMIT})
        self.assertEqual(summary_counts(second.stdout, "activities"),
                         {"created": 0, "updated": invoice_count})
        self.assertIn("segments changed for 0", second.stdout)
        self.assertIn("2 groups (0 created), 8 segments (0 created)", second.stdout)

        customers_again, activities_again = self.read_state(client)
        self.assertEqual(customers_again, customers)
        self.assertEqual(sorted(row["id"] for row in activities_again),
                         sorted(row["id"] for row in activities))

    def test_loader_without_config_fails(self):
        # Without the customerNumber field the server rejects the loader's
        # first customer, and the loader stops with the server's message.
        server, keys = self.new_server(keys=[("loader", False)])
        process = self.run_loader(server.port, keys["loader"])
        self.assertEqual(process.returncode, 1, process.stdout)
        self.assertIn("customerNumber", process.stderr)
        self.assertIn("status 400", process.stderr)

    def test_loader_read_only_key_fails(self):
        with open(CONFIG, encoding="utf-8") as config_file:
            config_text = config_file.read()
        server, keys = self.new_server(config_text=config_text, keys=[("reader", True)])
        process = self.run_loader(server.port, keys["reader"])
        self.assertEqual(process.returncode, 1, process.stdout)
        self.assertIn("status 403", process.stderr)


h.expand(globals())
