// Customers and their segment assignments in the SQLite store.
#include <sodium.h>

#include <algorithm>
#include <set>
#include <utility>

#include "storage/json_text.h"
#include "storage/sqlite/sqlite_rows.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

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

// Binds ?1 .. ?15 of kInsertCustomer and kUpdateCustomer.
void BindCustomerValues(SqliteStatement& stmt, const Customer& customer,
                        const std::string& extra) {
  stmt.BindBool(1, customer.active);
  stmt.BindOptionalText(2, customer.gender);
  stmt.BindOptionalText(3, customer.firstname);
  stmt.BindOptionalText(4, customer.lastname);
  stmt.BindOptionalText(5, customer.birthdate);
  stmt.BindOptionalText(6, customer.street);
  stmt.BindOptionalText(7, customer.zip);
  stmt.BindOptionalText(8, customer.city);
  stmt.BindOptionalText(9, customer.phone);
  stmt.BindText(10, extra);
  stmt.BindOptionalText(11, customer.country_code);
  stmt.BindOptionalText(12, customer.email);
  stmt.BindText(13, customer.id_encoded);
  stmt.BindBool(14, customer.profiling_consent);
  stmt.BindOptionalText(15, customer.password_hash);
}

constexpr const char* kInsertCustomer =
    "INSERT INTO customers (active, gender, firstname, lastname, birthdate, street, zip, city, "
    "phone, extra, country_code, email, id_encoded, profiling_consent, password_hash, "
    "modification_date, creation_date) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17)";

constexpr const char* kUpdateCustomer =
    "UPDATE customers SET active = ?1, gender = ?2, firstname = ?3, lastname = ?4, "
    "birthdate = ?5, street = ?6, zip = ?7, city = ?8, phone = ?9, extra = ?10, "
    "country_code = ?11, email = ?12, id_encoded = ?13, profiling_consent = ?14, "
    "password_hash = ?15, modification_date = ?16 WHERE id = ?17";

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

Status SqliteStore::ResolveCustomerSchema() {
  const CustomerSchema& schema = options_.customer;
  for (std::size_t i = 0; i < schema.fields.size(); ++i) {
    if (schema.fields[i].unique) unique_fields_.push_back(i);
  }
  if (schema.duplicate_check.empty()) return Status::Ok();

  // One query for the whole check, built once: the first customer other than
  // ?1 whose values all equal the new ones. Strings compare through lower(),
  // which folds ASCII letters only. The email term uses the lower(email)
  // index, and the other fields scan the table.
  duplicate_sql_ = "SELECT id FROM customers WHERE id <> ?1";
  int param = 2;
  for (const std::string& name : schema.duplicate_check) {
    DuplicateField field;
    field.name = name;
    std::string placeholder = "?" + std::to_string(param++);

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

    if (text != nullptr) {
      field.kind = DuplicateField::Kind::kText;
      field.text = text->member;
      duplicate_sql_ += std::string(" AND lower(") + text->column + ") = lower(" + placeholder + ")";
    } else if (flag != nullptr) {
      field.kind = DuplicateField::Kind::kFlag;
      field.flag = flag->member;
      duplicate_sql_ += std::string(" AND ") + flag->column + " = " + placeholder;
    } else if (extra != schema.fields.end()) {
      // The name becomes part of a JSON path inside an SQL string literal.
      if (name.find_first_of("\"'\\") != std::string::npos) {
        return Status::Internal("customer.duplicate_check field \"" + name +
                                "\" contains a quote or backslash, which the check cannot use");
      }
      field.kind = DuplicateField::Kind::kExtra;
      field.extra_index = static_cast<std::size_t>(extra - schema.fields.begin());
      duplicate_sql_ += " AND lower(json_extract(extra, '$.\"" + name +
                        "\"')) = lower(json_extract(" + placeholder + ", '$'))";
    } else {
      return Status::Internal("customer.duplicate_check names unknown customer field \"" +
                              name + "\"");
    }
    duplicate_fields_.push_back(std::move(field));
  }
  duplicate_sql_ += " ORDER BY id LIMIT 1";
  return Status::Ok();
}

