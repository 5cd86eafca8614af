// Store::Import for the SQLite store: a whole batch in one write transaction.
// PrepareImport and FinishImport bracket a bulk load. They give the writer a
// large page cache, and into empty tables they defer indexes and counting
// triggers to one rebuild at the end. DeferImportIndexes (sqlite_schema.cc)
// explains why the database stays correct whatever happens in between.
#include <algorithm>
#include <string>
#include <utility>

#include "storage/sqlite/sqlite_schema.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

// The writer's page cache during a bulk load, allocated by SQLite as pages
// are used. Every index page that stays cached saves a read and a write, and
// CREATE INDEX sorts this much in memory before it spills to temporary files.
constexpr std::int64_t kImportCacheKib = 1 << 20;

// Helper threads that SQLite may use to sort the keys of the indexes rebuilt
// by FinishImport. The parsing thread is idle by then, so its core is free.
constexpr int kImportSortThreads = 2;

// A rule broken by one row (as opposed to a database fault, which ends the
// import): the row is left out and reported.
bool IsRowRejection(const Status& status) {
  return status.code() == Code::kInvalid || status.code() == Code::kNotFound ||
         status.code() == Code::kConflict;
}

// Runs the body of one row and returns its Status; sets `rejected` when the
// row broke a rule.
//
// The write bodies (InsertCustomer, StoreActivity, ChangeSegmentsOf) check
// every rule a row can break before they write anything, so a rejected row
// has nothing to undo and needs no savepoint, which saves two statements per
// row. A body that rejects a row after writing is a database fault: its
// writes cannot be undone alone, so the whole batch rolls back.
template <typename Body>
Status RunRow(SqliteDb& db, Body row, bool& rejected) {
  rejected = false;
  const sqlite3_int64 changes_before = sqlite3_total_changes64(db.handle());
  Status status = row();
  if (status.ok() || !IsRowRejection(status)) return status;
  if (sqlite3_total_changes64(db.handle()) != changes_before) {
    return Status::Internal("an import row was rejected after it had written: " +
                            status.message());
  }
  rejected = true;
  return status;
}

}  // namespace

// Rows get their ids and dates in place. After a database error the
// transaction is rolled back, but the rows of `batch` may still carry ids and
// dates that were never stored. The caller drops such a batch.
Result<ImportCounts> SqliteStore::Import(ImportBatch& batch) {
  using Kind = ImportRejection::Kind;
  ImportCounts counts;

  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    bool rejected = false;

    for (std::size_t i = 0; i < batch.customers.size(); ++i) {
      Customer& customer = batch.customers[i];
      const bool had_token = !customer.id_encoded.empty();
      Status row = RunRow(txn.db, [&] { return InsertCustomer(txn, customer); }, rejected);
      if (rejected) {
        if (!had_token) customer.id_encoded.clear();  // the token of a customer never stored
        counts.rejected.push_back({Kind::kCustomer, i, std::move(row)});
        continue;
      }
      CMFD_SQLITE_TRY(row);
      ++counts.customers_created;
    }

    for (std::size_t i = 0; i < batch.activities.size(); ++i) {
      Activity& activity = batch.activities[i];
      bool created = false;
      Status row =
          RunRow(txn.db, [&] { return StoreActivity(txn, activity, created); }, rejected);
      if (rejected) {
        counts.rejected.push_back({Kind::kActivity, i, std::move(row)});
        continue;
      }
      CMFD_SQLITE_TRY(row);
      if (created) {
        ++counts.activities_created;
      } else {
        ++counts.activities_updated;
      }
    }

    std::vector<std::int64_t> segments;
    for (std::size_t i = 0; i < batch.assignments.size(); ++i) {
      const SegmentAssignment& assignment = batch.assignments[i];
      Status row = RunRow(
          txn.db,
          [&] {
            return ChangeSegmentsOf(txn, assignment.customer_id, assignment.add,
                                    assignment.remove, segments);
          },
          rejected);
      if (rejected) {
        counts.rejected.push_back({Kind::kAssignment, i, std::move(row)});
        continue;
      }
      CMFD_SQLITE_TRY(row);
      ++counts.assignments_applied;
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return counts;
}

Status SqliteStore::PrepareImport() {
  {
    std::lock_guard<std::mutex> lock(write_mutex_);
    // PRAGMA takes no parameters; the values are our constants.
    const std::string settings = "PRAGMA cache_size = -" + std::to_string(kImportCacheKib) +
                                 "; PRAGMA temp_store = MEMORY; PRAGMA threads = " +
                                 std::to_string(kImportSortThreads);
    CMFD_SQLITE_TRY(writer_->Exec(settings.c_str()));
  }
  // The duplicate check is the only import look-up that reads an index that
  // DeferImportIndexes would drop. Without it, each customer would scan the table.
  const bool keep_email_index =
      std::any_of(duplicate_fields_.begin(), duplicate_fields_.end(),
                  [](const DuplicateField& field) { return field.name == "email"; });
  bool deferred = false;
  return RunWrite([&](WriteTransaction& txn) -> Status {
    return DeferImportIndexes(txn.db, keep_email_index, deferred);
  });
}

Status SqliteStore::FinishImport() {
  Status status = RunWrite(
      [&](WriteTransaction& txn) -> Status { return RestoreImportIndexes(txn.db); });

  // Back to the settings of a store that serves requests.
  std::lock_guard<std::mutex> lock(write_mutex_);
  const std::string settings = "PRAGMA cache_size = -" +
                               std::to_string(sqlite_.writer_cache_kib) +
                               "; PRAGMA temp_store = DEFAULT; PRAGMA threads = 0";
  Status reset = writer_->Exec(settings.c_str());
  return status.ok() ? reset : status;
}

}  // namespace cmfd
