// Customers and their segment assignments in the PostgreSQL store. The
// rules and messages are those of the SQLite store (sqlite_customers.cc).
#include <sodium.h>

#include <algorithm>
#include <set>
#include <utility>

#include "storage/json_text.h"
#include "storage/postgres/pg_rows.h"
#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

// A random 128-bit token as 32 hex digits: opaque, and stable because it is
// stored with the customer.
std::string NewIdEncoded() {
  unsigned char bytes[16];
  randombytes_buf(bytes, sizeof bytes);
  char hex[2 * sizeof bytes + 1];
  sodium_bin2hex(hex, sizeof hex, bytes, sizeof bytes);
  return hex;
}

// The configured extra values, one per field; a shorter vector is padded
// with nulls. Internal error for more values than fields, which only a
// domain layer out of step with the configuration can produce.
Status NormalizeExtra(const std::vector<CustomField>& fields, Customer& customer) {
  if (customer.extra.size() > fields.size()) {
    return Status::Internal("customer has " + std::to_string(customer.extra.size()) +
                            " extra field values but the configuration declares " +
                            std::to_string(fields.size()));
  }
  customer.extra.resize(fields.size());
  return Status::Ok();
}

namespace {

// $1 .. $15 of kInsertCustomer and kUpdateCustomer.
Params CustomerValues(const Customer& customer, const std::string& extra) {
  return {BoolParam(customer.active),
          customer.gender,
          customer.firstname,
          customer.lastname,
          customer.birthdate,
          customer.street,
          customer.zip,
          customer.city,
          customer.phone,
          extra,
          customer.country_code,
          customer.email,
          customer.id_encoded,
          BoolParam(customer.profiling_consent),
          customer.password_hash};
}

constexpr const char* kInsertCustomer =
    "INSERT INTO customers (active, gender, firstname, lastname, birthdate, street, zip, city, "
    "phone, extra, country_code, email, id_encoded, profiling_consent, password_hash, "
    "modification_date, creation_date) "
    "VALUES ($1::boolean, $2::text, $3::text, $4::text, $5::text, $6::text, $7::text, $8::text, "
    "$9::text, $10::text, $11::text, $12::text, $13::text, $14::boolean, $15::text, "
    "$16::bigint, $16::bigint) RETURNING id";

constexpr const char* kUpdateCustomer =
    "UPDATE customers SET active = $1::boolean, gender = $2::text, firstname = $3::text, "
    "lastname = $4::text, birthdate = $5::text, street = $6::text, zip = $7::text, "
    "city = $8::text, phone = $9::text, extra = $10::text, country_code = $11::text, "
    "email = $12::text, id_encoded = $13::text, profiling_consent = $14::boolean, "
    "password_hash = $15::text, modification_date = $16::bigint WHERE id = $17::bigint";

// Built-in customer fields a duplicate check may name, by their API names.
struct TextField {
  const char* name;
  const char* column;
  std::optional<std::string> Customer::*member;
};
constexpr TextField kTextFields[] = {
    {"gender", "gender", &Customer::gender},
    {"firstname", "firstname", &Customer::firstname},
    {"lastname", "lastname", &Customer::lastname},
    {"birthdate", "birthdate", &Customer::birthdate},
    {"street", "street", &Customer::street},
    {"zip", "zip", &Customer::zip},
    {"city", "city", &Customer::city},
    {"phone", "phone", &Customer::phone},
    {"countryCode", "country_code", &Customer::country_code},
    {"email", "email", &Customer::email},
};

struct FlagField {
  const char* name;
  const char* column;
  bool Customer::*member;
};
constexpr FlagField kFlagFields[] = {
    {"active", "active", &Customer::active},
    {"profilingConsent", "profiling_consent", &Customer::profiling_consent},
};

// "email", "firstname and lastname", "email, firstname and lastname".
std::string JoinFieldNames(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (i > 0) out += (i + 1 == names.size()) ? " and " : ", ";
    out += names[i];
  }
  return out;
}

}  // namespace

