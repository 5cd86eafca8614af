#include "storage/sqlite/sqlite_rows.h"

#include <algorithm>
#include <charconv>
#include <unordered_map>

#include "storage/json_text.h"

namespace cmfd {

namespace {

// Parses the group_concat text "3,9,12" into ascending ids.
std::vector<std::int64_t> ParseIdList(std::string_view text) {
  std::vector<std::int64_t> ids;
  const char* pos = text.data();
  const char* end = text.data() + text.size();
  while (pos < end) {
    std::int64_t id = 0;
    auto [next, error] = std::from_chars(pos, end, id);
    if (error != std::errc()) break;
    ids.push_back(id);
    pos = next;
    if (pos < end && *pos == ',') ++pos;
  }
  // group_concat has no defined order. The primary-key scan yields ascending
  // ids in practice, so this sort is nearly free.
  std::sort(ids.begin(), ids.end());
  return ids;
}

// Sets `into` to the text of `column`, or to nullopt for NULL. A string
// already in `into` keeps its buffer, so rereading into a used Customer
// allocates only for longer text.
void ReadOptionalText(const SqliteStatement& stmt, int column, std::optional<std::string>& into) {
  const std::string_view text = stmt.ColumnView(column);
  if (text.empty() && stmt.IsNull(column)) {
    into.reset();
  } else if (into) {
    into->assign(text);
  } else {
    into.emplace(text);
  }
}

}  // namespace

Status ReadCustomerRow(const SqliteStatement& stmt, const std::vector<CustomField>& fields,
                       Customer& customer) {
  CMFD_SQLITE_TRY(ReadCustomerFields(stmt, fields, customer));
  customer.segments = ParseIdList(stmt.ColumnView(18));
  return Status::Ok();
}

Status ReadCustomerFields(const SqliteStatement& stmt, const std::vector<CustomField>& fields,
                          Customer& customer) {
  customer.id = stmt.ColumnInt(0);
  customer.active = stmt.ColumnBool(1);
  ReadOptionalText(stmt, 2, customer.gender);
  ReadOptionalText(stmt, 3, customer.firstname);
  ReadOptionalText(stmt, 4, customer.lastname);
  ReadOptionalText(stmt, 5, customer.birthdate);
  ReadOptionalText(stmt, 6, customer.street);
  ReadOptionalText(stmt, 7, customer.zip);
  ReadOptionalText(stmt, 8, customer.city);
  ReadOptionalText(stmt, 9, customer.phone);
  CMFD_SQLITE_TRY(DecodeExtraFields(stmt.ColumnView(10), fields, customer.extra));
  ReadOptionalText(stmt, 11, customer.country_code);
  ReadOptionalText(stmt, 12, customer.email);
  customer.id_encoded.assign(stmt.ColumnView(13));
  customer.profiling_consent = stmt.ColumnBool(14);
  ReadOptionalText(stmt, 15, customer.password_hash);
  customer.modification_date = stmt.ColumnInt(16);
  customer.creation_date = stmt.ColumnInt(17);
  return Status::Ok();
}

Status LoadSegmentsOf(SqliteDb& db, const std::vector<Customer*>& customers) {
  if (customers.empty()) return Status::Ok();

  // Both sides in customer id order, so that the rows are matched to their
  // customers by one forward pass. A page is in that order already.
  std::vector<Customer*> sorted = customers;
  std::sort(sorted.begin(), sorted.end(),
            [](const Customer* a, const Customer* b) { return a->id < b->id; });
  std::vector<std::int64_t> ids;
  ids.reserve(sorted.size());
  for (Customer* customer : sorted) {
    customer->segments.clear();
    ids.push_back(customer->id);
  }

  // A page of nearly consecutive ids reads one range of the primary key
  // (customer_id, segment_id). A sparse page, from a filter, looks each
  // customer up instead, so it does not read the members in between.
  const std::int64_t first = ids.front();
  const std::int64_t last = ids.back();
  const bool dense = last - first < 4 * static_cast<std::int64_t>(ids.size());
  Result<SqliteStatement> stmt =
      dense ? db.Prepare("SELECT customer_id, segment_id FROM customer_segments"
                         " WHERE customer_id BETWEEN ?1 AND ?2 ORDER BY customer_id, segment_id")
            : db.Prepare("SELECT customer_id, segment_id FROM customer_segments"
                         " WHERE customer_id IN (SELECT value FROM json_each(?1))"
                         " ORDER BY customer_id, segment_id");
  if (!stmt.ok()) return stmt.status();
  if (dense) {
    stmt->BindInt(1, first);
    stmt->BindInt(2, last);
  } else {
    stmt->BindText(1, JsonIntArray(ids));
  }

  std::size_t next = 0;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    const std::int64_t customer_id = stmt->ColumnInt(0);
    while (next < sorted.size() && sorted[next]->id < customer_id) ++next;
    if (next == sorted.size()) break;
    if (sorted[next]->id == customer_id) sorted[next]->segments.push_back(stmt->ColumnInt(1));
  }
  return Status::Ok();
}

