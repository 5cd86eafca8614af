// The customers of a Store::Import batch (the plan is in pg_import.cc).
#include <map>
#include <optional>
#include <utility>

#include "storage/json_text.h"
#include "storage/postgres/pg_copy_in.h"
#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

namespace {

constexpr const char* kCopyCustomers =
    "COPY customers (id, active, gender, firstname, lastname, birthdate, street, zip, city, "
    "phone, extra, country_code, email, id_encoded, profiling_consent, password_hash, "
    "modification_date, creation_date) FROM STDIN";

constexpr const char* kCopyUniqueValues =
    "COPY customer_unique (field, value, customer_id) FROM STDIN";

// Another customer that a row clashes with: a stored one, known by its id,
// or an earlier row of the batch, whose id is known only once the accepted
// rows have their ids.
struct Clash {
  static constexpr std::size_t kDuplicateCheck = static_cast<std::size_t>(-1);
  std::size_t field = kDuplicateCheck;  // index of the unique field, or the duplicate check
  std::string value;                    // the unique value
  std::optional<std::int64_t> stored_id;
  std::size_t batch_row = 0;            // when not stored
};

// The duplicate check of one row: the values it compares, in compared form,
// and the first stored customer with those values.
struct DuplicateProbe {
  std::vector<std::string> compared;
  std::optional<std::int64_t> stored_id;
};

void AddCustomerRow(const Customer& customer, const std::string& extra, CopyRows& rows) {
  rows.Int(customer.id);
  rows.Bool(customer.active);
  rows.Text(customer.gender);
  rows.Text(customer.firstname);
  rows.Text(customer.lastname);
  rows.Text(customer.birthdate);
  rows.Text(customer.street);
  rows.Text(customer.zip);
  rows.Text(customer.city);
  rows.Text(customer.phone);
  rows.Text(std::string_view(extra));
  rows.Text(customer.country_code);
  rows.Text(customer.email);
  rows.Text(std::string_view(customer.id_encoded));
  rows.Bool(customer.profiling_consent);
  rows.Text(customer.password_hash);
  rows.Int(customer.modification_date);
  rows.Int(customer.creation_date);
  rows.EndRow();
}

}  // namespace

