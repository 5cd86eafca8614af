#!/usr/bin/env python3
"""Derive the benchmark data distributions from the UCI Online Retail extract.

Reads the CSV files of the "Online Retail" dataset (UCI Machine Learning
Repository, dataset 352, CC BY 4.0; columns InvoiceNo, StockCode, Description,
Quantity, InvoiceDate, UnitPrice, CustomerID, Country) and writes the tables
that gen_data.py samples from to bench/distributions.json:

- customer countries (ISO 3166-1 alpha-2, by the country of each customer's
  first invoice; "" for the values without an ISO code),
- invoices per customer, lines per invoice (orders and cancellations apart),
- invoices per calendar day and per hour of day (InvoiceDate read as UTC),
- the product catalogue (stock code, description, most frequent unit price,
  number of order lines) and the line quantities.

One invoice is one activity; an InvoiceNo starting with "C" is a cancellation.

Usage: derive_distributions.py [--out FILE] CSV [CSV ...]
"""

import argparse
import collections
import csv
import json
import statistics
import sys

# Country names of the dataset mapped to ISO 3166-1 alpha-2. Values with no
# ISO code (Unspecified, Channel Islands, European Community) map to "".
COUNTRY_CODES = {
    "Australia": "AU", "Austria": "AT", "Bahrain": "BH", "Belgium": "BE", "Brazil": "BR",
    "Canada": "CA", "Channel Islands": "", "Cyprus": "CY", "Czech Republic": "CZ",
    "Denmark": "DK", "EIRE": "IE", "European Community": "", "Finland": "FI", "France": "FR",
    "Germany": "DE", "Greece": "GR", "Hong Kong": "HK", "Iceland": "IS", "Israel": "IL",
    "Italy": "IT", "Japan": "JP", "Lebanon": "LB", "Lithuania": "LT", "Malta": "MT",
    "Netherlands": "NL", "Norway": "NO", "Poland": "PL", "Portugal": "PT", "RSA": "ZA",
    "Saudi Arabia": "SA", "Singapore": "SG", "Spain": "ES", "Sweden": "SE",
    "Switzerland": "CH", "USA": "US", "United Arab Emirates": "AE", "United Kingdom": "GB",
    "Unspecified": "",
}


def read_lines(paths):
    """Yield every CSV row of every file as a dict."""
    for path in paths:
        with open(path, newline="", encoding="utf-8") as handle:
            yield from csv.DictReader(handle)


def histogram(values):
    """Return {value: count} with keys as strings, sorted by numeric value."""
    counts = collections.Counter(values)
    return {str(key): counts[key] for key in sorted(counts)}


def describe(values):
    return {
        "count": len(values),
        "min": min(values),
        "median": statistics.median(values),
        "mean": round(statistics.mean(values), 3),
        "max": max(values),
    }


def derive(paths):
    invoices = collections.defaultdict(list)  # InvoiceNo -> rows, in file order
    for row in read_lines(paths):
        invoices[row["InvoiceNo"]].append(row)

    # An invoice belongs to one customer; its date is the earliest of its lines
    # because a few invoices carry two timestamps a minute apart.
    first_invoice = {}  # customer -> (date, country name)
    invoices_of = collections.Counter()
    days = collections.Counter()
    hours = collections.Counter()
    order_lines, cancellation_lines = [], []
    for number, lines in invoices.items():
        customer = int(float(lines[0]["CustomerID"]))
        date = min(line["InvoiceDate"] for line in lines)
        invoices_of[customer] += 1
        days[date[:10]] += 1
        hours[int(date[11:13])] += 1
        (cancellation_lines if number.startswith("C") else order_lines).append(len(lines))
        if customer not in first_invoice or date < first_invoice[customer][0]:
            first_invoice[customer] = (date, lines[0]["Country"])

    unknown = sorted({country for _, country in first_invoice.values()} - COUNTRY_CODES.keys())
    if unknown:
        sys.exit(f"derive_distributions: no ISO code for country names {unknown}; "
                 "add them to COUNTRY_CODES")
    countries = collections.Counter(COUNTRY_CODES[c] for _, c in first_invoice.values())

    # Products: the most frequent unit price of each stock code on order lines,
    # and how many order lines name it (the sampling weight).
    prices = collections.defaultdict(collections.Counter)
    descriptions = {}
    order_quantities, cancellation_quantities = [], []
    for number, lines in invoices.items():
        for line in lines:
            quantity = int(line["Quantity"])
            if number.startswith("C"):
                cancellation_quantities.append(quantity)
                continue
            order_quantities.append(quantity)
            prices[line["StockCode"]][line["UnitPrice"]] += 1
            descriptions.setdefault(line["StockCode"], line["Description"].strip())
    products = []
    for code, price_counts in prices.items():
        price, _ = price_counts.most_common(1)[0]
        products.append([code, descriptions[code], price, sum(price_counts.values())])
    products.sort(key=lambda product: (-product[3], product[0]))

    per_customer = sorted(invoices_of.values())
    cancellations = len(cancellation_lines)
    return {
        "source": "UCI Online Retail (dataset 352, CC BY 4.0), customers "
                  f"{min(invoices_of)}-{max(invoices_of)}",
        "summary": {
            "customers": len(invoices_of),
            "invoices": len(invoices),
            "lines": len(order_quantities) + len(cancellation_quantities),
            "cancellation_share": round(cancellations / len(invoices), 4),
            "first_day": min(days),
            "last_day": max(days),
            "invoices_per_customer": describe(per_customer),
            "order_lines_per_invoice": describe(order_lines),
            "cancellation_lines_per_invoice": describe(cancellation_lines),
        },
        "countries": dict(countries.most_common()),
        "invoices_per_customer": histogram(per_customer),
        "order_lines_per_invoice": histogram(order_lines),
        "cancellation_lines_per_invoice": histogram(cancellation_lines),
        "invoice_days": {day: days[day] for day in sorted(days)},
        "invoice_hours": {str(hour): hours[hour] for hour in sorted(hours)},
        "order_quantities": histogram(order_quantities),
        "cancellation_quantities": histogram(cancellation_quantities),
        "products": products,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv", nargs="+", help="Online Retail CSV files")
    parser.add_argument("--out", default="distributions.json", help="output JSON file")
    args = parser.parse_args()

    tables = derive(args.csv)
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(tables, handle, indent=1, ensure_ascii=False)
        handle.write("\n")
    summary = tables["summary"]
    print(f"{args.out}: {summary['customers']} customers, {summary['invoices']} invoices, "
          f"{len(tables['products'])} products, "
          f"cancellation share {summary['cancellation_share']}")


if __name__ == "__main__":
    main()