Status CheckCustomerText(const Customer& customer) {
  Status status;
  RejectNul("gender", customer.gender, status);
  RejectNul("firstname", customer.firstname, status);
  RejectNul("lastname", customer.lastname, status);
  RejectNul("birthdate", customer.birthdate, status);
  RejectNul("street", customer.street, status);
  RejectNul("zip", customer.zip, status);
  RejectNul("city", customer.city, status);
  RejectNul("phone", customer.phone, status);
  RejectNul("countryCode", customer.country_code, status);
  RejectNul("email", customer.email, status);
  RejectNul("idEncoded", customer.id_encoded, status);
  return status;
}

Status UnknownSegmentsStatus(const std::vector<std::int64_t>& unknown) {
  std::string message = unknown.size() == 1 ? "unknown segment ID: " : "unknown segment IDs: ";
  for (std::size_t i = 0; i < unknown.size(); ++i) {
    if (i > 0) message += ", ";
    message += std::to_string(unknown[i]);
  }
  return Status::Invalid(std::move(message));
}

Status PgStore::ResolveCustomerSchema() {
  const CustomerSchema& schema = options_.customer;
  for (std::size_t i = 0; i < schema.fields.size(); ++i) {
    if (schema.fields[i].unique) unique_fields_.push_back(i);
  }
  if (schema.duplicate_check.empty()) return Status::Ok();

  // One query for the whole check, built once: the first customer other than
  // $1 whose values all equal the new ones. Strings compare through
  // cmfd_ascii_lower(), which folds ASCII letters only, as SQLite's lower()
  // does. Extra values compare as the JSON values their literals denote.
  //
  // Two transactions that check the same values at once would both find no
  // duplicate, so each first takes an advisory lock keyed by a hash of the
  // compared values: the second waits until the first has committed and then
  // sees its customer.
  duplicate_sql_ = "SELECT id FROM customers WHERE id <> $1::bigint";
  std::string lock_terms;
  // The batch form (see duplicate_batch_sql_) takes the values from the
  // columns v1, v2, ... of one row of the unnested arrays, with the same
  // expressions, so that its locks are those of the single check.
  std::string batch_rows = "unnest(";
  std::string batch_columns;
  std::string batch_terms;
  std::string batch_conditions;
  int param = 2;
  for (const std::string& name : schema.duplicate_check) {
    DuplicateField field;
    field.name = name;
    std::string placeholder = "$" + std::to_string(param);
    std::string lock_placeholder = "$" + std::to_string(param - 1);
    std::string column = "r.v" + std::to_string(param - 1);
    if (param > 2) {
      batch_rows += ", ";
      batch_columns += ", ";
      batch_terms += ", ";
    }
    batch_rows += "$" + std::to_string(param - 1) + "::text[]";
    batch_columns += column.substr(2);
    ++param;

    const TextField* text = nullptr;
    for (const TextField& candidate : kTextFields) {
      if (name == candidate.name) text = &candidate;
    }
    const FlagField* flag = nullptr;
    for (const FlagField& candidate : kFlagFields) {
      if (name == candidate.name) flag = &candidate;
    }
    auto extra = std::find_if(schema.fields.begin(), schema.fields.end(),
                              [&](const CustomField& f) { return f.name == name; });

    if (!lock_terms.empty()) lock_terms += ", ";
    if (text != nullptr) {
      field.kind = DuplicateField::Kind::kText;
      field.text = text->member;
      duplicate_sql_ += std::string(" AND cmfd_ascii_lower(") + text->column +
                        ") = cmfd_ascii_lower(" + placeholder + "::text)";
      lock_terms += "cmfd_ascii_lower(" + lock_placeholder + "::text)";
      batch_conditions += std::string(" AND cmfd_ascii_lower(c.") + text->column +
                          ") = cmfd_ascii_lower(" + column + ")";
      batch_terms += "cmfd_ascii_lower(" + column + ")";
    } else if (flag != nullptr) {
      field.kind = DuplicateField::Kind::kFlag;
      field.flag = flag->member;
      duplicate_sql_ += std::string(" AND ") + flag->column + " = " + placeholder + "::boolean";
      lock_terms += lock_placeholder + "::text";
      batch_conditions += std::string(" AND c.") + flag->column + " = " + column + "::boolean";
      batch_terms += column;
    } else if (extra != schema.fields.end()) {
      // The SQLite store puts the name into a JSON path and rejects these
      // characters; the same configuration must work on both backends.
      if (name.find_first_of("\"'\\") != std::string::npos) {
        return Status::Internal("customer.duplicate_check field \"" + name +
                                "\" contains a quote or backslash, which the check cannot use");
      }
      field.kind = DuplicateField::Kind::kExtra;
      field.extra_index = static_cast<std::size_t>(extra - schema.fields.begin());
      duplicate_sql_ += " AND cmfd_ascii_lower(extra::jsonb ->> " + QuoteLiteral(name) +
                        ") = cmfd_ascii_lower(" + placeholder + "::jsonb #>> '{}')";
      lock_terms += "cmfd_ascii_lower(" + lock_placeholder + "::jsonb #>> '{}')";
      batch_conditions += " AND cmfd_ascii_lower(c.extra::jsonb ->> " + QuoteLiteral(name) +
                          ") = cmfd_ascii_lower(" + column + "::jsonb #>> '{}')";
      batch_terms += "cmfd_ascii_lower(" + column + "::jsonb #>> '{}')";
    } else {
      return Status::Internal("customer.duplicate_check names unknown customer field \"" +
                              name + "\"");
    }
    duplicate_fields_.push_back(std::move(field));
  }
  duplicate_sql_ += " ORDER BY id LIMIT 1";
  duplicate_lock_sql_ = "SELECT pg_advisory_xact_lock(" + std::to_string(kDuplicateCheckLock) +
                        ", hashtext(concat_ws(chr(31), " + lock_terms + ")))";

  // Locks in a fixed order, so that two imports of overlapping batches wait
  // for each other instead of deadlocking (as far as hash order allows).
  batch_rows += ")";
  duplicate_batch_lock_sql_ =
      "SELECT count(pg_advisory_xact_lock(" + std::to_string(kDuplicateCheckLock) +
      ", hashtext(k.key))) FROM (SELECT DISTINCT concat_ws(chr(31), " + batch_terms +
      ") AS key FROM " + batch_rows + " AS r(" + batch_columns + ") ORDER BY 1) AS k";
  duplicate_batch_sql_ = "SELECT r.ord, " + batch_terms +
                         ", (SELECT c.id FROM customers c WHERE true" + batch_conditions +
                         " ORDER BY c.id LIMIT 1) FROM " + batch_rows +
                         " WITH ORDINALITY AS r(" + batch_columns + ", ord)";
  return Status::Ok();
}

