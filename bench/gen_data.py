#!/usr/bin/env python3
"""Generate benchmark data for cmfd as NDJSON files in the API's JSON.

Writes into OUT_DIR:
  customers.ndjson       one customer per line (POST /customers body)
  activities.ndjson      one activity per line (POST /activities body)
  segment_groups.ndjson  5 segment groups (POST /segment-groups bodies)
  segments.ndjson        50 segments, 10 per group (POST /segments bodies)
  assignments.ndjson     segments of customers, one line per customer that has
                         any (POST /segments-of-customers bodies)
  manifest.json          the parameters and the counts written

The shapes follow the UCI Online Retail dataset (CC BY 4.0) through the tables
of distributions.json (see derive_distributions.py): customer countries,
invoices per customer, lines per invoice, products with their unit prices,
quantities, invoice days and hours. Names, e-mails, addresses, genders, birth
dates and the non-invoice activity types are synthetic.

Id assumptions (run.sh checks them after the import): the files are imported
into an empty database, customers first and in file order, so the n-th
customer gets id n; groups and segments are created in file order, so group g
has id g and segment s has id s.

Output is deterministic for a given seed and set of options. The seed drives
separate random streams for customers, activities and assignments, so that,
for example, changing --max-items leaves the customers unchanged.
"""

import argparse
import json
import os
import random
import sys
import time
import unicodedata
from array import array
from datetime import date, datetime, timezone

HERE = os.path.dirname(os.path.abspath(__file__))

# Sampling pools hold 2**POOL_BITS entries so that one getrandbits() call picks
# an entry with the pool's weights (each value repeated in proportion).
POOL_BITS = 16
POOL_SIZE = 1 << POOL_BITS

FIRST_NAMES_FEMALE = ["Anna", "Maria", "Emma", "Sophie", "Olivia", "Chloé", "Zoë", "Laura",
                      "Julia", "Hannah", "Léa", "Sara", "Ingrid", "Aoife", "Lucía", "Mia",
                      "Isabel", "Charlotte", "Amélie", "Freya"]
FIRST_NAMES_MALE = ["James", "Oliver", "Lukas", "Thomas", "Jonas", "Noah", "Łukasz", "Mateo",
                    "Luca", "Hugo", "Finn", "Oskar", "Pierre", "Daniel", "Jan", "Erik", "Ben",
                    "Max", "José", "Henrik"]
LAST_NAMES = ["Smith", "Jones", "Taylor", "Brown", "Williams", "Müller", "Schmidt", "Schneider",
              "Fischer", "Martin", "Bernard", "Dubois", "García", "Fernández", "Rossi", "Russo",
              "Silva", "Santos", "Jansen", "de Vries", "Nielsen", "Hansen", "Johansson",
              "Virtanen", "Kowalski", "Nowak", "Peeters", "Novák", "O'Brien", "Wilson"]
STREETS = ["High Street", "Station Road", "Main Street", "Church Lane", "Park Road",
           "Hauptstraße", "Rue de la Paix", "Calle Mayor", "Via Roma", "Kirkegade"]
CITIES = {
    "GB": ["London", "Manchester", "Birmingham", "Leeds", "Bristol", "Glasgow"],
    "FR": ["Paris", "Lyon", "Marseille", "Lille"], "DE": ["Berlin", "Hamburg", "München", "Köln"],
    "ES": ["Madrid", "Barcelona", "Valencia"], "BE": ["Brussels", "Antwerp"],
    "CH": ["Zürich", "Geneva", "Basel"], "PT": ["Lisbon", "Porto"], "IT": ["Roma", "Milano"],
    "FI": ["Helsinki"], "NO": ["Oslo"], "AT": ["Wien"], "AU": ["Sydney", "Melbourne"],
    "NL": ["Amsterdam", "Rotterdam"], "JP": ["Tokyo"], "DK": ["København"], "SE": ["Stockholm"],
    "PL": ["Warszawa"], "CY": ["Nicosia"], "IL": ["Tel Aviv"], "US": ["New York", "Chicago"],
}
GENDERS = [("female", 48), ("male", 48), ("other", 1), (None, 3)]
SEGMENTS_PER_CUSTOMER = [(0, 20), (1, 30), (2, 25), (3, 15), (4, 10)]
GROUP_NAMES = ["Interests", "Value", "Lifecycle", "Channel", "Region"]

