// PgStore: the class behind OpenPostgresStore, shared by the .cc files of
// this folder (one per resource). Not for use outside src/storage/postgres.
//
// Concurrency. Every Store method is one transaction on a pooled connection
// (pg_pool.h). Writes run in READ COMMITTED and lock what their rules read
// (SELECT ... FOR UPDATE / FOR SHARE) before writing, so that the rules hold
// against concurrent requests from any process; unique indexes enforce
// uniqueness, and deadlocks and serialization failures are retried
// (pg_transaction.h). Reads run in one snapshot, in one network round trip,
// after the sync timestamp has been computed (pg_transaction.h explains why
// the order matters).
//
// Callbacks. `modify` runs inside the write transaction and may run more
// than once when the transaction is retried. `row` runs after the rows have
// arrived, outside any transaction.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "storage/postgres/pg_connection.h"
#include "storage/postgres/pg_pool.h"
#include "storage/postgres/pg_transaction.h"
#include "storage/store.h"

// Returns the Status of `expr` from the enclosing function unless it is ok.
#define CMFD_PG_TRY(expr)                   \
  do {                                      \
    ::cmfd::Status cmfd_pg_status_ = (expr); \
    if (!cmfd_pg_status_.ok()) return cmfd_pg_status_; \
  } while (0)

namespace cmfd::pg {

class PgStore final : public Store {
 public:
  PgStore(std::string conninfo, StoreOptions options);
  ~PgStore() override;

  // Resolves the customer schema, connects and migrates the schema.
  Status Initialize();

  bool CallsMayBlock() const override { return true; }
  Status Ping() override;

  Result<Customer> CreateCustomer(const Customer& customer) override;
  Result<Customer> UpdateCustomer(std::int64_t id,
                                  const std::function<Status(Customer&)>& modify) override;
  Result<Customer> GetCustomer(std::int64_t id, bool include_activities) override;
  Status DeleteCustomer(std::int64_t id) override;
  Result<ListInfo> ListCustomers(const CustomerQuery& query,
                                 const std::function<void(const Customer&)>& row) override;
  Result<std::vector<std::int64_t>> ChangeCustomerSegments(
      std::int64_t customer_id, const std::vector<std::int64_t>& add,
      const std::vector<std::int64_t>& remove) override;

  Result<std::pair<Activity, bool>> CreateActivity(const Activity& activity,
                                                   const ActivityMerge& merge) override;
  Result<Activity> UpdateActivity(std::int64_t id,
                                  const std::function<Status(Activity&)>& modify) override;
  Result<Activity> GetActivity(std::int64_t id) override;
  Status DeleteActivity(std::int64_t id) override;
  Result<ListInfo> ListActivities(const ActivityQuery& query,
                                  const std::function<void(const Activity&)>& row) override;

  Result<std::int64_t> ScanDeletions(const DeletionQuery& query, DeletionCursor& cursor,
                                     std::int64_t limit, std::int64_t& timestamp,
                                     const std::function<void(const Deletion&)>& row) override;
  Result<ListInfo> ListDeletions(const DeletionQuery& query, const PageRequest& page,
                                 const std::function<void(const Deletion&)>& row) override;

  Result<SegmentGroup> CreateSegmentGroup(const SegmentGroupPatch& patch) override;
  Result<SegmentGroup> UpdateSegmentGroup(std::int64_t id, const SegmentGroupPatch& patch) override;
  Result<SegmentGroup> GetSegmentGroup(std::int64_t id) override;
  Status DeleteSegmentGroup(std::int64_t id) override;
  Result<ListInfo> ListSegmentGroups(const PageRequest& page,
                                     const std::function<void(const SegmentGroup&)>& row) override;

  Result<Segment> CreateSegment(const SegmentPatch& patch) override;
  Result<Segment> UpdateSegment(std::int64_t id, const SegmentPatch& patch) override;
  Result<Segment> GetSegment(std::int64_t id) override;
  Status DeleteSegment(std::int64_t id) override;
  Result<ListInfo> ListSegments(const SegmentQuery& query,
                                const std::function<void(const Segment&)>& row) override;

  Result<ApiKey> CreateApiKey(const std::string& name, const std::string& hash,
                              bool read_only) override;
  Result<std::vector<ApiKey>> ListApiKeys() override;
  Status RevokeApiKey(const std::string& name) override;
  Result<std::optional<ApiKey>> FindApiKey(const std::string& hash) override;

  Result<ImportCounts> Import(ImportBatch& batch) override;

  Status ExportAll(CopySink& sink) override;
  Result<std::unique_ptr<CopyTarget>> BeginCopy() override;

  const StoreOptions& options() const { return options_; }
  const std::vector<std::size_t>& unique_fields() const { return unique_fields_; }