bool PgStore::DuplicateValues(const Customer& customer, Params& values) const {
  if (duplicate_sql_.empty()) return false;
  values.clear();
  for (const DuplicateField& field : duplicate_fields_) {
    switch (field.kind) {
      case DuplicateField::Kind::kText: {
        const std::optional<std::string>& value = customer.*field.text;
        if (!value || value->empty()) return false;
        values.push_back(*value);
        break;
      }
      case DuplicateField::Kind::kFlag:
        values.push_back(BoolParam(customer.*field.flag));
        break;
      case DuplicateField::Kind::kExtra: {
        const std::optional<std::string>& value = customer.extra[field.extra_index];
        if (!value || *value == "\"\"") return false;
        values.push_back(*value);
        break;
      }
    }
  }
  return true;
}

std::string PgStore::DuplicateMessage(std::int64_t other_id) const {
  std::vector<std::string> names;
  for (const DuplicateField& field : duplicate_fields_) names.push_back(field.name);
  return "Duplicate customer found: customer " + std::to_string(other_id) + " has the same " +
         JoinFieldNames(names);
}

std::string PgStore::UniqueMessage(std::size_t index, const std::string& value,
                                   std::int64_t other_id) const {
  return options_.customer.fields[index].name + " " + value + " is already used by customer " +
         std::to_string(other_id);
}