# Activity types: invoices become "order" or "cancellation" (the cancellation
# share comes from the dataset); this synthetic share of all activities gets
# one of the other types.
OTHER_TYPES = [("login", 5), ("newsletter-signup", 2), ("support-ticket", 1)]
OTHER_SHARE = sum(weight for _, weight in OTHER_TYPES) / 100


def weighted_pool(pairs):
    """Return a list of POOL_SIZE values, each value repeated by its weight.

    Every value with a positive weight gets at least one entry, so the tail of
    a heavy-tailed histogram is kept (slightly over-weighted).
    """
    total = sum(weight for _, weight in pairs)
    pool = []
    for value, weight in pairs:
        pool.extend([value] * max(1, round(weight * POOL_SIZE / total)))
    while len(pool) < POOL_SIZE:  # rounding left gaps: pad with the most common value
        pool.append(max(pairs, key=lambda pair: pair[1])[0])
    # Shrinking keeps every value that fits; trimming drops surplus copies of
    # common values first, because the list is cut after a sort by frequency.
    if len(pool) > POOL_SIZE:
        counts = {}
        for value in pool:
            counts[value] = counts.get(value, 0) + 1
        excess = len(pool) - POOL_SIZE
        for value in sorted(counts, key=counts.get, reverse=True):
            take = min(excess, counts[value] - 1)
            counts[value] -= take
            excess -= take
            if not excess:
                break
        pool = [value for value in counts for _ in range(counts[value])]
    return pool


def int_histogram(table):
    return [(int(key), count) for key, count in table.items()]


class Tables:
    """The distributions.json tables as sampling pools."""

    def __init__(self, path):
        with open(path, encoding="utf-8") as handle:
            data = json.load(handle)
        self.summary = data["summary"]
        self.countries = weighted_pool(list(data["countries"].items()))
        self.invoices_per_customer = weighted_pool(int_histogram(data["invoices_per_customer"]))
        self.order_lines = weighted_pool(int_histogram(data["order_lines_per_invoice"]))
        self.cancellation_lines = weighted_pool(
            int_histogram(data["cancellation_lines_per_invoice"]))
        self.order_quantities = weighted_pool(int_histogram(data["order_quantities"]))
        self.cancellation_quantities = weighted_pool(
            int_histogram(data["cancellation_quantities"]))
        self.cancellation_share = data["summary"]["cancellation_share"]

        # Days as epoch seconds of midnight UTC; InvoiceDate is read as UTC.
        day_pairs = []
        for day, count in data["invoice_days"].items():
            midnight = datetime.fromisoformat(day).replace(tzinfo=timezone.utc)
            day_pairs.append((int(midnight.timestamp()), count))
        self.days = weighted_pool(day_pairs)
        self.hours = weighted_pool(int_histogram(data["invoice_hours"]))

        # Products as index into a list of pre-rendered JSON item prefixes, so
        # that an item costs one string concatenation.
        self.product_prefix = []
        self.product_price = []
        pairs = []
        for index, (code, description, price, lines) in enumerate(data["products"]):
            self.product_prefix.append(
                '{"stockCode":%s,"description":%s,"unitPrice":%s,"quantity":'
                % (json.dumps(code), json.dumps(description, ensure_ascii=False), price))
            self.product_price.append(float(price))
            pairs.append((index, lines))
        self.products = weighted_pool(pairs)


def ascii_fold(text):
    folded = text.translate(str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss",
                                           "Ł": "L", "ł": "l", "'": "", " ": ""}))
    return "".join(ch for ch in unicodedata.normalize("NFKD", folded)
                   if ord(ch) < 128).lower()


