// Store::Import for the SQLite store: a whole batch in one write transaction.
#include <utility>

#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

// A rule broken by one row (as opposed to a database fault, which ends the
// import): the row is rolled back to its savepoint and reported.
bool IsRowRejection(const Status& status) {
  return status.code() == Code::kInvalid || status.code() == Code::kNotFound ||
         status.code() == Code::kConflict;
}

// Runs `row` inside a savepoint, so that a rejected row leaves nothing
// behind while the rows before it stay in the transaction. Returns the row's
// Status; a non-ok Status of the savepoint statements themselves is
// returned as a database fault instead.
template <typename Body>
Status RunRow(SqliteDb& db, Body row, bool& rejected) {
  rejected = false;
  CMFD_SQLITE_TRY(db.Run("SAVEPOINT import_row"));
  Status status = row();
  if (status.ok()) return db.Run("RELEASE import_row");
  if (!IsRowRejection(status)) return status;
  CMFD_SQLITE_TRY(db.Run("ROLLBACK TO import_row"));
  CMFD_SQLITE_TRY(db.Run("RELEASE import_row"));
  rejected = true;
  return status;
}

}  // namespace

Result<ImportCounts> SqliteStore::Import(ImportBatch& batch) {
  using Kind = ImportRejection::Kind;
  ImportCounts counts;
  // Rows get their ids and dates in this copy, which replaces `batch` only
  // once the transaction has committed: after a database fault, `batch`
  // shows nothing that is not stored.
  ImportBatch written = batch;

  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    bool rejected = false;

    for (std::size_t i = 0; i < written.customers.size(); ++i) {
      Customer& customer = written.customers[i];
      Status row = RunRow(txn.db, [&] { return InsertCustomer(txn, customer); }, rejected);
      if (rejected) {
        customer = batch.customers[i];  // undo the id and dates of the rolled-back row
        counts.rejected.push_back({Kind::kCustomer, i, std::move(row)});
        continue;
      }
      CMFD_SQLITE_TRY(row);
      ++counts.customers_created;
    }

    for (std::size_t i = 0; i < written.activities.size(); ++i) {
      Activity& activity = written.activities[i];
      bool created = false;
      Status row =
          RunRow(txn.db, [&] { return StoreActivity(txn, activity, created); }, rejected);
      if (rejected) {
        activity = batch.activities[i];
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

    for (std::size_t i = 0; i < written.assignments.size(); ++i) {
      const SegmentAssignment& assignment = written.assignments[i];
      std::vector<std::int64_t> segments;
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
  batch = std::move(written);
  return counts;
}

}  // namespace cmfd
