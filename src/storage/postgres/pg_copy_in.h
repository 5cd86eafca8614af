// Bulk loading with COPY ... FROM STDIN: a buffer of rows in COPY's text
// format, and the call that streams it to the server.
//
// COPY parses rows without planning a statement per row, so it is the
// fastest way to insert many rows; Store::Import uses it for new rows.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "storage/postgres/pg_connection.h"

namespace cmfd::pg {

// Rows in the text format of COPY: columns separated by tabs, rows ended by
// a newline, \N for null, and backslash escapes for the characters that
// would otherwise end a column or a row. Columns are added in the order of
// the COPY statement's column list.
class CopyRows {
 public:
  void Text(std::string_view value);
  void Text(const std::optional<std::string>& value);
  void Int(std::int64_t value);
  void OptionalInt(const std::optional<std::int64_t>& value);
  void Bool(bool value);
  void Null();
  void EndRow();

  std::int64_t rows() const { return rows_; }
  const std::string& data() const { return data_; }

 private:
  void StartColumn();

  std::string data_;
  std::int64_t rows_ = 0;
  bool row_open_ = false;
};

// Runs `sql`, a COPY ... FROM STDIN statement, on `conn` and sends `rows`.
// Returns the statement's final result: ok with the number of rows, or the
// error that stopped it (a constraint violation names its constraint as for
// any statement).
PgResult CopyIn(PgConnection& conn, const std::string& sql, const CopyRows& rows);

}  // namespace cmfd::pg