// Checks the unique extra fields and the duplicate check against every
// customer but `customer.id` (0 for a new one). Collects every conflict.
Status PgStore::CheckCustomerRules(WriteTx& tx, const Customer& customer) {
  const std::vector<CustomField>& fields = options_.customer.fields;
  Status result;

  for (std::size_t index : unique_fields_) {
    const std::optional<std::string>& value = customer.extra[index];
    if (!value) continue;
    PgResult found = tx.Exec(
        "SELECT customer_id FROM customer_unique WHERE field = $1::text AND value = $2::text",
        {fields[index].name, *value});
    if (!found.ok()) return tx.Error(found, "customer unique field check");
    if (found.rows() > 0 && found.Int(0, 0) != customer.id) {
      result.Add(Code::kConflict, UniqueMessage(index, *value, found.Int(0, 0)));
    }
  }

  Params values;
  if (!DuplicateValues(customer, values)) return result;

  PgResult locked = tx.Exec(duplicate_lock_sql_, values);
  if (!locked.ok()) return tx.Error(locked, "customer duplicate check");
  Params params = {IntParam(customer.id)};
  params.insert(params.end(), values.begin(), values.end());
  PgResult duplicate = tx.Exec(duplicate_sql_, params);
  if (!duplicate.ok()) return tx.Error(duplicate, "customer duplicate check");
  if (duplicate.rows() > 0) {
    result.Add(Code::kConflict, DuplicateMessage(duplicate.Int(0, 0)));
  }
  return result;
}

// A unique value that another transaction inserted after this one's check
// violates the index; the retry then reports it through the check.
Status PgStore::StoreUniqueValues(WriteTx& tx, const Customer& customer, bool replace) {
  if (unique_fields_.empty()) return Status::Ok();

  std::vector<PipelineStep> steps;
  if (replace) {
    steps.push_back({"DELETE FROM customer_unique WHERE customer_id = $1::bigint",
                     {IntParam(customer.id)}});
  }
  for (std::size_t index : unique_fields_) {
    const std::optional<std::string>& value = customer.extra[index];
    if (!value) continue;
    steps.push_back({"INSERT INTO customer_unique (field, value, customer_id)"
                     " VALUES ($1::text, $2::text, $3::bigint)",
                     {options_.customer.fields[index].name, *value, IntParam(customer.id)}});
  }
  if (steps.empty()) return Status::Ok();
  return tx.Pipeline(steps, "customer unique fields", nullptr, kUniqueIndex);
}

Status PgStore::LockCustomer(WriteTx& tx, std::int64_t id, bool for_delete, Customer& customer,
                             bool& found) {
  // The read is a statement of its own after the lock: in READ COMMITTED it
  // gets a snapshot taken after any transaction the lock waited for.
  static const std::string kRead =
      std::string("SELECT ") + kCustomerColumns + " FROM customers c WHERE c.id = $1::bigint";
  const char* lock = for_delete ? "SELECT 1 FROM customers WHERE id = $1::bigint FOR UPDATE"
                                : "SELECT 1 FROM customers WHERE id = $1::bigint"
                                  " FOR NO KEY UPDATE";
  std::vector<PgResult> results;
  CMFD_PG_TRY(tx.Pipeline({{lock, {IntParam(id)}}, {kRead, {IntParam(id)}}}, "customer load",
                          &results));
  found = results[1].rows() > 0;
  if (!found) return Status::Ok();
  return ReadCustomerRow(results[1], 0, options_.customer.fields, customer);
}

Result<Customer> PgStore::CreateCustomer(const Customer& input) {
  Customer customer = input;
  customer.id = 0;
  customer.segments.clear();
  customer.activities.reset();
  CMFD_PG_TRY(NormalizeExtra(options_.customer.fields, customer));
  CMFD_PG_TRY(CheckCustomerText(customer));
  if (customer.id_encoded.empty()) customer.id_encoded = NewIdEncoded();
  std::string extra = EncodeExtraFields(options_.customer.fields, customer.extra);

  Status status = runner_.Write("customer create", [&](WriteTx& tx) -> Status {
    customer.id = 0;
    CMFD_PG_TRY(CheckCustomerRules(tx, customer));

    customer.modification_date = tx.now();
    customer.creation_date = tx.now();
    Params params = CustomerValues(customer, extra);
    params.push_back(IntParam(tx.now()));
    PgResult inserted = tx.Exec(kInsertCustomer, params);
    if (!inserted.ok()) return tx.Error(inserted, "customer create");
    customer.id = inserted.Int(0, 0);

    return StoreUniqueValues(tx, customer, /*replace=*/false);
  });
  if (!status.ok()) return status;
  return customer;
}