// Checks the unique extra fields and the duplicate check against every
// customer but `customer.id` (0 for a new one). Collects every conflict.
Status SqliteStore::CheckCustomerRules(SqliteDb& db, const Customer& customer) {
  const std::vector<CustomField>& fields = options_.customer.fields;
  Status result;

  for (std::size_t index : unique_fields_) {
    const std::optional<std::string>& value = customer.extra[index];
    if (!value) continue;
    Result<SqliteStatement> stmt =
        db.Prepare("SELECT customer_id FROM customer_unique WHERE field = ?1 AND value = ?2");
    if (!stmt.ok()) return stmt.status();
    stmt->BindText(1, fields[index].name);
    stmt->BindText(2, *value);
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (row.value() && stmt->ColumnInt(0) != customer.id) {
      result.Add(Code::kConflict, fields[index].name + " " + *value +
                                      " is already used by customer " +
                                      std::to_string(stmt->ColumnInt(0)));
    }
  }

  if (duplicate_sql_.empty()) return result;

  // The check applies only when every field of it has a value.
  Result<SqliteStatement> stmt = db.Prepare(duplicate_sql_);
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, customer.id);
  std::vector<std::string> names;
  int param = 2;
  for (const DuplicateField& field : duplicate_fields_) {
    names.push_back(field.name);
    switch (field.kind) {
      case DuplicateField::Kind::kText: {
        const std::optional<std::string>& value = customer.*field.text;
        if (!value || value->empty()) return result;
        stmt->BindText(param++, *value);
        break;
      }
      case DuplicateField::Kind::kFlag:
        stmt->BindBool(param++, customer.*field.flag);
        break;
      case DuplicateField::Kind::kExtra: {
        const std::optional<std::string>& value = customer.extra[field.extra_index];
        if (!value || *value == "\"\"") return result;
        stmt->BindText(param++, *value);
        break;
      }
    }
  }
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (row.value()) {
    result.Add(Code::kConflict, "Duplicate customer found: customer " +
                                    std::to_string(stmt->ColumnInt(0)) + " has the same " +
                                    JoinFieldNames(names));
  }
  return result;
}

Status SqliteStore::StoreUniqueValues(SqliteDb& db, const Customer& customer, bool replace) {
  if (unique_fields_.empty()) return Status::Ok();

  if (replace) {
    Result<SqliteStatement> remove =
        db.Prepare("DELETE FROM customer_unique WHERE customer_id = ?1");
    if (!remove.ok()) return remove.status();
    remove->BindInt(1, customer.id);
    CMFD_SQLITE_TRY(remove->Run());
  }

  for (std::size_t index : unique_fields_) {
    const std::optional<std::string>& value = customer.extra[index];
    if (!value) continue;
    Result<SqliteStatement> insert = db.Prepare(
        "INSERT INTO customer_unique (field, value, customer_id) VALUES (?1, ?2, ?3)");
    if (!insert.ok()) return insert.status();
    insert->BindText(1, options_.customer.fields[index].name);
    insert->BindText(2, *value);
    insert->BindInt(3, customer.id);
    CMFD_SQLITE_TRY(insert->Run());
  }
  return Status::Ok();
}

