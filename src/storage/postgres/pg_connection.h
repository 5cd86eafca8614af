// PgConnection: one libpq connection with lazily prepared statements, and
// PgResult, the rows of one statement.
//
// Statements are identified by their SQL text. The first use of a text on a
// connection prepares it under a generated name; later uses execute the
// prepared statement, so every query of the store is parsed and planned once
// per connection. Parameters and results travel in text format; a null
// parameter is std::nullopt.
//
// A connection is used by one thread at a time (the pool hands it out).
#pragma once

#include <libpq-fe.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "util/status.h"

namespace cmfd::pg {

using Param = std::optional<std::string>;
using Params = std::vector<Param>;

// The rows of one statement, or the error it ended with.
class PgResult {
 public:
  PgResult() = default;
  explicit PgResult(PGresult* result) : result_(result, &PQclear) {}

  bool ok() const;  // PGRES_COMMAND_OK or PGRES_TUPLES_OK
  int rows() const { return result_ ? PQntuples(result_.get()) : 0; }
  bool IsNull(int row, int column) const { return PQgetisnull(result_.get(), row, column) != 0; }
  std::string_view Text(int row, int column) const;
  std::string String(int row, int column) const { return std::string(Text(row, column)); }
  std::optional<std::string> OptionalString(int row, int column) const;
  std::int64_t Int(int row, int column) const;
  std::optional<std::int64_t> OptionalInt(int row, int column) const;
  bool Bool(int row, int column) const { return Text(row, column) == "t"; }
  // Affected rows of an INSERT, UPDATE or DELETE.
  std::int64_t AffectedRows() const;

  // The SQLSTATE of a failed statement ("" when it succeeded or has none).
  std::string SqlState() const;
  // The constraint named by a failed statement, e.g. a violated unique index.
  std::string Constraint() const;
  // The server's or libpq's error message, on one line.
  std::string ErrorMessage() const;

  PGresult* get() const { return result_.get(); }

 private:
  std::shared_ptr<PGresult> result_;
};

// One statement of a pipeline (see PgConnection::Pipeline).
struct PipelineStep {
  std::string sql;
  Params params;
  bool sync_after = false;  // end the implicit transaction after this statement
};

class PgConnection {
 public:
  // Connects with `conninfo` (a postgresql:// URL or a keyword string).
  // Returns Unavailable with libpq's message when the server cannot be
  // reached.
  static Result<std::unique_ptr<PgConnection>> Connect(const std::string& conninfo);

  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs one statement and returns its result; a failed statement is
  // returned too (check ok()). Statuses of the connection itself (lost,
  // broken) show up as a result whose SqlState is empty or of class 08 or
  // 57P; Broken() then tells whether the connection is gone.
  PgResult Exec(std::string_view sql, const Params& params = {});

  // Runs a statement that takes no parameters and is not worth preparing
  // (transaction control in the simple protocol).
  PgResult ExecSimple(const char* sql);

  // Sends every step in pipeline mode, so that the whole batch costs one
  // network round trip, and returns one result per step. After a failed
  // step the server skips the steps up to the next sync point; those get a
  // result with PGRES_PIPELINE_ABORTED (not ok, empty SqlState).
  std::vector<PgResult> Pipeline(const std::vector<PipelineStep>& steps);

  // True when the connection can no longer be used and must be replaced.
  bool Broken() const;

  // The server process id of this connection (for tests and logs).
  int BackendPid() const { return PQbackendPID(conn_); }

  PGconn* raw() const { return conn_; }

 private:
  explicit PgConnection(PGconn* conn) : conn_(conn) {}

  // The name of the prepared statement for `sql`, preparing it first when
  // this connection has not seen the text yet. Empty on failure (`error`
  // holds the failed result).
  const std::string* Prepared(std::string_view sql, int param_count, PgResult& error);

  PGconn* conn_;
  std::unordered_map<std::string, std::string> prepared_;  // SQL text -> statement name
};

// Maps a failed result to a Status: Unavailable when the connection was lost
// (`connection_lost`), Internal otherwise. `what` names the operation for the
// log and the message.
Status ErrorStatus(const PgResult& result, bool connection_lost, std::string_view what);

// Quotes `text` as an SQL string literal ('it''s').
std::string QuoteLiteral(std::string_view text);

// Formats a list of ids as a PostgreSQL array literal: {1,2,3}.
std::string IntArrayLiteral(const std::vector<std::int64_t>& values);

// Formats strings as a PostgreSQL text array literal with every element
// quoted: {"a","b\"c"}.
std::string TextArrayLiteral(const std::vector<std::string>& values);

}  // namespace cmfd::pg