Result<Customer> PgStore::UpdateCustomer(std::int64_t id,
                                         const std::function<Status(Customer&)>& modify) {
  Customer customer;
  Status status = runner_.Write("customer update", [&](WriteTx& tx) -> Status {
    customer = Customer();
    bool found = false;
    CMFD_PG_TRY(LockCustomer(tx, id, /*for_delete=*/false, customer, found));
    if (!found) return NotFoundStatus("Customer", id);
    const Customer stored = customer;

    CMFD_PG_TRY(modify(customer));

    // What `modify` must not change: identity, creation, the segments
    // (changed only through ChangeCustomerSegments) and the token.
    customer.id = id;
    customer.creation_date = stored.creation_date;
    customer.segments = stored.segments;
    customer.activities.reset();
    if (customer.id_encoded.empty()) customer.id_encoded = stored.id_encoded;
    CMFD_PG_TRY(NormalizeExtra(options_.customer.fields, customer));
    CMFD_PG_TRY(CheckCustomerText(customer));
    CMFD_PG_TRY(CheckCustomerRules(tx, customer));

    customer.modification_date = tx.now();
    Params params =
        CustomerValues(customer, EncodeExtraFields(options_.customer.fields, customer.extra));
    params.push_back(IntParam(tx.now()));
    params.push_back(IntParam(id));
    PgResult updated = tx.Exec(kUpdateCustomer, params);
    if (!updated.ok()) return tx.Error(updated, "customer update");

    return StoreUniqueValues(tx, customer, /*replace=*/true);
  });
  if (!status.ok()) return status;
  return customer;
}

Result<Customer> PgStore::GetCustomer(std::int64_t id, bool include_activities) {
  static const std::string kCustomer =
      std::string("SELECT ") + kCustomerColumns + " FROM customers c WHERE c.id = $1::bigint";
  static const std::string kActivities =
      std::string("SELECT ") + kActivityColumns +
      " FROM activities a WHERE a.customer_id = $1::bigint ORDER BY a.activity_date, a.id";

  std::vector<PipelineStep> steps = {{kCustomer, {IntParam(id)}}};
  if (include_activities) steps.push_back({kActivities, {IntParam(id)}});
  Result<ReadResult> read = runner_.Read("customer read", steps);
  if (!read.ok()) return read.status();

  const PgResult& rows = read->results[0];
  if (rows.rows() == 0) return NotFoundStatus("Customer", id);
  Customer customer;
  CMFD_PG_TRY(ReadCustomerRow(rows, 0, options_.customer.fields, customer));
  if (include_activities) {
    const PgResult& activities = read->results[1];
    customer.activities.emplace();
    for (int i = 0; i < activities.rows(); ++i) {
      customer.activities->push_back(ReadActivityRow(activities, i));
    }
  }
  return customer;
}

Status PgStore::DeleteCustomer(std::int64_t id) {
  return runner_.Write("customer delete", [&](WriteTx& tx) -> Status {
    // FOR UPDATE waits for activity inserts that hold a key-share lock on the
    // customer, so the statements below see every activity it has.
    PgResult locked = tx.Exec("SELECT 1 FROM customers WHERE id = $1::bigint FOR UPDATE",
                              {IntParam(id)});
    if (!locked.ok()) return tx.Error(locked, "customer delete");
    if (locked.rows() == 0) return NotFoundStatus("Customer", id);

    // The deletions feed gets a row for each activity and one for the
    // customer, so that a syncing client drops all of them. Deleting the
    // customer row cascades to its segment assignments and unique values.
    Params params = {IntParam(id), IntParam(tx.now())};
    return tx.Pipeline(
        {{"INSERT INTO deletions (entity_type, id, type, creation_date)"
          " SELECT 'activities', id, type, $2::bigint FROM activities"
          " WHERE customer_id = $1::bigint ORDER BY id",
          params},
         {"DELETE FROM activities WHERE customer_id = $1::bigint", {IntParam(id)}},
         {"DELETE FROM customers WHERE id = $1::bigint", {IntParam(id)}},
         {"INSERT INTO deletions (entity_type, id, type, creation_date)"
          " VALUES ('customers', $1::bigint, '', $2::bigint)",
          params}},
        "customer delete");
  });
}

