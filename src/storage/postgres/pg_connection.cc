#include "storage/postgres/pg_connection.h"

#include <spdlog/spdlog.h>

#include <charconv>

namespace cmfd::pg {

namespace {

// libpq messages end with a newline and may span lines; a Status message
// and a log line want one line.
std::string OneLine(const char* text) {
  std::string line = text ? text : "";
  while (!line.empty() && (line.back() == '\n' || line.back() == ' ')) line.pop_back();
  std::string joined;
  for (char c : line) {
    if (c == '\n' || c == '\t') c = ' ';
    if (c == ' ' && !joined.empty() && joined.back() == ' ') continue;
    joined += c;
  }
  return joined;
}

}  // namespace

// ---- PgResult ----

bool PgResult::ok() const {
  if (!result_) return false;
  ExecStatusType status = PQresultStatus(result_.get());
  return status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK;
}

std::string_view PgResult::Text(int row, int column) const {
  const char* value = PQgetvalue(result_.get(), row, column);
  return std::string_view(value, PQgetlength(result_.get(), row, column));
}

std::optional<std::string> PgResult::OptionalString(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return String(row, column);
}

std::int64_t PgResult::Int(int row, int column) const {
  std::string_view text = Text(row, column);
  std::int64_t value = 0;
  std::from_chars(text.data(), text.data() + text.size(), value);
  return value;
}

std::optional<std::int64_t> PgResult::OptionalInt(int row, int column) const {
  if (IsNull(row, column)) return std::nullopt;
  return Int(row, column);
}

std::int64_t PgResult::AffectedRows() const {
  if (!result_) return 0;
  const char* text = PQcmdTuples(result_.get());
  std::int64_t value = 0;
  std::from_chars(text, text + std::char_traits<char>::length(text), value);
  return value;
}

std::string PgResult::SqlState() const {
  if (!result_) return "";
  const char* state = PQresultErrorField(result_.get(), PG_DIAG_SQLSTATE);
  return state ? state : "";
}

std::string PgResult::Constraint() const {
  if (!result_) return "";
  const char* name = PQresultErrorField(result_.get(), PG_DIAG_CONSTRAINT_NAME);
  return name ? name : "";
}

std::string PgResult::ErrorMessage() const {
  if (!result_) return "no result from the server";
  if (PQresultStatus(result_.get()) == PGRES_PIPELINE_ABORTED) {
    return "statement skipped after an earlier error in the same pipeline";
  }
  return OneLine(PQresultErrorMessage(result_.get()));
}

// ---- PgConnection ----

Result<std::unique_ptr<PgConnection>> PgConnection::Connect(const std::string& conninfo) {
  // `conninfo` is expanded as the dbname keyword, so a URL or a keyword
  // string works and every setting it makes wins over the defaults before
  // it. connect_timeout bounds a connection attempt to an unreachable host;
  // the keepalives notice a peer that vanished without closing the socket.
  const char* keywords[] = {"connect_timeout", "application_name", "client_encoding",
                            "keepalives_idle", "keepalives_interval", "keepalives_count",
                            "dbname", nullptr};
  const char* values[] = {"3", "cmfd", "UTF8", "30", "10", "3", conninfo.c_str(), nullptr};
  PGconn* conn = PQconnectdbParams(keywords, values, /*expand_dbname=*/1);
  if (conn == nullptr) return Status::Unavailable("database unavailable: out of memory");
  if (PQstatus(conn) != CONNECTION_OK) {
    std::string message = OneLine(PQerrorMessage(conn));
    PQfinish(conn);
    return Status::Unavailable("database unavailable: " + message);
  }
  return std::unique_ptr<PgConnection>(new PgConnection(conn));
}

PgConnection::~PgConnection() { PQfinish(conn_); }

bool PgConnection::Broken() const {
  return PQstatus(conn_) != CONNECTION_OK || PQtransactionStatus(conn_) == PQTRANS_UNKNOWN;
}

const std::string* PgConnection::Prepared(std::string_view sql, int param_count,
                                          PgResult& error) {
  std::string text(sql);
  auto found = prepared_.find(text);
  if (found != prepared_.end()) return &found->second;

  std::string name = "s" + std::to_string(prepared_.size() + 1);
  PgResult prepared(PQprepare(conn_, name.c_str(), text.c_str(), param_count, nullptr));
  if (!prepared.ok()) {
    error = prepared;
    return nullptr;
  }
  auto inserted = prepared_.emplace(std::move(text), std::move(name));
  return &inserted.first->second;
}

namespace {

// The argument arrays of PQexecPrepared and PQsendQueryPrepared.
struct ParamArrays {
  explicit ParamArrays(const Params& params) {
    values.reserve(params.size());
    for (const Param& param : params) values.push_back(param ? param->c_str() : nullptr);
  }
  std::vector<const char*> values;
};

}  // namespace

PgResult PgConnection::Exec(std::string_view sql, const Params& params) {
  PgResult error;
  const std::string* name = Prepared(sql, static_cast<int>(params.size()), error);
  if (name == nullptr) return error;
  ParamArrays arrays(params);
  return PgResult(PQexecPrepared(conn_, name->c_str(), static_cast<int>(params.size()),
                                 arrays.values.data(), nullptr, nullptr, 0));
}

PgResult PgConnection::ExecSimple(const char* sql) { return PgResult(PQexec(conn_, sql)); }

std::vector<PgResult> PgConnection::Pipeline(const std::vector<PipelineStep>& steps) {
  std::vector<PgResult> results(steps.size());

  // Preparing happens outside the pipeline: it is a one-time cost per
  // connection and keeps the pipeline to plain executions.
  std::vector<const std::string*> names;
  for (const PipelineStep& step : steps) {
    PgResult error;
    const std::string* name = Prepared(step.sql, static_cast<int>(step.params.size()), error);
    if (name == nullptr) {
      for (PgResult& result : results) result = error;
      return results;
    }
    names.push_back(name);
  }

  auto fail_all = [&](std::size_t from) {
    for (std::size_t i = from; i < results.size(); ++i) {
      results[i] = PgResult(PQmakeEmptyPGresult(conn_, PGRES_FATAL_ERROR));
    }
  };

  if (PQenterPipelineMode(conn_) != 1) {
    fail_all(0);
    return results;
  }

  // Send everything, with a sync point wherever a step asks for one and at
  // the end.
  bool sent = true;
  for (std::size_t i = 0; i < steps.size() && sent; ++i) {
    ParamArrays arrays(steps[i].params);
    sent = PQsendQueryPrepared(conn_, names[i]->c_str(), static_cast<int>(steps[i].params.size()),
                               arrays.values.data(), nullptr, nullptr, 0) == 1;
    bool last = i + 1 == steps.size();
    if (sent && (steps[i].sync_after || last)) sent = PQpipelineSync(conn_) == 1;
  }
  if (!sent) {
    fail_all(0);
    PQexitPipelineMode(conn_);
    return results;
  }

  // Collect: each statement yields its result followed by a null, and each
  // sync point yields a PGRES_PIPELINE_SYNC result.
  for (std::size_t i = 0; i < steps.size(); ++i) {
    PGresult* first = PQgetResult(conn_);
    if (first == nullptr) {
      fail_all(i);
      break;
    }
    results[i] = PgResult(first);
    while (PGresult* extra = PQgetResult(conn_)) PQclear(extra);
    if (Broken()) {
      fail_all(i + 1);
      break;
    }

    bool last = i + 1 == steps.size();
    if (steps[i].sync_after || last) {
      PgResult sync(PQgetResult(conn_));
      if (!sync.get() || PQresultStatus(sync.get()) != PGRES_PIPELINE_SYNC) {
        fail_all(i + 1);
        break;
      }
    }
  }

  PQexitPipelineMode(conn_);
  return results;
}

// ---- helpers ----

Status ErrorStatus(const PgResult& result, bool connection_lost, std::string_view what) {
  std::string message = result.ErrorMessage();
  if (connection_lost) {
    spdlog::warn("database connection lost during {}: {}", what, message);
    return Status::Unavailable("database unavailable: " + message);
  }
  spdlog::error("database error during {} (SQLSTATE {}): {}", what, result.SqlState(), message);
  return Status::Internal("database error during " + std::string(what) + ": " + message);
}

std::string QuoteLiteral(std::string_view text) {
  std::string quoted = "'";
  for (char c : text) {
    if (c == '\'') quoted += '\'';
    quoted += c;
  }
  quoted += '\'';
  return quoted;
}

std::string IntArrayLiteral(const std::vector<std::int64_t>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    literal += std::to_string(values[i]);
  }
  literal += '}';
  return literal;
}

std::string TextArrayLiteral(const std::vector<std::string>& values) {
  std::string literal = "{";
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) literal += ',';
    literal += '"';
    for (char c : values[i]) {
      if (c == '"' || c == '\\') literal += '\\';
      literal += c;
    }
    literal += '"';
  }
  literal += '}';
  return literal;
}

}  // namespace cmfd::pg
