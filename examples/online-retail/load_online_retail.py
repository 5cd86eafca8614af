#!/usr/bin/env python3
"""Load the Online Retail sample data into a running cmfd over its REST API.

This is what a shop integration does: it keeps the shop's customers, their
orders and cancellations, and two segmentations in cmfd up to date, using only
the public webservice under /webservice/cmf. Running it again changes nothing
and creates nothing, and it prints the same counts.

The server must declare the unique customer field `customerNumber`, which
examples/online-retail/cmfd.toml does:

    build/cmfd serve --config examples/online-retail/cmfd.toml
    build/cmfd apikey create loader --config examples/online-retail/cmfd.toml
    CMFD_API_KEY=... python3 examples/online-retail/load_online_retail.py

How the CSV data is mapped:
- One customer per CustomerID. cmfd assigns its own ids, so the shop's number
  goes into `customerNumber` and the loader finds customers by it. The country
  name becomes an ISO 3166-1 alpha-2 `countryCode`. A customer with invoices
  from two countries gets the country of the latest invoice.
- One activity per invoice: type `order`, or `cancellation` when the invoice
  number starts with C. `a_id` is the invoice number, so posting an invoice
  again updates its activity instead of adding one. InvoiceDate has no time
  zone and is read as UTC; an invoice whose lines carry two timestamps gets
  the earliest one.
- Two segment groups: `Country group` (UK, EU, Rest of world, Country unknown)
  and `Order frequency` (0 orders, 1 order, 2-5 orders, 6+ orders, counting
  orders but not cancellations). Every customer is in exactly one segment of
  each group.

Standard library only (Python 3.9 or later).
"""

import argparse
import csv
import datetime
import decimal
import glob
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse
from collections import Counter
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from dataclasses import dataclass, field

API_PREFIX = "/webservice/cmf"

# Page size for list requests: the server's default maximum. A server
# configured with a lower [limits] max_page_size rejects it with 400.
PAGE_SIZE = 1000

# Country names of the full UCI Online Retail dataset mapped to ISO 3166-1
# alpha-2 codes. The last five named countries occur only outside the two
# sample files. None: the name has no country code.
COUNTRY_CODES = {
    "Australia": "AU", "Austria": "AT", "Bahrain": "BH", "Belgium": "BE",
    "Brazil": "BR", "Cyprus": "CY", "Czech Republic": "CZ", "Denmark": "DK",
    "Finland": "FI", "France": "FR", "Germany": "DE", "Greece": "GR",
    "Iceland": "IS", "Israel": "IL", "Italy": "IT", "Japan": "JP",
    "Lebanon": "LB", "Netherlands": "NL", "Norway": "NO", "Poland": "PL",
    "Portugal": "PT", "RSA": "ZA", "Saudi Arabia": "SA", "Singapore": "SG",
    "Spain": "ES", "Sweden": "SE", "Switzerland": "CH", "USA": "US",
    "United Arab Emirates": "AE", "United Kingdom": "GB",
    "Canada": "CA", "EIRE": "IE", "Hong Kong": "HK", "Lithuania": "LT",
    "Malta": "MT",
    "Unspecified": None, "Channel Islands": None, "European Community": None,
}

# The 27 member states of the European Union. The UK has a segment of its
# own, so it does not matter here that it was a member when the data was
# recorded.
EU_COUNTRY_CODES = {
    "AT", "BE", "BG", "HR", "CY", "CZ", "DK", "EE", "FI", "FR", "DE", "GR",
    "HU", "IE", "IT", "LV", "LT", "LU", "MT", "NL", "PL", "PT", "RO", "SK",
    "SI", "ES", "SE",
}

# Segment groups and their segments as (reference, name). The loader finds
# them by reference, so renaming one in cmfd does not make the loader create
# it again.
COUNTRY_GROUP = ("country-group", "Country group")
COUNTRY_SEGMENTS = [
    ("uk", "UK"),
    ("eu", "EU"),
    ("rest-of-world", "Rest of world"),
    ("unknown", "Country unknown"),
]
FREQUENCY_GROUP = ("order-frequency", "Order frequency")
FREQUENCY_SEGMENTS = [
    ("0-orders", "0 orders"),
    ("1-order", "1 order"),
    ("2-5-orders", "2-5 orders"),
    ("6-plus-orders", "6+ orders"),
]


