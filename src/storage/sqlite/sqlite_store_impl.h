// SqliteStore: the class behind OpenSqliteStore, shared by the .cc files of
// this folder (one per resource). Not for use outside src/storage/sqlite.
//
// Concurrency. Reads lease a connection from a pool (one thread uses a
// connection at a time) and run in one read transaction when they issue more
// than one statement, so a page, its total and its timestamp come from one
// snapshot. Writes go through RunWrite, which runs concurrent writes in one
// transaction on the one writer connection, each in its own savepoint, and
// commits them together (group commit, sqlite_writes.cc). WAL mode lets
// readers and the writer run at the same time.
//
// Callbacks (`modify`, `row`) run inside the transaction, and a write's
// `modify` may run on the thread of another write of its group. They must
// not call this store's write methods: the write lock is not recursive.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "storage/sqlite/group_commit.h"
#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_page_cache.h"
#include "storage/sqlite/sqlite_rows.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/sqlite/sync_clock.h"
#include "storage/store.h"

namespace cmfd {

class SqliteStore final : public Store {
 public:
  SqliteStore(std::string path, StoreOptions options, SqliteOptions sqlite);
  ~SqliteStore() override;

  // Opens the writer connection, switches the file to WAL and migrates it.
  Status Initialize();

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

  // One write transaction for the whole batch (sqlite_import.cc).
  Result<ImportCounts> Import(ImportBatch& batch) override;
  // A larger page cache for the writer and, into empty tables, indexes and
  // counting triggers deferred to FinishImport (sqlite_import.cc).
  Status PrepareImport() override;
  Status FinishImport() override;

  // ---- copying a whole database (sqlite_copy.cc) ----
  Status ExportAll(CopySink& sink) override;
  Result<std::unique_ptr<CopyTarget>> BeginCopy() override;

 private:
  // A reader connection lent from the pool to one read. The destructor rolls
  // back a transaction that an error left open and returns the connection to
  // the pool, or closes it when the rollback fails.
  class Reader {
   public:
    Reader() = default;
    Reader(SqliteStore* store, std::unique_ptr<SqliteDb> db)
        : store_(store), db_(std::move(db)) {}
    Reader(Reader&& other) noexcept = default;
    Reader& operator=(Reader&& other) noexcept = default;
    ~Reader();

    SqliteDb& db() { return *db_; }
    Status Begin();   // BEGIN: the snapshot is taken by the first SELECT after it
    Status Commit();

   private:
    SqliteStore* store_ = nullptr;
    std::unique_ptr<SqliteDb> db_;
  };

  // The context of a write transaction body: the writer connection and the
  // one time (epoch seconds) that every date written in it carries.
  struct WriteTransaction {
    SqliteDb& db;
    std::int64_t now;
    // Work to run after the transaction has committed, in order, still under
    // the write lock. Dropped when the body fails or the commit does.
    std::vector<std::function<void()>>* after_commit;
  };
  using WriteBody = std::function<Status(WriteTransaction&)>;
  using WriteQueue = GroupCommitQueue<const WriteBody*>;

  // One resolved field of the configured duplicate check.
  struct DuplicateField {
    enum class Kind { kText, kFlag, kExtra };
    std::string name;  // as configured, for the 409 message
    Kind kind = Kind::kText;
    std::optional<std::string> Customer::*text = nullptr;
    bool Customer::*flag = nullptr;
    std::size_t extra_index = 0;
  };

  // ---- connections and transactions (sqlite_store.cc) ----
  Result<Reader> LeaseReader();
  void ReturnReader(std::unique_ptr<SqliteDb> db);

  // Runs `body` in a write transaction and returns its Status once that
  // transaction has ended: ok only after the COMMIT succeeded. Concurrent
  // calls share one transaction (sqlite_writes.cc); a body that fails is
  // rolled back to its savepoint and changes nothing. An exception thrown by
  // `body` is rethrown here after the rollback.
  Status RunWrite(const WriteBody& body);
  // As RunWrite, alone in its transaction, for a caller that already holds
  // write_mutex_.
  Status RunWriteLocked(const WriteBody& body);
  // Runs a group of queued writes in one transaction; the caller holds
  // write_mutex_. Returns how many members, from the front, it finished.
  std::size_t RunGroupLocked(std::span<WriteQueue::Member*> group);

  // ---- write bodies, shared by the single-record methods and Import ----
  // Each does the work of its public method inside `txn`. A body that fails
  // may have written part of its rows, so the caller rolls back the
  // transaction or a savepoint taken before it.
  Status InsertCustomer(WriteTransaction& txn, Customer& customer);
  Status StoreActivity(WriteTransaction& txn, Activity& activity, bool& created,
                       const ActivityMerge& merge = {});
  Status ChangeSegmentsOf(WriteTransaction& txn, std::int64_t customer_id,
                          const std::vector<std::int64_t>& add,
                          const std::vector<std::int64_t>& remove,
                          std::vector<std::int64_t>& result);

  // ---- customers (sqlite_customers.cc, sqlite_customer_list.cc) ----
  Status ResolveCustomerSchema();
  // The plan of a customer list query: its tables, order and filters.
  struct CustomerListPlan {
    SqlFilter filter;
    std::string from = " FROM customers c";  // the tables, `c` the customers
    const char* order = "c.id";             // the list order, equal to c.id
    const char* seek = "c.id > ?";          // the rows after a key of that order
    bool only_modified_after = false;       // a date range is the only filter
    bool only_one_segment = false;          // one segment is the only filter
    std::int64_t segment = 0;               // the segment that drives the list, if any
  };
  // Turns the filters of `query` into a plan.
  Status PlanCustomerList(const CustomerQuery& query, CustomerListPlan& plan) const;
  Status LoadCustomer(SqliteDb& db, std::int64_t id, Customer& customer, bool& found);
  Status CheckCustomerRules(SqliteDb& db, const Customer& customer);
  Status StoreUniqueValues(SqliteDb& db, const Customer& customer, bool replace);

  std::string path_;
  StoreOptions options_;
  SqliteOptions sqlite_;
  SyncClock clock_;

  // The indexes into options_.customer.fields of the unique extra fields.
  std::vector<std::size_t> unique_fields_;
  std::vector<DuplicateField> duplicate_fields_;
  std::string duplicate_sql_;  // empty when no duplicate check is configured

  // Bounds a group's transaction; the HTTP workers bound it further.
  static constexpr std::size_t kMaxWriteGroup = 256;
  WriteQueue write_queue_{kMaxWriteGroup};
  std::mutex write_mutex_;
  std::unique_ptr<SqliteDb> writer_;  // guarded by write_mutex_

  // Page boundaries and filtered totals of the lists, versioned by the
  // change counters of the database (sqlite_page_cache.h).
  PageCache page_cache_;

  std::mutex readers_mutex_;
  std::vector<std::unique_ptr<SqliteDb>> idle_readers_;  // guarded by readers_mutex_
  std::size_t max_idle_readers_ = 16;
};

// ---- helpers shared by the .cc files of this folder ----

// The OFFSET of a page, or nullopt when it lies beyond any possible row
// (the product overflows). Invalid for a page or page size below 1.
Result<std::optional<std::int64_t>> PageOffset(const PageRequest& page);

// The standard 404 message, e.g. "Customer with ID 7 was not found".
Status NotFoundStatus(const char* entity, std::int64_t id);

}  // namespace cmfd