Status SqliteStore::LoadCustomer(SqliteDb& db, std::int64_t id, Customer& customer,
                                 bool& found) {
  static const std::string kSql =
      std::string("SELECT ") + kCustomerColumns + " FROM customers c WHERE c.id = ?1";
  Result<SqliteStatement> stmt = db.Prepare(kSql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  found = row.value();
  if (!found) return Status::Ok();
  return ReadCustomerRow(stmt.value(), options_.customer.fields, customer);
}

Status SqliteStore::InsertCustomer(WriteTransaction& txn, Customer& customer) {
  customer.id = 0;
  customer.segments.clear();
  customer.activities.reset();
  CMFD_SQLITE_TRY(NormalizeExtra(options_.customer.fields, customer));
  if (customer.id_encoded.empty()) customer.id_encoded = NewIdEncoded();
  CMFD_SQLITE_TRY(CheckCustomerRules(txn.db, customer));

  customer.modification_date = txn.now;
  customer.creation_date = txn.now;
  Result<SqliteStatement> insert = txn.db.Prepare(kInsertCustomer);
  if (!insert.ok()) return insert.status();
  BindCustomerValues(insert.value(), customer,
                     EncodeExtraFields(options_.customer.fields, customer.extra));
  insert->BindInt(16, customer.modification_date);
  insert->BindInt(17, customer.creation_date);
  CMFD_SQLITE_TRY(insert->Run());
  customer.id = txn.db.LastInsertId();

  return StoreUniqueValues(txn.db, customer, /*replace=*/false);
}

Result<Customer> SqliteStore::CreateCustomer(const Customer& input) {
  Customer customer = input;
  Status status = RunWrite(
      [&](WriteTransaction& txn) -> Status { return InsertCustomer(txn, customer); });
  if (!status.ok()) return status;
  return customer;
}

Result<Customer> SqliteStore::UpdateCustomer(std::int64_t id,
                                             const std::function<Status(Customer&)>& modify) {
  Customer customer;
  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    bool found = false;
    CMFD_SQLITE_TRY(LoadCustomer(txn.db, id, customer, found));
    if (!found) return NotFoundStatus("Customer", id);
    const Customer stored = customer;

    CMFD_SQLITE_TRY(modify(customer));

    // What `modify` must not change: identity, creation, the segments
    // (changed only through ChangeCustomerSegments) and the token.
    customer.id = id;
    customer.creation_date = stored.creation_date;
    customer.segments = stored.segments;
    customer.activities.reset();
    if (customer.id_encoded.empty()) customer.id_encoded = stored.id_encoded;
    CMFD_SQLITE_TRY(NormalizeExtra(options_.customer.fields, customer));
    CMFD_SQLITE_TRY(CheckCustomerRules(txn.db, customer));

    customer.modification_date = txn.now;
    Result<SqliteStatement> update = txn.db.Prepare(kUpdateCustomer);
    if (!update.ok()) return update.status();
    BindCustomerValues(update.value(), customer,
                       EncodeExtraFields(options_.customer.fields, customer.extra));
    update->BindInt(16, customer.modification_date);
    update->BindInt(17, id);
    CMFD_SQLITE_TRY(update->Run());

    return StoreUniqueValues(txn.db, customer, /*replace=*/true);
  });
  if (!status.ok()) return status;
  return customer;
}

Result<Customer> SqliteStore::GetCustomer(std::int64_t id, bool include_activities) {
  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  SqliteDb& db = reader->db();

  // One statement is its own snapshot. The activities need a second one, so
  // both run in one read transaction.
  if (include_activities) CMFD_SQLITE_TRY(reader->Begin());

  Customer customer;
  bool found = false;
  CMFD_SQLITE_TRY(LoadCustomer(db, id, customer, found));
  if (!found) return NotFoundStatus("Customer", id);

  if (include_activities) {
    CMFD_SQLITE_TRY(LoadActivitiesOf(db, {&customer}));
    CMFD_SQLITE_TRY(reader->Commit());
  }
  return customer;
}

Status SqliteStore::DeleteCustomer(std::int64_t id) {
  return RunWrite([&](WriteTransaction& txn) -> Status {
    Result<bool> exists = CustomerExists(txn.db, id);
    if (!exists.ok()) return exists.status();
    if (!exists.value()) return NotFoundStatus("Customer", id);

    // The deletions feed gets a row for each activity and one for the
    // customer, so that a syncing client drops all of them.
    Result<SqliteStatement> record_activities = txn.db.Prepare(
        "INSERT INTO deletions (entity_type, id, type, creation_date) "
        "SELECT 'activities', id, type, ?2 FROM activities WHERE customer_id = ?1 ORDER BY id");
    if (!record_activities.ok()) return record_activities.status();
    record_activities->BindInt(1, id);
    record_activities->BindInt(2, txn.now);
    CMFD_SQLITE_TRY(record_activities->Run());

    for (const char* sql : {"DELETE FROM activities WHERE customer_id = ?1",
                            "DELETE FROM customer_segments WHERE customer_id = ?1",
                            "DELETE FROM customer_unique WHERE customer_id = ?1",
                            "DELETE FROM customers WHERE id = ?1"}) {
      Result<SqliteStatement> remove = txn.db.Prepare(sql);
      if (!remove.ok()) return remove.status();
      remove->BindInt(1, id);
      CMFD_SQLITE_TRY(remove->Run());
    }

    Result<SqliteStatement> record_customer = txn.db.Prepare(
        "INSERT INTO deletions (entity_type, id, type, creation_date) "
        "VALUES ('customers', ?1, '', ?2)");
    if (!record_customer.ok()) return record_customer.status();
    record_customer->BindInt(1, id);
    record_customer->BindInt(2, txn.now);
    CMFD_SQLITE_TRY(record_customer->Run());
    record_customer = SqliteStatement();

    // The checkpoints of the unfiltered list move past the deleted id once
    // the delete has committed, instead of being found again by a walk.
    Result<TableCounters> counters = ReadTableCounters(txn.db);
    if (!counters.ok()) return counters.status();
    const CacheVersion version{counters->customers_deletes, 0};
    txn.after_commit->push_back([this, version, id] {
      page_cache_.ApplyDelete(kAllCustomersShape, version, PageKey{id, 0});
    });
    return Status::Ok();
  });
}

