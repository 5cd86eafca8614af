// Column lists, row readers and WHERE-clause building shared by the .cc
// files of the SQLite store.
#pragma once

#include <cstdint>
#include <string>
#include <variant>
#include <vector>

#include "config/config.h"
#include "domain/model.h"
#include "storage/sqlite/sqlite_db.h"
#include "util/status.h"

namespace cmfd {

// Columns read by ReadCustomerFields, from `customers c`: everything but the
// segments.
#define CMFD_CUSTOMER_FIELD_COLUMNS                                                            \
  "c.id, c.active, c.gender, c.firstname, c.lastname, c.birthdate, c.street, c.zip, c.city, " \
  "c.phone, c.extra, c.country_code, c.email, c.id_encoded, c.profiling_consent, "            \
  "c.password_hash, c.modification_date, c.creation_date"
inline constexpr const char* kCustomerFieldColumns = CMFD_CUSTOMER_FIELD_COLUMNS;

// Columns read by ReadCustomerRow: the fields, then the customer's segment
// ids as "3,9" (or NULL), read in the same statement so that one statement
// (and so one snapshot) returns the whole customer.
inline constexpr const char* kCustomerColumns =
    CMFD_CUSTOMER_FIELD_COLUMNS
    ", (SELECT group_concat(s.segment_id) FROM customer_segments s WHERE s.customer_id = c.id)";
#undef CMFD_CUSTOMER_FIELD_COLUMNS

// Columns read by ReadActivityRow, from `activities a`.
inline constexpr const char* kActivityColumns =
    "a.id, a.customer_id, a.activity_date, a.type, a.implementation_class, a.o_id, a.a_id, "
    "a.md5, a.attributes, a.modification_date, a.creation_date";

// Fills `customer` from a row of kCustomerColumns; `fields` are the
// configured extra fields. Leaves `activities` alone.
Status ReadCustomerRow(const SqliteStatement& stmt, const std::vector<CustomField>& fields,
                       Customer& customer);

// As ReadCustomerRow, from a row of kCustomerFieldColumns; leaves
// `segments` alone too.
Status ReadCustomerFields(const SqliteStatement& stmt, const std::vector<CustomField>& fields,
                          Customer& customer);

// Sets `segments` of each customer (ascending ids) with one query for all
// of them, which costs less than a subquery per row of the page.
Status LoadSegmentsOf(SqliteDb& db, const std::vector<Customer*>& customers);

// Fills `activity` from a row of kActivityColumns, reusing the buffers of
// its strings.
void ReadActivityRow(const SqliteStatement& stmt, Activity& activity);

// Sets `activities` of each customer to its activities, ordered by
// activity_date, then id, with one query for all of them.
Status LoadActivitiesOf(SqliteDb& db, const std::vector<Customer*>& customers);

Result<bool> CustomerExists(SqliteDb& db, std::int64_t id);

// The WHERE clause of a list query, built from the filters present, with its
// parameters in placeholder order.
class SqlFilter {
 public:
  using Param = std::variant<std::int64_t, std::string>;

  // Adds "AND <condition>"; `condition` uses one `?` per parameter.
  void Add(const char* condition, std::vector<Param> params);

  bool empty() const { return where_.empty(); }
  // " WHERE a AND b", or "" without conditions.
  const std::string& where() const { return where_; }
  // The conditions and their parameter values as one string: equal for two
  // filters exactly when they select the same rows.
  std::string Key() const;
  int param_count() const { return static_cast<int>(params_.size()); }

  // Binds the parameters to ?1 .. ?param_count().
  void Bind(SqliteStatement& stmt) const;

 private:
  std::string where_;
  std::vector<Param> params_;
};

// Runs a statement that returns one integer (a count), binding `filter`.
Result<std::int64_t> QueryCount(SqliteDb& db, const std::string& sql, const SqlFilter& filter);

// The row_counts table: the row counts of the large tables and the change
// counters that version the page cache (see sqlite_schema.cc), all kept by
// triggers in the transactions of the writes.
struct TableCounters {
  std::int64_t customers = 0;
  std::int64_t customers_deletes = 0;
  std::int64_t customers_changes = 0;
  std::int64_t activities = 0;
  std::int64_t activities_changes = 0;
};

// Reads every counter with one statement, so all come from one snapshot.
Result<TableCounters> ReadTableCounters(SqliteDb& db);

// Returns true when a page filtered by a date range is cheaper to read
// through the date's index than along the index of the list order. The date
// index visits the `matching` rows and sorts them. The order index skips
// non-matching rows, about (offset + page_size) * table_rows / matching
// visits. So a delta sync, which asks for the few rows changed since its
// last read, takes the date index, and a first full sync walks the order.
// SQLite's planner cannot choose this way because it plans before the date
// is bound.
bool PreferRangeIndex(std::int64_t matching, std::int64_t table_rows, std::int64_t offset,
                      std::int64_t page_size);

}  // namespace cmfd
