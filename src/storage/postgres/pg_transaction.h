// Transactions of the PostgreSQL store, and how they keep the sync guarantee
// of store.h across any number of cmfd processes on one database.
//
// Write transactions (READ COMMITTED, explicit row locks) and read snapshots
// follow one protocol:
//
//   Writer W, at its start:
//     1. takes a shared advisory lock (kWriteClockLock, r), where r is the
//        current second, read from the database clock before the lock;
//     2. then reads the database clock again: D = floor(clock_timestamp()).
//     Every date W writes (modification_date, creation_date, deletions'
//     creation_date) is D. The lock is held until W commits or rolls back.
//     r <= D, because the clock is read for r first.
//   Reader, before its snapshot, in one statement of its own:
//     3. reads t0 = floor(now()), the start of that statement's transaction;
//     4. then reads L = the smallest r among the kWriteClockLock locks in
//        pg_locks (the writers in progress);
//     5. T = min(t0, L) - 1, and only then takes the snapshot for its data.
//
// Claim: a row version the reader's snapshot does not show has a date of at
// least T + 1. Its writer W committed after the snapshot or not yet, so W was
// still in progress at step 4 if it had taken its lock by then.
//   - W's lock was taken before step 4: then L <= r <= D, so D >= T + 1.
//   - W's lock was taken after step 4: W read D after taking the lock, so
//     after steps 4 and 3, and D >= t0 >= T + 1.
// Rows committed between step 4 and the snapshot are seen and need nothing.
// Reads that span several snapshots (ScanDeletions) compute T once, before
// the first snapshot; every later snapshot only sees more.
//
// The argument assumes that the database server's clock does not step
// backwards, and that every writer of cmfd's tables follows the protocol
// (another program writing to them directly is not covered).
#pragma once

#include <cstdint>
#include <functional>
#include <string_view>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_pool.h"
#include "util/status.h"

namespace cmfd::pg {

// First keys of cmfd's advisory locks ("cmf" and a digit, as int4). The
// database holds them only for cmfd, so other applications sharing the
// cluster would have to avoid these values.
constexpr int kWriteClockLock = 0x636d6600;
constexpr int kMigrationLock = 0x636d6601;
constexpr int kDuplicateCheckLock = 0x636d6602;

// The second key of a writer's kWriteClockLock is its start second minus
// this offset, so that it fits an int4 until the year 2084.
constexpr std::int64_t kWriteClockOffset = 1500000000;

// A write transaction in progress.
class WriteTx {
 public:
  explicit WriteTx(PgConnection& conn) : conn_(conn) {}

  // The date of every row this transaction writes (D above).
  std::int64_t now() const { return now_; }

  PgResult Exec(std::string_view sql, const Params& params = {}) {
    return conn_.Exec(sql, params);
  }

  // Runs `steps` inside this transaction in one round trip (no sync points
  // are needed: the transaction is explicit). On the first failed step,
  // returns its Status as Error() would and leaves `results` with every
  // result.
  Status Pipeline(const std::vector<PipelineStep>& steps, std::string_view what,
                  std::vector<PgResult>* results = nullptr,
                  std::string_view retry_on_unique = {});

  // The Status for a failed statement. A serialization failure or deadlock
  // marks the transaction for a retry, and so does a violation of a unique
  // index named in `retry_on_unique`, or of any unique index for "*" (a
  // concurrent insert that a re-run reports properly).
  Status Error(const PgResult& result, std::string_view what,
               std::string_view retry_on_unique = {});

  bool retry() const { return retry_; }
  PgConnection& connection() { return conn_; }

 private:
  friend class TxRunner;

  PgConnection& conn_;
  std::int64_t now_ = 0;
  bool retry_ = false;
};

// Result of a read: the sync timestamp and one result per statement.
struct ReadResult {
  std::int64_t timestamp = 0;
  std::vector<PgResult> results;
};

// Runs transactions on connections of a pool.
class TxRunner {
 public:
  static constexpr int kMaxWriteAttempts = 10;

  explicit TxRunner(PgPool& pool) : pool_(pool) {}

  // Runs `work` in a write transaction and commits it when `work` returns
  // ok. `work` may run more than once (after a deadlock, a serialization
  // failure or a connection found dead at the start), so it must not have
  // effects outside the transaction other than setting its outputs.
  Status Write(std::string_view what, const std::function<Status(WriteTx&)>& work);

  // Computes the sync timestamp, then runs `steps` in one snapshot (a
  // read-only REPEATABLE READ transaction when there are several), all in
  // one network round trip.
  Result<ReadResult> Read(std::string_view what, const std::vector<PipelineStep>& steps);

  // Computes only the sync timestamp.
  Result<std::int64_t> Timestamp(std::string_view what);

  // Runs `steps` without a timestamp: in one snapshot when there are several.
  Result<std::vector<PgResult>> ReadWithoutTimestamp(std::string_view what,
                                                     const std::vector<PipelineStep>& steps);

  PgPool& pool() { return pool_; }

 private:
  // How often one operation may replace a connection found dead before it
  // gives up. A lost lease closes the pool's older connections (pg_pool.h),
  // so one reconnect normally suffices; the bound of one per pooled
  // connection also covers connections leased by others at the time of the
  // loss and returned dead meanwhile. Failing to open a new connection ends
  // the operation at once with the connection error, which describes the
  // outage as it is now.
  int MaxReconnects() const { return pool_.size(); }

  Result<ReadResult> RunRead(std::string_view what, const std::vector<PipelineStep>& steps,
                             bool with_timestamp);

  PgPool& pool_;
};

}  // namespace cmfd::pg