Status SqliteStore::ChangeSegmentsOf(WriteTransaction& txn, std::int64_t customer_id,
                                     const std::vector<std::int64_t>& add,
                                     const std::vector<std::int64_t>& remove,
                                     std::vector<std::int64_t>& result) {
  Result<bool> exists = CustomerExists(txn.db, customer_id);
  if (!exists.ok()) return exists.status();
  if (!exists.value()) return NotFoundStatus("Customer", customer_id);

  // Every unknown id is reported, each once and in the order sent, before
  // anything changes.
  std::vector<std::int64_t> unknown;
  std::set<std::int64_t> checked;
  for (const std::vector<std::int64_t>* list : {&add, &remove}) {
    for (std::int64_t segment_id : *list) {
      if (!checked.insert(segment_id).second) continue;
      Result<SqliteStatement> stmt = txn.db.Prepare("SELECT 1 FROM segments WHERE id = ?1");
      if (!stmt.ok()) return stmt.status();
      stmt->BindInt(1, segment_id);
      Result<bool> found = stmt->Step();
      if (!found.ok()) return found.status();
      if (!found.value()) unknown.push_back(segment_id);
    }
  }
  if (!unknown.empty()) {
    std::string message = unknown.size() == 1 ? "unknown segment ID: " : "unknown segment IDs: ";
    for (std::size_t i = 0; i < unknown.size(); ++i) {
      if (i > 0) message += ", ";
      message += std::to_string(unknown[i]);
    }
    return Status::Invalid(std::move(message));
  }

  // The resulting set: adds first, then removes, so an id in both lists
  // ends up removed. Only the difference is written.
  Result<SqliteStatement> current =
      txn.db.Prepare("SELECT segment_id FROM customer_segments WHERE customer_id = ?1");
  if (!current.ok()) return current.status();
  current->BindInt(1, customer_id);
  std::set<std::int64_t> before;
  while (true) {
    Result<bool> has_row = current->Step();
    if (!has_row.ok()) return has_row.status();
    if (!has_row.value()) break;
    before.insert(current->ColumnInt(0));
  }
  current = SqliteStatement();

  std::set<std::int64_t> after = before;
  after.insert(add.begin(), add.end());
  for (std::int64_t segment_id : remove) after.erase(segment_id);

  for (std::int64_t segment_id : after) {
    if (before.count(segment_id) != 0) continue;
    Result<SqliteStatement> insert = txn.db.Prepare(
        "INSERT INTO customer_segments (customer_id, segment_id) VALUES (?1, ?2)");
    if (!insert.ok()) return insert.status();
    insert->BindInt(1, customer_id);
    insert->BindInt(2, segment_id);
    CMFD_SQLITE_TRY(insert->Run());
  }
  for (std::int64_t segment_id : before) {
    if (after.count(segment_id) != 0) continue;
    Result<SqliteStatement> erase = txn.db.Prepare(
        "DELETE FROM customer_segments WHERE customer_id = ?1 AND segment_id = ?2");
    if (!erase.ok()) return erase.status();
    erase->BindInt(1, customer_id);
    erase->BindInt(2, segment_id);
    CMFD_SQLITE_TRY(erase->Run());
  }

  if (after != before) {
    Result<SqliteStatement> touch =
        txn.db.Prepare("UPDATE customers SET modification_date = ?1 WHERE id = ?2");
    if (!touch.ok()) return touch.status();
    touch->BindInt(1, txn.now);
    touch->BindInt(2, customer_id);
    CMFD_SQLITE_TRY(touch->Run());
  }

  result.assign(after.begin(), after.end());
  return Status::Ok();
}

Result<std::vector<std::int64_t>> SqliteStore::ChangeCustomerSegments(
    std::int64_t customer_id, const std::vector<std::int64_t>& add,
    const std::vector<std::int64_t>& remove) {
  std::vector<std::int64_t> result;
  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    return ChangeSegmentsOf(txn, customer_id, add, remove, result);
  });
  if (!status.ok()) return status;
  return result;
}

}  // namespace cmfd
