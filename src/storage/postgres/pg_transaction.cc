#include "storage/postgres/pg_transaction.h"

#include <spdlog/spdlog.h>

#include <string>

namespace cmfd::pg {

namespace {

// Steps 1 and 2 of the protocol in pg_transaction.h: register the start
// second, then read the date. They run as two statements so that the second
// clock reading happens after the lock is visible to readers.
const std::string& RegisterWriterSql() {
  static const std::string sql =
      "SELECT pg_advisory_xact_lock_shared(" + std::to_string(kWriteClockLock) +
      ", (floor(extract(epoch FROM clock_timestamp()))::bigint - " +
      std::to_string(kWriteClockOffset) + ")::integer)";
  return sql;
}
constexpr const char* kWriteDateSql =
    "SELECT floor(extract(epoch FROM clock_timestamp()))::bigint";

// Steps 3 to 5: now() is the start of this statement's own transaction and
// precedes the pg_locks read; least() ignores the null of "no writers".
const std::string& TimestampSql() {
  static const std::string sql =
      "SELECT least(floor(extract(epoch FROM now()))::bigint,"
      " (SELECT min(objid::bigint) + " + std::to_string(kWriteClockOffset) +
      " FROM pg_locks WHERE locktype = 'advisory' AND classid = " +
      std::to_string(kWriteClockLock) +
      " AND objsubid = 2"
      " AND database = (SELECT oid FROM pg_database WHERE datname = current_database())))"
      " - 1";
  return sql;
}

constexpr const char* kBeginWriteSql = "BEGIN ISOLATION LEVEL READ COMMITTED";
constexpr const char* kBeginReadSql = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY";
constexpr const char* kCommitSql = "COMMIT";

// Leaves the connection outside any transaction, so that it can go back to
// the pool. A failed rollback breaks the connection, which the pool drops.
void EndTransaction(PgConnection& conn) {
  if (PQtransactionStatus(conn.raw()) != PQTRANS_IDLE && !conn.Broken()) {
    conn.ExecSimple("ROLLBACK");
  }
}

bool IsRetryableState(const std::string& state) {
  return state == "40001" || state == "40P01";  // serialization failure, deadlock
}

}  // namespace

Status WriteTx::Error(const PgResult& result, std::string_view what,
                      std::string_view retry_on_unique) {
  std::string state = result.SqlState();
  if (IsRetryableState(state) ||
      (state == "23505" && !retry_on_unique.empty() &&
       (retry_on_unique == "*" || result.Constraint() == retry_on_unique))) {
    retry_ = true;
    spdlog::debug("database transaction for {} conflicted (SQLSTATE {}); retrying", what, state);
    return Status::Unavailable("database unavailable: the transaction for " + std::string(what) +
                               " kept conflicting with concurrent ones");
  }
  return ErrorStatus(result, conn_.Broken(), what);
}

Status WriteTx::Pipeline(const std::vector<PipelineStep>& steps, std::string_view what,
                         std::vector<PgResult>* results, std::string_view retry_on_unique) {
  std::vector<PgResult> all = conn_.Pipeline(steps);
  for (const PgResult& result : all) {
    if (!result.ok()) {
      Status status = Error(result, what, retry_on_unique);
      if (results != nullptr) *results = std::move(all);
      return status;
    }
  }
  if (results != nullptr) *results = std::move(all);
  return Status::Ok();
}

Status TxRunner::Write(std::string_view what, const std::function<Status(WriteTx&)>& work) {
  int reconnects = 0;
  Status last;
  for (int attempt = 1; attempt <= kMaxWriteAttempts; ++attempt) {
    Result<PgLease> lease = pool_.Acquire();
    if (!lease.ok()) return lease.status();
    PgConnection& conn = *lease.value();

    std::vector<PgResult> begun = conn.Pipeline({{kBeginWriteSql, {}},
                                                 {RegisterWriterSql(), {}},
                                                 {kWriteDateSql, {}}});
    for (const PgResult& result : begun) {
      if (result.ok()) continue;
      // A pooled connection that the server closed while it was idle shows
      // up here; nothing was written, so a retry on another one is safe.
      if (conn.Broken() && reconnects < MaxReconnects()) {
        spdlog::warn("database connection lost while idle ({}); reconnecting",
                     result.ErrorMessage());
        lease.value().Discard();
        ++reconnects;
        break;
      }
      Status status = ErrorStatus(result, conn.Broken(), what);
      EndTransaction(conn);
      return status;
    }
    if (!begun.back().ok()) {
      // A reconnect is not a conflict and does not use up an attempt.
      --attempt;
      continue;
    }

    WriteTx tx(conn);
    tx.now_ = begun.back().Int(0, 0);
    Status status = work(tx);
    if (status.ok()) {
      PgResult committed = conn.ExecSimple(kCommitSql);
      if (committed.ok()) return status;
      if (conn.Broken()) {
        // The server may or may not have committed before the connection
        // went away; the client must check.
        return ErrorStatus(committed, true, what);
      }
      status = tx.Error(committed, what);
    }

    EndTransaction(conn);
    if (!tx.retry()) return status;
    last = status;
  }
  spdlog::warn("database transaction for {} still conflicted after {} attempts", what,
               kMaxWriteAttempts);
  return last;
}

Result<ReadResult> TxRunner::RunRead(std::string_view what,
                                     const std::vector<PipelineStep>& steps,
                                     bool with_timestamp) {
  // The timestamp statement ends its own implicit transaction (sync) before
  // the data statements take their snapshot.
  std::vector<PipelineStep> all;
  if (with_timestamp) all.push_back({TimestampSql(), {}, /*sync_after=*/true});
  bool wrapped = steps.size() > 1;
  if (wrapped) all.push_back({kBeginReadSql, {}});
  all.insert(all.end(), steps.begin(), steps.end());
  if (wrapped) all.push_back({kCommitSql, {}});

  for (int attempt = 0; attempt <= MaxReconnects(); ++attempt) {
    Result<PgLease> lease = pool_.Acquire();
    if (!lease.ok()) return lease.status();
    PgConnection& conn = *lease.value();

    std::vector<PgResult> results = conn.Pipeline(all);
    const PgResult* failed = nullptr;
    for (const PgResult& result : results) {
      if (!result.ok()) {
        failed = &result;
        break;
      }
    }
    if (failed == nullptr) {
      ReadResult read;
      std::size_t first = with_timestamp ? 1 : 0;
      if (with_timestamp) read.timestamp = results[0].Int(0, 0);
      if (wrapped) ++first;
      read.results.assign(results.begin() + first, results.begin() + first + steps.size());
      return read;
    }

    // Reads change nothing, so a read on a connection that turned out dead
    // is repeated on another one.
    if (conn.Broken() && attempt < MaxReconnects()) {
      spdlog::warn("database connection lost ({}); reconnecting", failed->ErrorMessage());
      lease.value().Discard();
      continue;
    }
    Status status = ErrorStatus(*failed, conn.Broken(), what);
    EndTransaction(conn);
    return status;
  }
  return Status::Unavailable("database unavailable: connection lost " +
                             std::to_string(MaxReconnects() + 1) + " times during " +
                             std::string(what));
}

Result<ReadResult> TxRunner::Read(std::string_view what, const std::vector<PipelineStep>& steps) {
  return RunRead(what, steps, true);
}

Result<std::int64_t> TxRunner::Timestamp(std::string_view what) {
  Result<ReadResult> read = RunRead(what, {}, true);
  if (!read.ok()) return read.status();
  return read->timestamp;
}

Result<std::vector<PgResult>> TxRunner::ReadWithoutTimestamp(
    std::string_view what, const std::vector<PipelineStep>& steps) {
  Result<ReadResult> read = RunRead(what, steps, false);
  if (!read.ok()) return read.status();
  return std::move(read->results);
}

}  // namespace cmfd::pg