def write_customers(path, count, tables, rng):
    """Write `count` customers; customer n has customerNumber 10000000 + n."""
    bits = rng.getrandbits
    genders = weighted_pool(GENDERS)
    today = date.today()
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        lines = []
        for n in range(1, count + 1):
            gender = genders[bits(POOL_BITS)]
            if gender == "female" or (gender != "male" and bits(1)):
                first = FIRST_NAMES_FEMALE[rng.randrange(len(FIRST_NAMES_FEMALE))]
            else:
                first = FIRST_NAMES_MALE[rng.randrange(len(FIRST_NAMES_MALE))]
            last = LAST_NAMES[rng.randrange(len(LAST_NAMES))]
            country = tables.countries[bits(POOL_BITS)]
            cities = CITIES.get(country)
            city = cities[rng.randrange(len(cities))] if cities else ""
            birthdate = "%04d-%02d-%02d" % (today.year - 18 - rng.randrange(62),
                                            1 + rng.randrange(12), 1 + rng.randrange(28))
            lines.append(
                '{"active":true,"gender":%s,"firstname":"%s","lastname":"%s",'
                '"birthdate":"%s","street":"%d %s","zip":"%05d","city":"%s",'
                '"phone":"+%d %d","customerNumber":"%d","countryCode":%s,'
                '"email":"%s.%s.%d@example.com","profilingConsent":%s}\n'
                % ('"%s"' % gender if gender else "null", first, last,
                   birthdate, 1 + rng.randrange(200), STREETS[rng.randrange(len(STREETS))],
                   rng.randrange(100000), city, 10 + rng.randrange(90),
                   rng.randrange(10**8, 10**9), 10000000 + n,
                   '"%s"' % country if country else "null",
                   ascii_fold(first), ascii_fold(last), n,
                   "true" if bits(1) else "false"))
            if len(lines) == 10000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))


def activities_per_customer(customers, activities, tables, rng):
    """Return the activity count of each customer (an array, index n-1).

    Each customer draws a weight from the dataset's invoices-per-customer
    histogram; the counts are those weights scaled so that they add up to
    exactly `activities` (cumulative rounding), which keeps the shape of the
    distribution (median/mean ratio, heavy tail) at any mean.
    """
    weights = array("I", (tables.invoices_per_customer[rng.getrandbits(POOL_BITS)]
                          for _ in range(customers)))
    total = sum(weights)
    counts = array("I", bytes(4 * customers))
    cumulative, previous = 0, 0
    for index, weight in enumerate(weights):
        cumulative += weight
        rounded = (cumulative * activities + total // 2) // total
        counts[index] = rounded - previous
        previous = rounded
    return counts


def write_activities(path, counts, max_items, tables, rng):
    """Write the activities of each customer, in customer order, by date.

    An invoice activity lists at most `max_items` of its lines in
    attributes.items; itemCount is the invoice's full line count drawn from
    the dataset, and total is the value of the listed lines.
    """
    bits = rng.getrandbits
    random_unit = rng.random
    other_types = weighted_pool(OTHER_TYPES)
    products, prefix, price = tables.products, tables.product_prefix, tables.product_price
    sequence = 0
    written = {"order": 0, "cancellation": 0}
    with open(path, "w", encoding="utf-8", buffering=1 << 20) as out:
        lines = []
        for index, count in enumerate(counts):
            customer_id = index + 1
            dates = sorted(tables.days[bits(POOL_BITS)] + 3600 * tables.hours[bits(POOL_BITS)]
                           + bits(20) % 3600 for _ in range(count))
            for activity_date in dates:
                sequence += 1
                draw = random_unit()
                if draw < OTHER_SHARE:
                    kind = other_types[bits(POOL_BITS)]
                    written[kind] = written.get(kind, 0) + 1
                    lines.append(
                        '{"customerId":%d,"type":"%s","activityDate":%d,"a_id":"%s-%d",'
                        '"attributes":{"channel":"%s"}}\n'
                        % (customer_id, kind, activity_date, kind, sequence,
                           "web" if bits(1) else "app"))
                    continue
                cancellation = draw < OTHER_SHARE + (1 - OTHER_SHARE) * tables.cancellation_share
                if cancellation:
                    line_count = tables.cancellation_lines[bits(POOL_BITS)]
                    quantities = tables.cancellation_quantities
                    kind, invoice = "cancellation", "C%d" % (536000 + sequence)
                else:
                    line_count = tables.order_lines[bits(POOL_BITS)]
                    quantities = tables.order_quantities
                    kind, invoice = "order", "%d" % (536000 + sequence)
                written[kind] += 1
                items, total = [], 0.0
                for _ in range(min(line_count, max_items)):
                    product = products[bits(POOL_BITS)]
                    quantity = quantities[bits(POOL_BITS)]
                    total += quantity * price[product]
                    items.append("%s%d}" % (prefix[product], quantity))
                lines.append(
                    '{"customerId":%d,"type":"%s","activityDate":%d,"a_id":"%s",'
                    '"attributes":{"invoiceNo":"%s","currency":"GBP","itemCount":%d,'
                    '"total":%.2f,"items":[%s]}}\n'
                    % (customer_id, kind, activity_date, invoice, invoice, line_count,
                       total, ",".join(items)))
            if len(lines) >= 10000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))
    return written


