#include "storage/postgres/pg_copy_in.h"

#include <algorithm>

namespace cmfd::pg {

void CopyRows::StartColumn() {
  if (row_open_) data_ += '\t';
  row_open_ = true;
}

void CopyRows::Text(std::string_view value) {
  StartColumn();
  // Only the backslash and the three separators need escaping; every other
  // byte, including multibyte UTF-8, is taken as it is.
  for (char c : value) {
    switch (c) {
      case '\\': data_ += "\\\\"; break;
      case '\t': data_ += "\\t"; break;
      case '\n': data_ += "\\n"; break;
      case '\r': data_ += "\\r"; break;
      default: data_ += c;
    }
  }
}

void CopyRows::Text(const std::optional<std::string>& value) {
  if (value) {
    Text(std::string_view(*value));
  } else {
    Null();
  }
}

void CopyRows::Int(std::int64_t value) {
  StartColumn();
  data_ += std::to_string(value);
}

void CopyRows::OptionalInt(const std::optional<std::int64_t>& value) {
  if (value) {
    Int(*value);
  } else {
    Null();
  }
}

void CopyRows::Bool(bool value) {
  StartColumn();
  data_ += value ? 't' : 'f';
}

void CopyRows::Null() {
  StartColumn();
  data_ += "\\N";
}

void CopyRows::EndRow() {
  data_ += '\n';
  row_open_ = false;
  ++rows_;
}

PgResult CopyIn(PgConnection& conn, const std::string& sql, const CopyRows& rows) {
  PGconn* raw = conn.raw();
  PGresult* started = PQexec(raw, sql.c_str());
  if (PQresultStatus(started) != PGRES_COPY_IN) return PgResult(started);
  PQclear(started);

  // libpq copies the data into its output buffer before sending it. Pieces
  // of bounded size keep that buffer from holding a second copy of the batch.
  constexpr std::size_t kPiece = 1 << 20;
  const std::string& data = rows.data();
  bool sent = true;
  for (std::size_t offset = 0; offset < data.size() && sent; offset += kPiece) {
    std::size_t length = std::min(kPiece, data.size() - offset);
    sent = PQputCopyData(raw, data.data() + offset, static_cast<int>(length)) == 1;
  }
  if (sent) PQputCopyEnd(raw, nullptr);

  // The COPY's own result follows the data. The last result is kept because
  // it contains the error when the server rejected a row.
  PgResult last;
  bool have_result = false;
  while (PGresult* result = PQgetResult(raw)) {
    last = PgResult(result);
    have_result = true;
  }
  if (!have_result || (!sent && last.ok())) {
    // A lost connection: the result carries libpq's message.
    return PgResult(PQmakeEmptyPGresult(raw, PGRES_FATAL_ERROR));
  }
  return last;
}

}  // namespace cmfd::pg