Status PgStore::ImportCustomers(WriteTx& tx, std::vector<Customer>& customers,
                                ImportCounts& counts) {
  if (customers.empty()) return Status::Ok();
  const std::vector<CustomField>& fields = options_.customer.fields;
  const std::size_t count = customers.size();

  // Each row as CreateCustomer prepares it. A text it cannot store rejects
  // the row before any rule is checked, as there.
  std::vector<Customer> rows = customers;
  std::vector<Status> refused(count);
  for (std::size_t i = 0; i < count; ++i) {
    Customer& customer = rows[i];
    customer.id = 0;
    customer.segments.clear();
    customer.activities.reset();
    CMFD_PG_TRY(NormalizeExtra(fields, customer));
    refused[i] = CheckCustomerText(customer);
    if (customer.id_encoded.empty()) customer.id_encoded = NewIdEncoded();
  }

  // The stored owners of the batch's unique values. A value stored by a
  // transaction that commits after this read makes the COPY below fail on
  // the unique index, and the retry finds it here.
  std::map<std::pair<std::string, std::string>, std::int64_t> stored_unique;
  if (!unique_fields_.empty()) {
    std::vector<std::string> names;
    std::vector<std::string> values;
    for (std::size_t i = 0; i < count; ++i) {
      if (!refused[i].ok()) continue;
      for (std::size_t index : unique_fields_) {
        if (!rows[i].extra[index]) continue;
        names.push_back(fields[index].name);
        values.push_back(*rows[i].extra[index]);
      }
    }
    if (!names.empty()) {
      PgResult found = tx.Exec(
          "SELECT u.field, u.value, u.customer_id FROM customer_unique u"
          " JOIN unnest($1::text[], $2::text[]) AS r(field, value)"
          " ON u.field = r.field AND u.value = r.value",
          {TextArrayLiteral(names), TextArrayLiteral(values)});
      if (!found.ok()) return tx.Error(found, "customer import unique field check");
      for (int r = 0; r < found.rows(); ++r) {
        stored_unique[{found.String(r, 0), found.String(r, 1)}] = found.Int(r, 2);
      }
    }
  }

  // The duplicate check of every row it applies to, under the same advisory
  // locks as the single check (taken first, in their own statement, so that
  // the check's snapshot includes every customer a lock waited for).
  std::vector<std::optional<DuplicateProbe>> probes(count);
  {
    std::vector<std::size_t> probed;
    std::vector<std::vector<std::string>> columns(duplicate_fields_.size());
    Params values;
    for (std::size_t i = 0; i < count; ++i) {
      if (!refused[i].ok() || !DuplicateValues(rows[i], values)) continue;
      probed.push_back(i);
      for (std::size_t k = 0; k < values.size(); ++k) columns[k].push_back(*values[k]);
    }
    if (!probed.empty()) {
      Params arrays;
      for (const std::vector<std::string>& column : columns) {
        arrays.push_back(TextArrayLiteral(column));
      }
      std::vector<PgResult> results;
      CMFD_PG_TRY(tx.Pipeline({{duplicate_batch_lock_sql_, arrays},
                               {duplicate_batch_sql_, arrays}},
                              "customer import duplicate check", &results));
      const PgResult& found = results[1];
      const int compared = static_cast<int>(duplicate_fields_.size());
      for (int r = 0; r < found.rows(); ++r) {
        DuplicateProbe probe;
        for (int k = 1; k <= compared; ++k) probe.compared.push_back(found.String(r, k));
        probe.stored_id = found.OptionalInt(r, compared + 1);
        probes[probed.at(static_cast<std::size_t>(found.Int(r, 0) - 1))] = std::move(probe);
      }
    }
  }

  // The rules, row by row. A row clashes with a stored customer or with an
  // earlier accepted row. Stored customers have the smaller ids, so the
  // single check would name them first.
  std::vector<std::vector<Clash>> clashes(count);
  std::vector<bool> accepted(count, false);
  std::map<std::pair<std::string, std::string>, std::size_t> batch_unique;
  std::map<std::vector<std::string>, std::size_t> batch_duplicates;
  std::size_t accepted_count = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!refused[i].ok()) continue;
    std::vector<Clash>& clash = clashes[i];
    for (std::size_t index : unique_fields_) {
      const std::optional<std::string>& value = rows[i].extra[index];
      if (!value) continue;
      std::pair<std::string, std::string> key(fields[index].name, *value);
      if (auto stored = stored_unique.find(key); stored != stored_unique.end()) {
        clash.push_back({index, *value, stored->second, 0});
      } else if (auto earlier = batch_unique.find(key); earlier != batch_unique.end()) {
        clash.push_back({index, *value, std::nullopt, earlier->second});
      }
    }
    if (probes[i]) {
      if (probes[i]->stored_id) {
        clash.push_back({Clash::kDuplicateCheck, "", probes[i]->stored_id, 0});
      } else if (auto earlier = batch_duplicates.find(probes[i]->compared);
                 earlier != batch_duplicates.end()) {
        clash.push_back({Clash::kDuplicateCheck, "", std::nullopt, earlier->second});
      }
    }
    if (!clash.empty()) continue;

    accepted[i] = true;
    ++accepted_count;
    for (std::size_t index : unique_fields_) {
      if (rows[i].extra[index]) batch_unique[{fields[index].name, *rows[i].extra[index]}] = i;
    }
    if (probes[i]) batch_duplicates[probes[i]->compared] = i;
  }

  // Ids in batch order, then the rows and their unique values.
  std::vector<std::int64_t> ids;
  CMFD_PG_TRY(ReserveIds(tx, "customers", accepted_count, ids));
  CopyRows customer_rows;
  CopyRows unique_rows;
  std::vector<std::int64_t> assigned(count, 0);
  std::size_t next_id = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!accepted[i]) continue;
    Customer& customer = rows[i];
    customer.id = ids[next_id++];
    assigned[i] = customer.id;
    customer.modification_date = tx.now();
    customer.creation_date = tx.now();
    AddCustomerRow(customer, EncodeExtraFields(fields, customer.extra), customer_rows);
    for (std::size_t index : unique_fields_) {
      if (!customer.extra[index]) continue;
      unique_rows.Text(std::string_view(fields[index].name));
      unique_rows.Text(std::string_view(*customer.extra[index]));
      unique_rows.Int(customer.id);
      unique_rows.EndRow();
    }
  }
  if (customer_rows.rows() > 0) {
    PgResult copied = CopyIn(tx.connection(), kCopyCustomers, customer_rows);
    if (!copied.ok()) return tx.Error(copied, "customer import");
  }
  if (unique_rows.rows() > 0) {
    PgResult copied = CopyIn(tx.connection(), kCopyUniqueValues, unique_rows);
    if (!copied.ok()) return tx.Error(copied, "customer import", kUniqueIndex);
  }

  // The outcome of each row, in batch order. Messages name the other
  // customer by id, which rows of the batch have only from this point.
  using Kind = ImportRejection::Kind;
  for (std::size_t i = 0; i < count; ++i) {
    if (accepted[i]) {
      customers[i] = std::move(rows[i]);
      ++counts.customers_created;
      continue;
    }
    if (!refused[i].ok()) {
      counts.rejected.push_back({Kind::kCustomer, i, std::move(refused[i])});
      continue;
    }
    Status status;
    for (const Clash& clash : clashes[i]) {
      std::int64_t other = clash.stored_id ? *clash.stored_id : assigned[clash.batch_row];
      status.Add(Code::kConflict, clash.field == Clash::kDuplicateCheck
                                      ? DuplicateMessage(other)
                                      : UniqueMessage(clash.field, clash.value, other));
    }
    counts.rejected.push_back({Kind::kCustomer, i, std::move(status)});
  }
  return Status::Ok();
}

}  // namespace cmfd::pg