class LoadError(Exception):
    """A failure that ends the run; its message names what failed and why."""


# ---- CSV data ----

@dataclass
class Invoice:
    number: str
    customer_number: int
    date: int  # Unix seconds, the earliest timestamp of the invoice's lines
    items: list = field(default_factory=list)
    total: decimal.Decimal = decimal.Decimal(0)

    @property
    def activity_type(self):
        return "cancellation" if self.number.startswith("C") else "order"


@dataclass
class ShopCustomer:
    number: int
    country_name: str = ""
    country_date: int = 0  # date of the invoice the country was taken from
    orders: int = 0
    cancellations: int = 0

    @property
    def country_code(self):
        return COUNTRY_CODES[self.country_name]

    @property
    def country_segment(self):
        code = self.country_code
        if code is None:
            return "unknown"
        if code == "GB":
            return "uk"
        if code in EU_COUNTRY_CODES:
            return "eu"
        return "rest-of-world"

    @property
    def frequency_segment(self):
        if self.orders == 0:
            return "0-orders"
        if self.orders == 1:
            return "1-order"
        if self.orders <= 5:
            return "2-5-orders"
        return "6-plus-orders"


def parse_invoice_date(text, where):
    """Convert an InvoiceDate such as 2010-12-01 08:45:00, read as UTC, to Unix seconds."""
    try:
        moment = datetime.datetime.strptime(text, "%Y-%m-%d %H:%M:%S")
    except ValueError:
        raise LoadError(f"{where}: invalid InvoiceDate {text!r}, expected YYYY-MM-DD HH:MM:SS")
    return int(moment.replace(tzinfo=datetime.timezone.utc).timestamp())


def parse_row(row, where):
    """Return (customer number, date, item) of one CSV line, checking every field used."""
    try:
        customer_number = int(decimal.Decimal(row["CustomerID"]))
        quantity = int(row["Quantity"])
        unit_price = decimal.Decimal(row["UnitPrice"])
    except (ValueError, decimal.InvalidOperation):
        raise LoadError(f"{where}: invalid CustomerID, Quantity or UnitPrice in {row}")
    if row["Country"] not in COUNTRY_CODES:
        raise LoadError(f"{where}: unknown country name {row['Country']!r}; "
                        f"add it to COUNTRY_CODES")

    date = parse_invoice_date(row["InvoiceDate"], where)
    item = {
        "stockCode": row["StockCode"],
        "description": row["Description"].rstrip(),
        "quantity": quantity,
        "unitPrice": unit_price,
    }
    return customer_number, date, item


def read_data(data_dir, limit_customers=None):
    """Read every CSV file in data_dir into customers and invoices, both keyed by number.

    With limit_customers, only the customers with the lowest numbers are kept.
    """
    paths = sorted(glob.glob(os.path.join(data_dir, "*.csv")))
    if not paths:
        raise LoadError(f"no CSV files in {data_dir}; pass --data-dir")

    customers = {}
    invoices = {}
    for path in paths:
        with open(path, newline="", encoding="utf-8") as csv_file:
            for line_number, row in enumerate(csv.DictReader(csv_file), start=2):
                where = f"{os.path.basename(path)}:{line_number}"
                customer_number, date, item = parse_row(row, where)

                invoice = invoices.get(row["InvoiceNo"])
                if invoice is None:
                    invoice = Invoice(row["InvoiceNo"], customer_number, date)
                    invoices[invoice.number] = invoice
                elif invoice.customer_number != customer_number:
                    raise LoadError(f"{where}: invoice {invoice.number} belongs to customers "
                                    f"{invoice.customer_number} and {customer_number}")
                invoice.date = min(invoice.date, date)
                invoice.items.append(item)
                invoice.total += item["quantity"] * item["unitPrice"]

                # The latest invoice decides the country; on equal dates the
                # later line wins, and lines are in chronological order.
                customer = customers.setdefault(customer_number, ShopCustomer(customer_number))
                if date >= customer.country_date:
                    customer.country_name = row["Country"]
                    customer.country_date = date

    if limit_customers is not None:
        kept_numbers = set(sorted(customers)[:limit_customers])
        customers = {number: customers[number] for number in kept_numbers}
        invoices = {number: invoice for number, invoice in invoices.items()
                    if invoice.customer_number in kept_numbers}

    for invoice in invoices.values():
        customer = customers[invoice.customer_number]
        if invoice.activity_type == "order":
            customer.orders += 1
        else:
            customer.cancellations += 1
    return customers, invoices


