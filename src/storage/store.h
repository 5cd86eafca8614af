// Store: the storage interface that request handlers use.
//
// Every method is one transaction: it either applies all of its changes or
// none, and returns a Status that explains a refusal. Methods are safe to
// call from many threads at once. A store never sees HTTP; it speaks in the
// records of domain/model.h and client-facing Status messages.
//
// Times. A store sets creation_date and modification_date itself, from one
// clock per store (the database's clock where it has one). Every successful
// write of a customer, activity, segment or group sets its modification_date
// to the time of the write.
//
// The sync guarantee. Every read returns a `timestamp` T with this property:
// every row created, modified or deleted that the read did not see has a
// modification_date (for deletions: creation_date) of at least T + 1. A
// client that passes T back as a since-filter (`> T` for customers, `>= T`
// for activities and deletions) therefore never misses a change, even one
// that commits in the same second or from a transaction still open when the
// read began. T may be earlier than necessary (rows come twice), never later.
//
// Ids are positive, assigned by the store and never reused, even after a
// delete.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "config/config.h"
#include "domain/model.h"
#include "util/status.h"

namespace cmfd {

// A page of a list: 1-based page number and rows per page, both >= 1.
struct PageRequest {
  std::int64_t page = 1;
  std::int64_t page_size = 100;
};

// The totals of a list read, returned besides its rows.
struct ListInfo {
  std::int64_t total_rows = 0;  // rows matching the filters, over all pages
  std::int64_t timestamp = 0;   // see "The sync guarantee" above
};

struct CustomerQuery {
  std::optional<std::int64_t> modified_after;  // modification_date > value
  std::vector<std::int64_t> segments_all;      // customers that have all of them
  std::optional<std::string> email;            // exact, case-insensitive
  // Exact matches on unique extra fields: (index into CustomerSchema::fields,
  // value as a compact JSON literal, the form of Customer::extra).
  std::vector<std::pair<std::size_t, std::string>> extra_equals;
  bool include_activities = false;
  PageRequest page;
};

struct ActivityQuery {
  std::vector<std::string> types;                // any of them; empty = all
  std::optional<std::int64_t> modified_since;    // modification_date >= value
  std::optional<std::int64_t> customer_id;
  PageRequest page;
};

struct SegmentQuery {
  std::optional<std::int64_t> group;
  PageRequest page;
};

struct DeletionQuery {
  std::string entity_type;                 // "customers" or "activities"
  std::optional<std::int64_t> since;       // creation_date >= value
};

// Position in the deletions feed, for reading it in bounded chunks. The feed
// is ordered by (creation_date, id); a default cursor starts at the
// beginning.
struct DeletionCursor {
  bool started = false;
  std::int64_t creation_date = 0;
  std::int64_t sequence = 0;  // store-internal tie breaker
};

// ---- bulk import (cmfd import) ----

// A change of one customer's segments, as in POST /segments-of-customers.
struct SegmentAssignment {
  std::int64_t customer_id = 0;
  std::vector<std::int64_t> add;
  std::vector<std::int64_t> remove;
};

// Records for Store::Import, each already validated by the domain layer as
// the matching API request would be.
struct ImportBatch {
  std::vector<Customer> customers;
  std::vector<Activity> activities;
  std::vector<SegmentAssignment> assignments;
};

// A row of an ImportBatch that the store did not write.
struct ImportRejection {
  enum class Kind { kCustomer, kActivity, kAssignment };
  Kind kind = Kind::kCustomer;
  std::size_t index = 0;  // position in the batch's vector of that kind
  Status status;          // what the single-record method would have returned
};

// The outcome of Store::Import: counts and rejected rows.
struct ImportCounts {
  std::int64_t customers_created = 0;
  std::int64_t activities_created = 0;
  std::int64_t activities_updated = 0;  // same customer, type and a_id as a stored activity
  std::int64_t assignments_applied = 0;
  std::vector<ImportRejection> rejected;  // in batch order within each kind
};

// ---- copying a whole database (cmfd copy) ----

// The highest id each table has ever handed out, deleted rows included, so
// that a copy keeps ids from being reused. 0 when the table never had a row.
struct IdCounters {
  std::int64_t customers = 0;
  std::int64_t activities = 0;
  std::int64_t segment_groups = 0;
  std::int64_t segments = 0;
  std::int64_t api_keys = 0;
};

// Receives every row of a database, with its ids and dates (see
// Store::ExportAll). A non-ok Status stops the export and is returned by it.
class CopySink {
 public:
  virtual ~CopySink() = default;
  // `customer.segments` and `customer.activities` are not set; assignments
  // and activities arrive on their own.
  virtual Status AddCustomer(const Customer& customer) = 0;
  virtual Status AddSegmentGroup(const SegmentGroup& group) = 0;
  virtual Status AddSegment(const Segment& segment) = 0;
  virtual Status AddAssignment(std::int64_t customer_id, std::int64_t segment_id) = 0;
  virtual Status AddActivity(const Activity& activity) = 0;
  virtual Status AddDeletion(const Deletion& deletion) = 0;
  virtual Status AddApiKey(const ApiKey& key) = 0;
  virtual Status SetIdCounters(const IdCounters& counters) = 0;
};

// Rows written by a CopyTarget, per table.
struct CopyCounts {
  std::int64_t customers = 0;
  std::int64_t segment_groups = 0;
  std::int64_t segments = 0;
  std::int64_t assignments = 0;
  std::int64_t activities = 0;
  std::int64_t deletions = 0;
  std::int64_t api_keys = 0;
};

// Writes the rows it receives into an empty database, keeping their ids and
// dates, all in one transaction that Commit() ends. Destroying it without a
// successful Commit() rolls everything back.
class CopyTarget : public CopySink {
 public:
  // Commits, after moving every id counter past both the copied ids and the
  // counters received, so that new rows never reuse a copied or deleted id.
  virtual Result<CopyCounts> Commit() = 0;
};

// Settings of the installation that a store needs.
struct StoreOptions {
  CustomerSchema customer;
  int pool_size = 0;  // connections; 0 = the backend's default
  // What a committed write survives. The SQLite store maps it to PRAGMA
  // synchronous; PostgreSQL keeps the server's own setting.
  Durability durability = Durability::kFull;
};

class Store {
 public:
  virtual ~Store() = default;