void ReadActivityRow(const SqliteStatement& stmt, Activity& activity) {
  // assign() keeps the buffers of an Activity that is read into row after
  // row, so a list page allocates for its longest values only.
  activity.id = stmt.ColumnInt(0);
  activity.customer_id = stmt.ColumnInt(1);
  activity.activity_date = stmt.ColumnInt(2);
  activity.type.assign(stmt.ColumnView(3));
  activity.implementation_class.assign(stmt.ColumnView(4));
  activity.o_id = stmt.ColumnOptionalInt(5);
  ReadOptionalText(stmt, 6, activity.a_id);
  activity.md5.assign(stmt.ColumnView(7));
  activity.attributes_json.assign(stmt.ColumnView(8));
  activity.modification_date = stmt.ColumnInt(9);
  activity.creation_date = stmt.ColumnInt(10);
}

Status LoadActivitiesOf(SqliteDb& db, const std::vector<Customer*>& customers) {
  if (customers.empty()) return Status::Ok();

  std::unordered_map<std::int64_t, Customer*> by_id;
  std::vector<std::int64_t> ids;
  for (Customer* customer : customers) {
    customer->activities.emplace();
    by_id[customer->id] = customer;
    ids.push_back(customer->id);
  }

  static const std::string kOne = std::string("SELECT ") + kActivityColumns +
                                  " FROM activities a WHERE a.customer_id = ?1"
                                  " ORDER BY a.activity_date, a.id";
  // json_each keeps the SQL text the same for any number of customers, so
  // one prepared statement serves every page.
  static const std::string kMany =
      std::string("SELECT ") + kActivityColumns +
      " FROM activities a WHERE a.customer_id IN (SELECT value FROM json_each(?1))"
      " ORDER BY a.customer_id, a.activity_date, a.id";

  Result<SqliteStatement> stmt = db.Prepare(ids.size() == 1 ? kOne : kMany);
  if (!stmt.ok()) return stmt.status();
  if (ids.size() == 1) {
    stmt->BindInt(1, ids.front());
  } else {
    stmt->BindText(1, JsonIntArray(ids));
  }

  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    Activity activity;
    ReadActivityRow(stmt.value(), activity);
    auto it = by_id.find(activity.customer_id);
    if (it != by_id.end()) it->second->activities->push_back(std::move(activity));
  }
  return Status::Ok();
}

Result<bool> CustomerExists(SqliteDb& db, std::int64_t id) {
  Result<SqliteStatement> stmt = db.Prepare("SELECT 1 FROM customers WHERE id = ?1");
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, id);
  return stmt->Step();
}

void SqlFilter::Add(const char* condition, std::vector<Param> params) {
  where_ += where_.empty() ? " WHERE " : " AND ";
  where_ += condition;
  for (Param& param : params) params_.push_back(std::move(param));
}

std::string SqlFilter::Key() const {
  // A parameter is written with its type and length, so that no two
  // different lists of values give the same text.
  std::string key = where_;
  for (const Param& param : params_) {
    key += '\x1f';
    if (const auto* number = std::get_if<std::int64_t>(&param)) {
      key += 'i';
      key += std::to_string(*number);
    } else {
      const std::string& text = std::get<std::string>(param);
      key += 's';
      key += std::to_string(text.size());
      key += ':';
      key += text;
    }
  }
  return key;
}

void SqlFilter::Bind(SqliteStatement& stmt) const {
  for (std::size_t i = 0; i < params_.size(); ++i) {
    int index = static_cast<int>(i) + 1;
    if (const auto* number = std::get_if<std::int64_t>(&params_[i])) {
      stmt.BindInt(index, *number);
    } else {
      stmt.BindText(index, std::get<std::string>(params_[i]));
    }
  }
}

Result<std::int64_t> QueryCount(SqliteDb& db, const std::string& sql, const SqlFilter& filter) {
  Result<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  filter.Bind(stmt.value());
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!row.value()) return Status::Internal("count query returned no row: " + sql);
  return stmt->ColumnInt(0);
}

Result<TableCounters> ReadTableCounters(SqliteDb& db) {
  Result<SqliteStatement> stmt = db.Prepare("SELECT name, n FROM row_counts");
  if (!stmt.ok()) return stmt.status();
  TableCounters counters;
  int found = 0;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    const std::string_view name = stmt->ColumnView(0);
    std::int64_t* counter = nullptr;
    if (name == "customers") counter = &counters.customers;
    if (name == "customers_deletes") counter = &counters.customers_deletes;
    if (name == "customers_changes") counter = &counters.customers_changes;
    if (name == "activities") counter = &counters.activities;
    if (name == "activities_changes") counter = &counters.activities_changes;
    if (counter == nullptr) continue;
    *counter = stmt->ColumnInt(1);
    ++found;
  }
  if (found != 5) {
    return Status::Internal("row_counts has " + std::to_string(found) +
                            " of the 5 counters the store keeps");
  }
  return counters;
}

bool PreferRangeIndex(std::int64_t matching, std::int64_t table_rows, std::int64_t offset,
                      std::int64_t page_size) {
  if (matching <= 0) return true;
  // In doubles: the products overflow 64-bit integers for huge offsets.
  double range_cost = static_cast<double>(matching);
  double walk_cost = (static_cast<double>(offset) + static_cast<double>(page_size)) *
                     static_cast<double>(table_rows) / static_cast<double>(matching);
  return range_cost < walk_cost;
}

}  // namespace cmfd