 private:
  // One resolved field of the configured duplicate check.
  struct DuplicateField {
    enum class Kind { kText, kFlag, kExtra };
    std::string name;    // as configured, for the 409 message
    Kind kind = Kind::kText;
    std::string column;  // kText and kFlag: the customers column
    std::optional<std::string> Customer::*text = nullptr;
    bool Customer::*flag = nullptr;
    std::size_t extra_index = 0;
  };

  // ---- customers (pg_customers.cc) ----
  Status ResolveCustomerSchema();
  // Locks customer `id` (FOR NO KEY UPDATE, or FOR UPDATE when it is to be
  // deleted) and reads it after the lock, so that a concurrent write the
  // lock waited for is seen. Sets `found`.
  Status LockCustomer(WriteTx& tx, std::int64_t id, bool for_delete, Customer& customer,
                      bool& found);
  Status CheckCustomerRules(WriteTx& tx, const Customer& customer);
  Status StoreUniqueValues(WriteTx& tx, const Customer& customer, bool replace);
  // Sets `values` to what the duplicate check compares. Returns false when
  // no check is configured or one of its values is missing: it then does
  // not apply.
  bool DuplicateValues(const Customer& customer, Params& values) const;
  // The 409 messages of the duplicate check and of unique field `index`.
  std::string DuplicateMessage(std::int64_t other_id) const;
  std::string UniqueMessage(std::size_t index, const std::string& value,
                            std::int64_t other_id) const;

  // ---- bulk import (pg_import*.cc) ----
  // Each writes its rows of an Import batch inside `tx`, rejecting rows as
  // the single-record method would, and fills in ids and dates of the rows
  // written. A non-ok Status is a database fault (or a retry, see WriteTx).
  Status ImportCustomers(WriteTx& tx, std::vector<Customer>& customers, ImportCounts& counts);
  Status ImportActivities(WriteTx& tx, std::vector<Activity>& activities, ImportCounts& counts);
  Status ImportAssignments(WriteTx& tx, const std::vector<SegmentAssignment>& assignments,
                           ImportCounts& counts);

  StoreOptions options_;
  PgPool pool_;
  TxRunner runner_;

  // The indexes into options_.customer.fields of the unique extra fields.
  std::vector<std::size_t> unique_fields_;
  std::vector<DuplicateField> duplicate_fields_;
  std::string duplicate_sql_;       // empty when no duplicate check is configured
  std::string duplicate_lock_sql_;  // serializes checks of equal values
  // The duplicate check of a whole batch (pg_import_customers.cc), with one
  // text array parameter per field of the check and one element per
  // customer. The lock statement takes the locks of duplicate_lock_sql_ for
  // every customer. The check returns a row per customer: its 1-based
  // position, the values in compared form and the first matching stored
  // customer (null when none).
  std::string duplicate_batch_lock_sql_;
  std::string duplicate_batch_sql_;
};

// ---- helpers shared by the .cc files of this folder ----

// The OFFSET of a page, or nullopt when it lies beyond any possible row.
// Invalid for a page or page size below 1.
Result<std::optional<std::int64_t>> PageOffset(const PageRequest& page);

// The standard 404 message, e.g. "Customer with ID 7 was not found".
Status NotFoundStatus(const char* entity, std::int64_t id);

// The unique index of customer_unique, and the index that makes a_id unique
// per customer and type. A violation of either by a concurrent transaction
// is retried, so that the check before the write reports it properly.
inline constexpr const char* kUniqueIndex = "customer_unique_pkey";
inline constexpr const char* kExternalIdIndex = "activities_a_id";

// A random 128-bit token for Customer::id_encoded, as 32 hex digits.
std::string NewIdEncoded();

// Pads `customer.extra` with nulls to one value per configured field.
// Internal error for more values than fields.
Status NormalizeExtra(const std::vector<CustomField>& fields, Customer& customer);

// Invalid when a text value of the customer or activity cannot be stored.
Status CheckCustomerText(const Customer& customer);
Status CheckActivityText(const Activity& activity);

// Invalid "customer with ID 7 was not found", for an activity.
Status UnknownCustomerStatus(std::int64_t customer_id);

// Invalid "unknown segment IDs: 4, 9", in the order given.
Status UnknownSegmentsStatus(const std::vector<std::int64_t>& unknown);

// Takes `count` new ids from the identity sequence of `table` (customers or
// activities) into `ids`, ascending, for rows that a bulk write inserts with
// explicit ids.
Status ReserveIds(WriteTx& tx, const char* table, std::size_t count,
                  std::vector<std::int64_t>& ids);

// Text form of parameters.
inline Param IntParam(std::int64_t value) { return std::to_string(value); }
inline Param OptionalIntParam(const std::optional<std::int64_t>& value) {
  return value ? Param(std::to_string(*value)) : Param();
}
inline Param BoolParam(bool value) { return std::string(value ? "true" : "false"); }

}  // namespace cmfd::pg