Result<ListInfo> PgStore::ListCustomers(const CustomerQuery& query,
                                        const std::function<void(const Customer&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(query.page);
  if (!offset.ok()) return offset.status();

  SqlFilter filter;
  if (query.modified_after) {
    filter.Add("c.modification_date > $?::bigint", {IntParam(*query.modified_after)});
  }
  if (!query.segments_all.empty()) {
    std::vector<std::int64_t> segments = query.segments_all;
    std::sort(segments.begin(), segments.end());
    segments.erase(std::unique(segments.begin(), segments.end()), segments.end());
    // A customer has each segment at most once, so having N of the N
    // distinct ids means having all of them; an unknown id matches nothing.
    filter.Add("c.id IN (SELECT customer_id FROM customer_segments"
               " WHERE segment_id = ANY($?::bigint[])"
               " GROUP BY customer_id HAVING count(*) = $?::bigint)",
               {IntArrayLiteral(segments), IntParam(static_cast<std::int64_t>(segments.size()))});
  }
  if (query.email && !IsStorableText(*query.email)) {
    filter.Add("false", {});
  } else if (query.email) {
    filter.Add("cmfd_ascii_lower(c.email) = cmfd_ascii_lower($?::text)", {*query.email});
  }
  for (const auto& [index, value] : query.extra_equals) {
    const std::vector<CustomField>& fields = options_.customer.fields;
    if (index >= fields.size()) {
      return Status::Internal("customer filter names extra field index " +
                              std::to_string(index) + " of " + std::to_string(fields.size()));
    }
    if (!fields[index].unique) {
      return Status::Invalid(fields[index].name +
                             " is not a unique customer field and cannot be a list filter");
    }
    if (!IsStorableText(value)) {
      filter.Add("false", {});
      continue;
    }
    filter.Add("c.id IN (SELECT customer_id FROM customer_unique"
               " WHERE field = $?::text AND value = $?::text)",
               {fields[index].name, value});
  }

  // TODO: seek deep pages from remembered page ends, as the SQLite store
  // does; OFFSET and the exact count both cost in proportion to the rows.
  std::vector<PipelineStep> steps = {
      {"SELECT count(*) FROM customers c" + filter.where(), filter.params()}};
  if (offset.value()) {
    std::string page = " FROM customers c" + filter.where() + " ORDER BY c.id LIMIT " +
                       filter.Next() + "::bigint OFFSET " + filter.Next(1) + "::bigint";
    Params params = filter.params();
    params.push_back(IntParam(query.page.page_size));
    params.push_back(IntParam(*offset.value()));
    // The page is cut in a subquery and only its rows are projected: the
    // segment array of kCustomerColumns would otherwise be computed for
    // every row that OFFSET skips too (9,900 subqueries for page 99).
    steps.push_back({std::string("SELECT ") + kCustomerColumns + " FROM (SELECT *" + page +
                         ") AS c ORDER BY c.id",
                     params});
    if (query.include_activities) {
      // The same page again, in the same snapshot, selects the activities.
      steps.push_back({std::string("SELECT ") + kActivityColumns +
                           " FROM activities a WHERE a.customer_id IN (SELECT c.id" + page +
                           ") ORDER BY a.customer_id, a.activity_date, a.id",
                       params});
    }
  }

  Result<ReadResult> read = runner_.Read("customer list", steps);
  if (!read.ok()) return read.status();

  ListInfo info;
  info.timestamp = read->timestamp;
  info.total_rows = read->results[0].Int(0, 0);
  if (read->results.size() < 2) return info;

  const PgResult& rows = read->results[1];
  std::vector<Customer> page(rows.rows());
  for (int i = 0; i < rows.rows(); ++i) {
    CMFD_PG_TRY(ReadCustomerRow(rows, i, options_.customer.fields, page[i]));
  }
  if (query.include_activities) {
    // Both results are ordered by customer id, so one pass assigns them.
    const PgResult& activities = read->results[2];
    std::size_t owner = 0;
    for (Customer& customer : page) customer.activities.emplace();
    for (int i = 0; i < activities.rows(); ++i) {
      Activity activity = ReadActivityRow(activities, i);
      while (owner < page.size() && page[owner].id != activity.customer_id) ++owner;
      if (owner == page.size()) break;
      page[owner].activities->push_back(std::move(activity));
    }
  }
  for (const Customer& customer : page) row(customer);
  return info;
}

Result<std::vector<std::int64_t>> PgStore::ChangeCustomerSegments(
    std::int64_t customer_id, const std::vector<std::int64_t>& add,
    const std::vector<std::int64_t>& remove) {
  std::vector<std::int64_t> result;
  Status status = runner_.Write("customer segments change", [&](WriteTx& tx) -> Status {
    // Locking the customer serializes changes of its segments; the read of
    // its assignments follows the lock, so it sees what a waited-for
    // transaction wrote.
    std::vector<PgResult> loaded;
    CMFD_PG_TRY(tx.Pipeline(
        {{"SELECT 1 FROM customers WHERE id = $1::bigint FOR NO KEY UPDATE",
          {IntParam(customer_id)}},
         {"SELECT segment_id FROM customer_segments WHERE customer_id = $1::bigint",
          {IntParam(customer_id)}}},
        "customer segments change", &loaded));
    if (loaded[0].rows() == 0) return NotFoundStatus("Customer", customer_id);

    // Every unknown id is reported, each once and in the order sent, before
    // anything changes. The key-share lock keeps a segment that exists now
    // from being deleted before this transaction ends.
    std::vector<std::int64_t> requested;
    std::set<std::int64_t> checked;
    for (const std::vector<std::int64_t>* list : {&add, &remove}) {
      for (std::int64_t segment_id : *list) {
        if (checked.insert(segment_id).second) requested.push_back(segment_id);
      }
    }
    std::set<std::int64_t> existing;
    if (!requested.empty()) {
      PgResult found = tx.Exec(
          "SELECT id FROM segments WHERE id = ANY($1::bigint[]) ORDER BY id FOR KEY SHARE",
          {IntArrayLiteral(requested)});
      if (!found.ok()) return tx.Error(found, "customer segments change");
      for (int i = 0; i < found.rows(); ++i) existing.insert(found.Int(i, 0));
    }
    std::vector<std::int64_t> unknown;
    for (std::int64_t segment_id : requested) {
      if (existing.count(segment_id) == 0) unknown.push_back(segment_id);
    }
    if (!unknown.empty()) return UnknownSegmentsStatus(unknown);

    // The resulting set: adds first, then removes, so an id in both lists
    // ends up removed. Only the difference is written.
    std::set<std::int64_t> before;
    for (int i = 0; i < loaded[1].rows(); ++i) before.insert(loaded[1].Int(i, 0));
    std::set<std::int64_t> after = before;
    after.insert(add.begin(), add.end());
    for (std::int64_t segment_id : remove) after.erase(segment_id);

    std::vector<std::int64_t> inserted;
    std::vector<std::int64_t> erased;
    for (std::int64_t segment_id : after) {
      if (before.count(segment_id) == 0) inserted.push_back(segment_id);
    }
    for (std::int64_t segment_id : before) {
      if (after.count(segment_id) == 0) erased.push_back(segment_id);
    }

    if (!inserted.empty() || !erased.empty()) {
      CMFD_PG_TRY(tx.Pipeline(
          {{"INSERT INTO customer_segments (customer_id, segment_id)"
            " SELECT $1::bigint, unnest($2::bigint[])",
            {IntParam(customer_id), IntArrayLiteral(inserted)}},
           {"DELETE FROM customer_segments"
            " WHERE customer_id = $1::bigint AND segment_id = ANY($2::bigint[])",
            {IntParam(customer_id), IntArrayLiteral(erased)}},
           {"UPDATE customers SET modification_date = $1::bigint WHERE id = $2::bigint",
            {IntParam(tx.now()), IntParam(customer_id)}}},
          "customer segments change"));
    }

    result.assign(after.begin(), after.end());
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace cmfd::pg