def write_segments(out_dir, customers, rng):
    """Write 5 groups, 50 segments and the segment assignments.

    Segment popularity is skewed (weight 1/rank within a group), so that
    segment filters have both selective and broad cases.
    """
    with open(os.path.join(out_dir, "segment_groups.ndjson"), "w", encoding="utf-8") as out:
        for name in GROUP_NAMES:
            out.write(json.dumps({"name": name, "reference": name.lower()}) + "\n")
    segment_pairs = []
    with open(os.path.join(out_dir, "segments.ndjson"), "w", encoding="utf-8") as out:
        for group_index, group in enumerate(GROUP_NAMES):
            for rank in range(1, 11):
                segment_id = group_index * 10 + rank
                out.write(json.dumps({"name": f"{group} {rank}", "group": group_index + 1,
                                      "reference": f"{group.lower()}-{rank}"}) + "\n")
                segment_pairs.append((segment_id, 1000 // rank))
    segment_pool = weighted_pool(segment_pairs)
    per_customer = weighted_pool(SEGMENTS_PER_CUSTOMER)

    assigned = 0
    with open(os.path.join(out_dir, "assignments.ndjson"), "w", encoding="utf-8",
              buffering=1 << 20) as out:
        lines = []
        for customer_id in range(1, customers + 1):
            wanted = per_customer[rng.getrandbits(POOL_BITS)]
            if not wanted:
                continue
            chosen = set()
            while len(chosen) < wanted:
                chosen.add(segment_pool[rng.getrandbits(POOL_BITS)])
            assigned += wanted
            lines.append('{"customerId":%d,"addSegments":[%s]}\n'
                         % (customer_id, ",".join(map(str, sorted(chosen)))))
            if len(lines) == 10000:
                out.write("".join(lines))
                lines.clear()
        out.write("".join(lines))
    return assigned


def main():
    parser = argparse.ArgumentParser(description="Generate cmfd benchmark data as NDJSON.")
    parser.add_argument("--customers", type=int, required=True, help="number of customers")
    parser.add_argument("--activities", type=int, required=True, help="number of activities")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    parser.add_argument("--max-items", type=int, default=5,
                        help="invoice lines listed per activity (default 5)")
    parser.add_argument("--distributions", default=os.path.join(HERE, "distributions.json"),
                        help="tables from derive_distributions.py")
    parser.add_argument("--out", required=True, help="output folder (created)")
    args = parser.parse_args()
    if args.customers < 1 or args.activities < 0 or args.max_items < 0:
        parser.error("--customers must be >= 1, --activities and --max-items >= 0")

    os.makedirs(args.out, exist_ok=True)
    tables = Tables(args.distributions)
    started = time.monotonic()

    write_customers(os.path.join(args.out, "customers.ndjson"), args.customers, tables,
                    random.Random(args.seed * 3))
    activity_rng = random.Random(args.seed * 3 + 1)
    counts = activities_per_customer(args.customers, args.activities, tables, activity_rng)
    types = write_activities(os.path.join(args.out, "activities.ndjson"), counts,
                             args.max_items, tables, activity_rng)
    assigned = write_segments(args.out, args.customers, random.Random(args.seed * 3 + 2))

    sorted_counts = sorted(counts)
    manifest = {
        "customers": args.customers,
        "activities": args.activities,
        "seed": args.seed,
        "max_items": args.max_items,
        "activity_types": types,
        "activities_per_customer": {
            "median": sorted_counts[len(sorted_counts) // 2],
            "mean": round(args.activities / args.customers, 3),
            "max": sorted_counts[-1],
        },
        "segment_groups": len(GROUP_NAMES),
        "segments": len(GROUP_NAMES) * 10,
        "segment_assignments": assigned,
        "seconds": round(time.monotonic() - started, 1),
    }
    with open(os.path.join(args.out, "manifest.json"), "w", encoding="utf-8") as handle:
        json.dump(manifest, handle, indent=1)
        handle.write("\n")
    json.dump(manifest, sys.stdout)
    print()


if __name__ == "__main__":
    main()