  // True when a call may wait on the network (PostgreSQL). The server then
  // runs every request on its worker pool instead of the event loop.
  virtual bool CallsMayBlock() const { return false; }

  // ---- health ----
  // Returns ok when the database completes a trivial query.
  virtual Status Ping() = 0;

  // ---- customers ----
  // Stores a new customer. Sets id, dates and id_encoded (when empty).
  // 409 when a unique extra field or the configured duplicate check matches
  // another customer, naming that customer's id.
  virtual Result<Customer> CreateCustomer(const Customer& customer) = 0;

  // Loads customer `id`, lets `modify` change it (a non-ok Status from
  // `modify` aborts the transaction and is returned), runs the same checks as
  // CreateCustomer and stores it. NotFound when `id` does not exist.
  virtual Result<Customer> UpdateCustomer(std::int64_t id,
                                          const std::function<Status(Customer&)>& modify) = 0;

  // NotFound when `id` does not exist.
  virtual Result<Customer> GetCustomer(std::int64_t id, bool include_activities) = 0;

  // Deletes the customer, records a deletion for it and for each of its
  // activities, and removes its segment assignments. NotFound when absent.
  virtual Status DeleteCustomer(std::int64_t id) = 0;

  // Calls `row` for each customer of the requested page, ordered by id.
  virtual Result<ListInfo> ListCustomers(const CustomerQuery& query,
                                         const std::function<void(const Customer&)>& row) = 0;

  // Adds, then removes, segments of a customer; returns the resulting segment
  // ids, ascending. NotFound ("Customer with ID 5 was not found") for an
  // unknown customer; Invalid naming every unknown segment id, and then
  // nothing is applied. The customer's modification_date changes only when
  // its segments do.
  virtual Result<std::vector<std::int64_t>> ChangeCustomerSegments(
      std::int64_t customer_id, const std::vector<std::int64_t>& add,
      const std::vector<std::int64_t>& remove) = 0;

  // ---- activities ----
  // Adjusts what CreateActivity writes over a stored activity: called with
  // that activity and the record about to be written (its id and
  // creation_date already the stored ones), inside the transaction. It may
  // change activity_date, implementation_class, o_id, md5 and
  // attributes_json, and must not fail.
  using ActivityMerge = std::function<void(const Activity& stored, Activity& activity)>;

  // Stores a new activity, or, when a_id is set and the customer already has
  // an activity with the same type and a_id, updates that one with the
  // values of `activity`, after `merge` (when set) adjusted them. The
  // handler passes a merge that keeps the stored activity_date when the
  // request had none, so that a retry does not move the date. The bool is
  // true when a new row was created. Invalid ("customer with ID 7 was not
  // found") for an unknown customer_id.
  virtual Result<std::pair<Activity, bool>> CreateActivity(const Activity& activity,
                                                           const ActivityMerge& merge = {}) = 0;

  // As UpdateCustomer. A changed customer_id must exist (Invalid otherwise).
  virtual Result<Activity> UpdateActivity(std::int64_t id,
                                          const std::function<Status(Activity&)>& modify) = 0;
  virtual Result<Activity> GetActivity(std::int64_t id) = 0;

  // Deletes the activity and records a deletion with its type.
  virtual Status DeleteActivity(std::int64_t id) = 0;

  // Ordered by activity_date, then id.
  virtual Result<ListInfo> ListActivities(const ActivityQuery& query,
                                          const std::function<void(const Activity&)>& row) = 0;