def money(amount):
    """Round an amount of pounds to pence, halves away from zero."""
    return amount.quantize(decimal.Decimal("0.01"), rounding=decimal.ROUND_HALF_UP)


def json_number(amount):
    """Convert a Decimal to a float that json writes with the same digits.

    Python writes a float as the shortest text that reads back as the same
    value, so a decimal with at most 15 significant digits keeps its digits
    (3.75 stays 3.75, 0.001 stays 0.001). Whole amounts gain a ".0".
    """
    return float(amount)


def activity_body(invoice, customer_id):
    items = [
        {
            "stockCode": item["stockCode"],
            "description": item["description"],
            "quantity": item["quantity"],
            "unitPrice": json_number(item["unitPrice"]),
        }
        for item in invoice.items
    ]
    return {
        "customerId": customer_id,
        "type": invoice.activity_type,
        "a_id": invoice.number,
        "activityDate": invoice.date,
        "attributes": {
            "invoiceNo": invoice.number,
            "items": items,
            "itemCount": len(items),
            "total": json_number(money(invoice.total)),
        },
    }


# ---- HTTP ----

class ApiClient:
    """A client of the cmfd webservice with one keep-alive connection per thread."""

    def __init__(self, base_url, api_key, timeout=60):
        url = urllib.parse.urlsplit(base_url)
        if url.scheme not in ("http", "https") or not url.hostname:
            raise LoadError(f"invalid --url {base_url!r}, expected e.g. http://127.0.0.1:8080")
        self.base_url = base_url
        self.scheme = url.scheme
        self.host = url.hostname
        self.port = url.port
        self.prefix = url.path.rstrip("/") + API_PREFIX
        self.api_key = api_key
        self.timeout = timeout
        self.local = threading.local()
        self.connections = []
        self.connections_lock = threading.Lock()

    def connection(self):
        connection = getattr(self.local, "connection", None)
        if connection is None:
            connection_class = (http.client.HTTPSConnection if self.scheme == "https"
                                else http.client.HTTPConnection)
            connection = connection_class(self.host, self.port, timeout=self.timeout)
            self.local.connection = connection
            with self.connections_lock:
                self.connections.append(connection)
        return connection

    def close(self):
        with self.connections_lock:
            for connection in self.connections:
                connection.close()
            self.connections.clear()

    def request(self, method, path, params=None, body=None, expected=(200,)):
        """Send one request and return (status, decoded JSON body or None).

        Raises LoadError with the server's message for a status not in expected.
        """
        target = self.prefix + path
        if params:
            target += "?" + urllib.parse.urlencode(params)
        headers = {"X-API-Key": self.api_key, "Accept": "application/json"}
        payload = None
        if body is not None:
            payload = json.dumps(body, separators=(",", ":")).encode("utf-8")
            headers["Content-Type"] = "application/json"

        # A server may close a kept-alive connection between two requests.
        # Then the request is sent once more on a new connection. Every write
        # this loader sends can be repeated safely: activities are upserted
        # by a_id, and a repeated create of a customer, segment or group is
        # rejected with 409 because of its unique number or reference.
        for attempt in (1, 2):
            connection = self.connection()
            try:
                connection.request(method, target, body=payload, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                connection.close()
                if attempt == 2:
                    raise LoadError(f"{method} {target}: the server closed the connection")
            except ConnectionRefusedError:
                raise LoadError(f"cannot connect to {self.base_url}: is cmfd running there?")
            except OSError as error:
                raise LoadError(f"{method} {target} failed: {error}")

        decoded = None
        if data:
            try:
                decoded = json.loads(data)
            except ValueError:
                raise LoadError(f"{method} {target}: status {response.status} with a body "
                                f"that is no JSON: {data[:200]!r}")
        if response.status not in expected:
            message = decoded.get("msg") if isinstance(decoded, dict) else None
            if not message:
                message = repr(data[:200])
            raise LoadError(f"{method} {target} failed with status {response.status}: {message}")
        return response.status, decoded

    def get(self, path, params=None):
        return self.request("GET", path, params)[1]

    def pages(self, path, params=None):
        """Yield the rows of every page of a list, in the server's order."""
        page = 1
        while True:
            query = dict(params or {}, page=page, pageSize=PAGE_SIZE)
            body = self.get(path, query)
            yield from body["data"]
            if page >= body["totalPages"]:
                return
            page += 1


def run_parallel(task, items, threads):
    """Call task(item) for every item on up to `threads` threads; return the results.

    The first exception cancels the items not yet started and is raised.
    """
    with ThreadPoolExecutor(max_workers=threads) as executor:
        futures = [executor.submit(task, item) for item in items]
        done, _ = wait(futures, return_when=FIRST_EXCEPTION)
        for future in done:
            if future.exception() is not None:
                for pending in futures:
                    pending.cancel()
                raise future.exception()
        return [future.result() for future in futures]


# ---- segments ----

def ensure_group(client, reference, name, retry=True):
    """Return (id, created) of the segment group with this reference, creating it if missing."""
    for group in client.pages("/segment-groups"):
        if group["reference"] == reference and not group["calculated"]:
            return group["id"], False

    status, body = client.request("POST", "/segment-groups",
                                  body={"name": name, "reference": reference},
                                  expected=(200, 409))
    if status == 409 and retry:
        # Another loader created it since the list above was read.
        return ensure_group(client, reference, name, retry=False)
    if status == 409:
        raise LoadError(f"creating segment group {reference!r} failed with 409: {body['msg']}")
    return body["id"], True


def ensure_segments(client, group_id, specs, retry=True):
    """Return ({reference: id}, number created) for the segments of a group."""
    existing = {segment["reference"]: segment["id"]
                for segment in client.pages("/segments", {"group": group_id})}
    created = 0
    for reference, name in specs:
        if reference in existing:
            continue
        status, body = client.request("POST", "/segments",
                                      body={"name": name, "group": group_id,
                                            "reference": reference},
                                      expected=(200, 409))
        if status == 409 and retry:
            # Another loader created it since the list above was read.
            return ensure_segments(client, group_id, specs, retry=False)
        if status == 409:
            raise LoadError(f"creating segment {reference!r} failed with 409: {body['msg']}")
        existing[reference] = body["id"]
        created += 1
    return {reference: existing[reference] for reference, _ in specs}, created


# ---- customers ----

def find_customer(client, number):
    """Return the cmfd customer whose customerNumber is `number`, or None."""
    rows = client.get("/customers", {"customerNumber": str(number), "pageSize": 2})["data"]
    matches = []
    for row in rows:
        # A server without the field ignores the unknown filter and lists
        # every customer, which must not be taken for a match.
        if "customerNumber" not in row:
            raise LoadError("the server has no customerNumber field; start cmfd with "
                            "--config examples/online-retail/cmfd.toml")
        if row["customerNumber"] == str(number):
            matches.append(row)
    if len(matches) > 1:
        raise LoadError(f"customers {matches[0]['id']} and {matches[1]['id']} both have "
                        f"customerNumber {number}; declare the field unique")
    return matches[0] if matches else None


def upsert_customer(client, shop_customer):
    """Create or update the customer; return (cmfd customer, created|updated|unchanged)."""
    number = shop_customer.number
    found = find_customer(client, number)
    if found is None:
        body = {"customerNumber": str(number), "countryCode": shop_customer.country_code}
        status, reply = client.request("POST", "/customers", body=body,
                                       expected=(201, 400, 409))
        if status == 201:
            return reply["data"], "created"
        if status == 400:
            raise LoadError(f"creating customer {number} failed with status 400: "
                            f"{reply.get('msg')} (does the server run with "
                            f"--config examples/online-retail/cmfd.toml?)")
        # 409: another client created this customer after the lookup above.
        found = find_customer(client, number)
        if found is None:
            raise LoadError(f"creating customer {number} failed with 409: {reply.get('msg')}")

    if found["countryCode"] == shop_customer.country_code:
        return found, "unchanged"
    _, reply = client.request("PATCH", f"/customers/{found['id']}",
                              body={"countryCode": shop_customer.country_code})
    return reply["data"], "updated"


def assign_segments(client, customer, expected, group_segments):
    """Put the customer in the expected segments and out of the other segments of their groups.

    Returns True when the assignment changed. A customer already assigned
    correctly gets no request, so a second run leaves modificationDate alone.
    """
    current = set(customer["segments"]) & group_segments
    if current == expected:
        return False
    body = {
        "customerId": customer["id"],
        "addSegments": sorted(expected),
        "removeSegments": sorted(group_segments - expected),
    }
    client.request("POST", "/segments-of-customers", body=body)
    return True


# ---- checks ----

class Checks:
    """Named comparisons of what the API returns with what the CSV files contain."""

    def __init__(self):
        self.results = []

    def expect_equal(self, name, actual, expected):
        self.results.append((name, actual, expected, actual == expected))

    @property
    def failed(self):
        return [result for result in self.results if not result[3]]

    def print(self):
        for name, actual, expected, passed in self.results:
            verdict = "ok" if passed else "FAILED"
            print(f"  {name}: {actual} (expected {expected}) {verdict}")


def check_customers(client, customers, expected_segments, group_segments, checks):
    """Compare every loaded customer as the list returns it with the CSV data.

    Returns {customer number: cmfd id} as read back.
    """
    numbers = {str(number): number for number in customers}
    seen = Counter()
    ids = {}
    wrong_country = 0
    wrong_segments = 0
    for row in client.pages("/customers"):
        number = numbers.get(row.get("customerNumber"))
        if number is None:
            continue
        seen[number] += 1
        ids[number] = row["id"]
        if row["countryCode"] != customers[number].country_code:
            wrong_country += 1
        if set(row["segments"]) & group_segments != expected_segments[number]:
            wrong_segments += 1

    checks.expect_equal("customers found by customerNumber", len(seen), len(customers))
    checks.expect_equal("customerNumbers held by two or more customers",
                        sum(1 for count in seen.values() if count > 1), 0)
    checks.expect_equal("customers with a wrong countryCode", wrong_country, 0)
    checks.expect_equal("customers with wrong segments", wrong_segments, 0)
    return ids


def check_activities(client, invoices, customer_ids, checks):
    """Count the activities of the loaded customers by type and look for duplicates."""
    id_to_number = {customer_id: number for number, customer_id in customer_ids.items()}
    by_type = Counter()
    a_ids = Counter()
    wrong_owner = 0
    for row in client.pages("/activities", {"type": "order,cancellation"}):
        number = id_to_number.get(row["customerId"])
        if number is None:
            continue
        by_type[row["type"]] += 1
        a_ids[(row["type"], row["a_id"])] += 1
        invoice = invoices.get(row["a_id"])
        if invoice is None or invoice.customer_number != number:
            wrong_owner += 1

    expected = Counter(invoice.activity_type for invoice in invoices.values())
    for activity_type in ("order", "cancellation"):
        checks.expect_equal(f"activities of type {activity_type}",
                            by_type[activity_type], expected[activity_type])
    checks.expect_equal("invoices stored more than once",
                        sum(1 for count in a_ids.values() if count > 1), 0)
    checks.expect_equal("activities on the wrong customer or with an unknown a_id",
                        wrong_owner, 0)


def check_segment_members(client, segment_names, expected_members, customer_ids, checks):
    """Count the loaded customers in each segment with the list's segments filter."""
    loaded_ids = set(customer_ids.values())
    for segment_id, name in segment_names.items():
        members = sum(1 for row in client.pages("/customers", {"segments": segment_id})
                      if row["id"] in loaded_ids)
        checks.expect_equal(f"segment {name!r} members", members,
                            expected_members[segment_id])


# ---- main ----

def parse_arguments(argv):
    script_dir = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(
        description="Load the Online Retail sample (customers, invoices, segments) into cmfd "
                    "over HTTP and check the result through the API.")
    parser.add_argument("--url", default="http://127.0.0.1:8080",
                        help="base URL of cmfd (default: %(default)s)")
    parser.add_argument("--api-key", default=os.environ.get("CMFD_API_KEY"),
                        help="read-write API key (default: the CMFD_API_KEY environment variable)")
    parser.add_argument("--data-dir", default=os.path.join(script_dir, "data"),
                        help="folder with the CSV files (default: data/ beside this script)")
    parser.add_argument("--limit-customers", type=int, metavar="N",
                        help="load only the N customers with the lowest numbers")
    parser.add_argument("--threads", type=int, default=4,
                        help="parallel connections, 1 to 32 (default: %(default)s)")
    args = parser.parse_args(argv)
    if not args.api_key:
        parser.error("no API key: pass --api-key or set CMFD_API_KEY "
                     "(create one with: build/cmfd apikey create NAME)")
    if not 1 <= args.threads <= 32:
        parser.error(f"--threads {args.threads} is out of range, expected 1 to 32")
    if args.limit_customers is not None and args.limit_customers < 1:
        parser.error(f"--limit-customers {args.limit_customers} must be at least 1")
    return args


def load(args):
    """Run every step and print the summary; return True when every check passed."""
    started = time.monotonic()
    customers, invoices = read_data(args.data_dir, args.limit_customers)
    type_counts = Counter(invoice.activity_type for invoice in invoices.values())
    print(f"data: {len(customers)} customers, {len(invoices)} invoices "
          f"({type_counts['order']} orders, {type_counts['cancellation']} cancellations) "
          f"from {args.data_dir}")

    client = ApiClient(args.url, args.api_key)
    try:
        # 1. Segment groups and segments, which the customers are assigned to.
        segments = {}  # (group reference, segment reference) -> (id, name)
        groups_created = segments_created = 0
        for (group_reference, group_name), specs in ((COUNTRY_GROUP, COUNTRY_SEGMENTS),
                                                      (FREQUENCY_GROUP, FREQUENCY_SEGMENTS)):
            group_id, created = ensure_group(client, group_reference, group_name)
            groups_created += created
            ids, created = ensure_segments(client, group_id, specs)
            segments_created += created
            names = dict(specs)
            for reference, segment_id in ids.items():
                segments[(group_reference, reference)] = (segment_id, names[reference])
        group_segments = {segment_id for segment_id, _ in segments.values()}
        print(f"segments: 2 groups ({groups_created} created), {len(segments)} segments "
              f"({segments_created} created)")

        # 2. Customers, each with its two segments.
        expected_segments = {
            number: {segments[(COUNTRY_GROUP[0], customer.country_segment)][0],
                     segments[(FREQUENCY_GROUP[0], customer.frequency_segment)][0]}
            for number, customer in customers.items()
        }

        def sync_customer(customer):
            row, outcome = upsert_customer(client, customer)
            changed = assign_segments(client, row, expected_segments[customer.number],
                                      group_segments)
            return customer.number, row["id"], outcome, changed

        step_started = time.monotonic()
        results = run_parallel(sync_customer, sorted(customers.values(),
                                                     key=lambda c: c.number), args.threads)
        customer_ids = {number: customer_id for number, customer_id, _, _ in results}
        outcomes = Counter(outcome for _, _, outcome, _ in results)
        reassigned = sum(1 for result in results if result[3])
        print(f"customers: {outcomes['created']} created, {outcomes['updated']} updated, "
              f"{outcomes['unchanged']} unchanged; segments changed for {reassigned} "
              f"({time.monotonic() - step_started:.1f} s)")

        # 3. One activity per invoice, upserted by a_id.
        def post_invoice(invoice):
            body = activity_body(invoice, customer_ids[invoice.customer_number])
            status, _ = client.request("POST", "/activities", body=body, expected=(200, 201))
            return "created" if status == 201 else "updated"

        step_started = time.monotonic()
        outcomes = Counter(run_parallel(post_invoice, sorted(invoices.values(),
                                                             key=lambda i: i.date),
                                        args.threads))
        print(f"activities: {outcomes['created']} created, {outcomes['updated']} updated "
              f"({time.monotonic() - step_started:.1f} s)")

        # 4. Read everything back through the list routes and compare.
        step_started = time.monotonic()
        checks = Checks()
        read_ids = check_customers(client, customers, expected_segments, group_segments,
                                   checks)
        check_activities(client, invoices, read_ids, checks)
        expected_members = Counter(segment_id for ids in expected_segments.values()
                                   for segment_id in ids)
        check_segment_members(client, dict(segments.values()), expected_members, read_ids,
                              checks)
    finally:
        client.close()

    print(f"checks ({time.monotonic() - step_started:.1f} s):")
    checks.print()
    elapsed = time.monotonic() - started
    if checks.failed:
        print(f"{len(checks.failed)} of {len(checks.results)} checks FAILED ({elapsed:.1f} s)")
        return False
    print(f"all {len(checks.results)} checks passed ({elapsed:.1f} s)")
    return True


def main(argv=None):
    args = parse_arguments(argv)
    try:
        passed = load(args)
    except LoadError as error:
        print(f"load_online_retail.py: {error}", file=sys.stderr)
        return 1
    return 0 if passed else 1


if __name__ == "__main__":
    sys.exit(main())
