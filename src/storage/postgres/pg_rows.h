// Column lists, row readers and WHERE-clause building shared by the .cc
// files of the PostgreSQL store.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "config/config.h"
#include "domain/model.h"
#include "storage/postgres/pg_connection.h"
#include "util/status.h"

namespace cmfd::pg {

// Columns read by ReadCustomerRow, from `customers c`. The last one is the
// customer's segment ids as an array literal ("{3,9}"), read in the same
// statement so that a page of customers costs one query.
inline constexpr const char* kCustomerColumns =
    "c.id, c.active, c.gender, c.firstname, c.lastname, c.birthdate, c.street, c.zip, c.city, "
    "c.phone, c.extra, c.country_code, c.email, c.id_encoded, c.profiling_consent, "
    "c.password_hash, c.modification_date, c.creation_date, "
    "ARRAY(SELECT s.segment_id FROM customer_segments s WHERE s.customer_id = c.id"
    " ORDER BY s.segment_id)";

// Columns read by ReadActivityRow, from `activities a`.
inline constexpr const char* kActivityColumns =
    "a.id, a.customer_id, a.activity_date, a.type, a.implementation_class, a.o_id, a.a_id, "
    "a.md5, a.attributes, a.modification_date, a.creation_date";

// Fills `customer` from row `row` of kCustomerColumns; `fields` are the
// configured extra fields. Leaves `activities` alone.
Status ReadCustomerRow(const PgResult& result, int row, const std::vector<CustomField>& fields,
                       Customer& customer);

Activity ReadActivityRow(const PgResult& result, int row, int first_column = 0);

// Adds an Invalid problem to `status` when `value` contains the character
// U+0000. PostgreSQL text cannot store it, and libpq would cut the value
// short there, so such a value is rejected rather than changed.
// NOTE: the SQLite store keeps these characters.
void RejectNul(std::string_view field, const std::optional<std::string>& value, Status& status);

// True when `text` can be a query parameter: PostgreSQL rejects invalid
// UTF-8 with an error and libpq cuts a value at U+0000. A filter value that
// is not storable matches no stored row, as on SQLite.
bool IsStorableText(std::string_view text);

// Parses an array literal of integers ("{3,9}") into ids.
std::vector<std::int64_t> ParseIntArray(std::string_view text);

// The WHERE clause of a list query, built from the filters present, with its
// parameters in placeholder order.
class SqlFilter {
 public:
  // Adds "AND <condition>"; `condition` names its parameters `$?`, which
  // become $1, $2, ... in order of addition.
  void Add(std::string_view condition, Params params);

  // " WHERE a AND b", or "" without conditions.
  const std::string& where() const { return where_; }
  const Params& params() const { return params_; }
  // The placeholder for the next parameter after the filter's own ("$4").
  std::string Next(int offset = 0) const {
    return "$" + std::to_string(params_.size() + 1 + offset);
  }

 private:
  std::string where_;
  Params params_;
};

}  // namespace cmfd::pg