  // ---- deletions ----
  // Calls `row` for up to `limit` deletions after `cursor` and advances it.
  // Returns the number of rows delivered; fewer than `limit` means the end.
  // `timestamp` is set on the first call (cursor not started) only.
  virtual Result<std::int64_t> ScanDeletions(const DeletionQuery& query, DeletionCursor& cursor,
                                             std::int64_t limit, std::int64_t& timestamp,
                                             const std::function<void(const Deletion&)>& row) = 0;

  // One page of the deletions feed, ordered by (creation_date, id).
  virtual Result<ListInfo> ListDeletions(const DeletionQuery& query, const PageRequest& page,
                                         const std::function<void(const Deletion&)>& row) = 0;

  // ---- segment groups ----
  // Invalid "name required" when the patch has no non-empty name. Conflict
  // when a group with the same reference and the same calculated flag exists.
  virtual Result<SegmentGroup> CreateSegmentGroup(const SegmentGroupPatch& patch) = 0;

  // Changing `calculated` changes it on every segment of the group too.
  virtual Result<SegmentGroup> UpdateSegmentGroup(std::int64_t id, const SegmentGroupPatch& patch) = 0;
  virtual Result<SegmentGroup> GetSegmentGroup(std::int64_t id) = 0;

  // Deletes the group and its segments, removes those segments from every
  // customer and sets those customers' modification_date.
  virtual Status DeleteSegmentGroup(std::int64_t id) = 0;
  virtual Result<ListInfo> ListSegmentGroups(const PageRequest& page,
                                             const std::function<void(const SegmentGroup&)>& row) = 0;

  // ---- segments ----
  // Invalid: "group required", "group not found", "name required", a
  // calculated flag that differs from the group's. Conflict: a reference
  // already used in the group.
  virtual Result<Segment> CreateSegment(const SegmentPatch& patch) = 0;
  virtual Result<Segment> UpdateSegment(std::int64_t id, const SegmentPatch& patch) = 0;
  virtual Result<Segment> GetSegment(std::int64_t id) = 0;

  // Removes the segment from every customer and sets their modification_date.
  virtual Status DeleteSegment(std::int64_t id) = 0;
  virtual Result<ListInfo> ListSegments(const SegmentQuery& query,
                                        const std::function<void(const Segment&)>& row) = 0;

  // ---- API keys ----
  // Conflict when a key with this name exists (revoked keys are deleted).
  virtual Result<ApiKey> CreateApiKey(const std::string& name, const std::string& hash,
                                      bool read_only) = 0;
  virtual Result<std::vector<ApiKey>> ListApiKeys() = 0;
  // NotFound when no key has this name.
  virtual Status RevokeApiKey(const std::string& name) = 0;
  // The key with this hash, or nullopt. Records the time of use.
  virtual Result<std::optional<ApiKey>> FindApiKey(const std::string& hash) = 0;

  // ---- bulk import ----
  // Writes a batch of validated records: customers first, then activities,
  // then assignments, each in vector order, so that an activity can refer to
  // a customer of the same batch. Each row is treated as by CreateCustomer,
  // CreateActivity (including the update of an activity with the same
  // customer, type and a_id) or ChangeCustomerSegments: ids, dates and
  // id_encoded are assigned as usual and written back into `batch`. A row
  // that breaks a store rule (unknown customer or segment, a unique or
  // duplicate conflict) is left out and listed in ImportCounts::rejected; the
  // other rows are written. A non-ok Result is a database error.
  //
  // A backend overrides this to write the whole batch in one transaction, so
  // that a database error leaves none of it written. The default calls the
  // single-record methods, one transaction per row: correct, but slow, and a
  // database error can leave the rows before it written.
  virtual Result<ImportCounts> Import(ImportBatch& batch);

  // Bracket the Import calls of one bulk load (cmfd import), so that a
  // backend may trade the upkeep of its indexes and counters row by row for
  // one rebuild at the end. Call FinishImport after a successful
  // PrepareImport even when an Import failed. A backend that overrides them
  // must keep every read through a store opened afterwards correct, even
  // after a crash before FinishImport. Both do nothing by default.
  virtual Status PrepareImport() { return Status::Ok(); }
  virtual Status FinishImport() { return Status::Ok(); }

  // ---- copying a whole database ----
  // Calls `sink` for every stored row, from one snapshot: customers, segment
  // groups, segments, assignments, activities, deletions, API keys (each
  // table ordered by id; deletions in the order recorded), then the id
  // counters. Extra customer fields are read through the configured fields,
  // so values of fields missing from the configuration are not exported.
  virtual Status ExportAll(CopySink& sink) = 0;

  // Starts writing a copy into this database. Conflict when it holds any
  // customer, activity, deletion, segment group, segment or API key.
  virtual Result<std::unique_ptr<CopyTarget>> BeginCopy() = 0;
};

// Opens (and creates or migrates) the database named by `database`: a file
// path for SQLite, or a postgresql:// URL.
Result<std::unique_ptr<Store>> OpenStore(const std::string& database, const StoreOptions& options);

}  // namespace cmfd
