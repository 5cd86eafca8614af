// Store::Import for the PostgreSQL store: a whole batch in one write
// transaction, with a fixed number of statements per batch instead of
// several per row.
//
// Each part of the batch (customers, then activities, then assignments)
// follows the same plan, in pg_import_customers.cc and
// pg_import_activities.cc:
//   1. one or two statements read, and lock as the single-record method
//      locks them, the stored rows that the part's rules depend on;
//   2. the rules are applied in memory, row by row in batch order, against
//      those stored rows and the rows of the batch accepted before. Each row
//      thus gets the outcome that CreateCustomer, CreateActivity or
//      ChangeCustomerSegments would have given it in that position;
//   3. the accepted rows are written with COPY (new rows, with ids taken
//      from the identity sequence in batch order) or one statement each
//      for the rarer updates, all pipelined.
// A rejected row therefore never reaches the database, and the batch needs
// no savepoints. A concurrent write that slips in between a check and the
// write (a unique value, an a_id) violates a unique index. The whole batch is
// then retried, so the retry reports the row as the check does.
#include <algorithm>
#include <utility>

#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

Status ReserveIds(WriteTx& tx, const char* table, std::size_t count,
                  std::vector<std::int64_t>& ids) {
  ids.clear();
  if (count == 0) return Status::Ok();
  // nextval() runs once per generated row; the sequence is looked up once.
  PgResult reserved = tx.Exec(
      "SELECT nextval(seq.name) FROM (SELECT pg_get_serial_sequence($1::text, 'id')::regclass"
      " AS name) AS seq, generate_series(1, $2::bigint) ORDER BY 1",
      {std::string(table), IntParam(static_cast<std::int64_t>(count))});
  if (!reserved.ok()) return tx.Error(reserved, "import id reservation");
  ids.reserve(count);
  for (int i = 0; i < reserved.rows(); ++i) ids.push_back(reserved.Int(i, 0));
  if (ids.size() != count) {
    return Status::Internal("the " + std::string(table) + " sequence returned " +
                            std::to_string(ids.size()) + " ids instead of " +
                            std::to_string(count));
  }
  return Status::Ok();
}

Result<ImportCounts> PgStore::Import(ImportBatch& batch) {
  ImportCounts counts;
  // Rows get their ids and dates in this copy, which replaces `batch` only
  // once the transaction has committed: after a database fault, `batch`
  // shows nothing that is not stored. A retried attempt starts again from
  // `batch`.
  ImportBatch written;
  Status status = runner_.Write("import", [&](WriteTx& tx) -> Status {
    counts = ImportCounts();
    written = batch;
    CMFD_PG_TRY(ImportCustomers(tx, written.customers, counts));
    CMFD_PG_TRY(ImportActivities(tx, written.activities, counts));
    return ImportAssignments(tx, written.assignments, counts);
  });
  if (!status.ok()) return status;
  batch = std::move(written);
  return counts;
}

}  // namespace cmfd::pg
