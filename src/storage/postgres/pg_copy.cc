// Copying a whole database out of and into the PostgreSQL store
// (Store::ExportAll and Store::BeginCopy, used by `cmfd copy`).
#include <spdlog/spdlog.h>

#include <functional>
#include <utility>

#include "storage/json_text.h"
#include "storage/postgres/pg_rows.h"
#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

namespace {

constexpr int kFetchRows = 1000;     // rows per FETCH of an export cursor
constexpr std::size_t kBatch = 500;  // statements per pipeline of a copy

// The tables with an identity id, as the id counters name them.
constexpr const char* kCountedTables[] = {"customers", "activities", "segment_groups", "segments",
                                          "api_keys"};

// Runs `sql` through a cursor in the open transaction and calls `row` for
// every row, so that memory stays bounded by one fetch.
Status ForEachRow(PgConnection& conn, const std::string& sql,
                  const std::function<Status(const PgResult&, int)>& row) {
  PgResult declared = conn.Exec("DECLARE export_rows NO SCROLL CURSOR FOR " + sql);
  if (!declared.ok()) return ErrorStatus(declared, conn.Broken(), "database export");
  while (true) {
    PgResult fetched = conn.Exec("FETCH " + std::to_string(kFetchRows) + " FROM export_rows");
    if (!fetched.ok()) return ErrorStatus(fetched, conn.Broken(), "database export");
    for (int i = 0; i < fetched.rows(); ++i) {
      Status status = row(fetched, i);
      if (!status.ok()) return status;
    }
    if (fetched.rows() < kFetchRows) break;
  }
  PgResult closed = conn.ExecSimple("CLOSE export_rows");
  if (!closed.ok()) return ErrorStatus(closed, conn.Broken(), "database export");
  return Status::Ok();
}

// Writes rows in pipelines of kBatch statements inside one open transaction.
class PgCopyTarget final : public CopyTarget {
 public:
  PgCopyTarget(PgLease lease, const PgStore& store) : lease_(std::move(lease)), store_(store) {}

  ~PgCopyTarget() override {
    if (!committed_ && !lease_->Broken()) lease_->ExecSimple("ROLLBACK");
  }

  // Locks every table against concurrent writers and checks that all are
  // empty.
  Status Start() {
    PgResult begun = lease_->ExecSimple("BEGIN ISOLATION LEVEL READ COMMITTED");
    if (!begun.ok()) return Fail(begun);
    PgResult locked = lease_->ExecSimple(
        "LOCK TABLE customers, customer_unique, customer_segments, activities, deletions, "
        "segment_groups, segments, api_keys IN SHARE ROW EXCLUSIVE MODE");
    if (!locked.ok()) return Fail(locked);

    PgResult used = lease_->ExecSimple(
        "SELECT EXISTS (SELECT 1 FROM customers), EXISTS (SELECT 1 FROM activities),"
        " EXISTS (SELECT 1 FROM deletions), EXISTS (SELECT 1 FROM segment_groups),"
        " EXISTS (SELECT 1 FROM segments), EXISTS (SELECT 1 FROM api_keys)");
    if (!used.ok()) return Fail(used);
    const char* names[] = {"customers", "activities", "deletions", "segment groups", "segments",
                           "API keys"};
    std::string found;
    for (int i = 0; i < 6; ++i) {
      if (!used.Bool(0, i)) continue;
      if (!found.empty()) found += ", ";
      found += names[i];
    }
    if (!found.empty()) {
      return Status::Conflict("the target database is not empty (it has " + found +
                              "); copy into a new, empty database");
    }
    return Status::Ok();
  }

  Status AddCustomer(const Customer& customer) override {
    const std::vector<CustomField>& fields = store_.options().customer.fields;
    ++counts_.customers;
    CMFD_PG_TRY(Queue(
        "INSERT INTO customers (id, active, gender, firstname, lastname, birthdate, street, zip,"
        " city, phone, extra, country_code, email, id_encoded, profiling_consent, password_hash,"
        " modification_date, creation_date) VALUES ($1::bigint, $2::boolean, $3::text, $4::text,"
        " $5::text, $6::text, $7::text, $8::text, $9::text, $10::text, $11::text, $12::text,"
        " $13::text, $14::text, $15::boolean, $16::text, $17::bigint, $18::bigint)",
        {IntParam(customer.id), BoolParam(customer.active), customer.gender, customer.firstname,
         customer.lastname, customer.birthdate, customer.street, customer.zip, customer.city,
         customer.phone,
         customer.stored_extra.empty() ? EncodeExtraFields(fields, customer.extra)
                                       : customer.stored_extra,
         customer.country_code,
         customer.email, customer.id_encoded, BoolParam(customer.profiling_consent),
         customer.password_hash, IntParam(customer.modification_date),
         IntParam(customer.creation_date)}));
    for (std::size_t index : store_.unique_fields()) {
      if (index >= customer.extra.size() || !customer.extra[index]) continue;
      CMFD_PG_TRY(Queue("INSERT INTO customer_unique (field, value, customer_id)"
                        " VALUES ($1::text, $2::text, $3::bigint)",
                        {fields[index].name, *customer.extra[index], IntParam(customer.id)}));
    }
    return Status::Ok();
  }

  Status AddSegmentGroup(const SegmentGroup& group) override {
    ++counts_.segment_groups;
    return Queue(
        "INSERT INTO segment_groups (id, name, reference, calculated, show_as_filter,"
        " filter_sort_order, export_newsletter_provider, modification_date, creation_date)"
        " VALUES ($1::bigint, $2::text, $3::text, $4::boolean, $5::boolean, $6::bigint,"
        " $7::boolean, $8::bigint, $9::bigint)",
        {IntParam(group.id), group.name, group.reference, BoolParam(group.calculated),
         BoolParam(group.show_as_filter), OptionalIntParam(group.filter_sort_order),
         BoolParam(group.export_newsletter_provider), IntParam(group.modification_date),
         IntParam(group.creation_date)});
  }

  Status AddSegment(const Segment& segment) override {
    ++counts_.segments;
    return Queue(
        "INSERT INTO segments (id, name, group_id, reference, calculated, use_as_target_group,"
        " modification_date, creation_date) VALUES ($1::bigint, $2::text, $3::bigint, $4::text,"
        " $5::boolean, $6::boolean, $7::bigint, $8::bigint)",
        {IntParam(segment.id), segment.name, IntParam(segment.group), segment.reference,
         BoolParam(segment.calculated), BoolParam(segment.use_as_target_group),
         IntParam(segment.modification_date), IntParam(segment.creation_date)});
  }

  Status AddAssignment(std::int64_t customer_id, std::int64_t segment_id) override {
    ++counts_.assignments;
    return Queue("INSERT INTO customer_segments (customer_id, segment_id)"
                 " VALUES ($1::bigint, $2::bigint)",
                 {IntParam(customer_id), IntParam(segment_id)});
  }

  Status AddActivity(const Activity& activity) override {
    ++counts_.activities;
    return Queue(
        "INSERT INTO activities (id, customer_id, activity_date, type, implementation_class,"
        " o_id, a_id, md5, attributes, modification_date, creation_date) VALUES ($1::bigint,"
        " $2::bigint, $3::bigint, $4::text, $5::text, $6::bigint, $7::text, $8::text, $9::text,"
        " $10::bigint, $11::bigint)",
        {IntParam(activity.id), IntParam(activity.customer_id), IntParam(activity.activity_date),
         activity.type, activity.implementation_class, OptionalIntParam(activity.o_id),
         activity.a_id, activity.md5, activity.attributes_json,
         IntParam(activity.modification_date), IntParam(activity.creation_date)});
  }

  Status AddDeletion(const Deletion& deletion) override {
    ++counts_.deletions;
    return Queue("INSERT INTO deletions (entity_type, id, type, creation_date)"
                 " VALUES ($1::text, $2::bigint, $3::text, $4::bigint)",
                 {deletion.entity_type, IntParam(deletion.id), deletion.type,
                  IntParam(deletion.creation_date)});
  }

  Status AddApiKey(const ApiKey& key) override {
    ++counts_.api_keys;
    return Queue("INSERT INTO api_keys (id, name, hash, read_only, creation_date, last_used)"
                 " VALUES ($1::bigint, $2::text, $3::text, $4::boolean, $5::bigint, $6::bigint)",
                 {IntParam(key.id), key.name, key.hash, BoolParam(key.read_only),
                  IntParam(key.creation_date), OptionalIntParam(key.last_used)});
  }

  Status SetIdCounters(const IdCounters& counters) override {
    counters_ = counters;
    return Status::Ok();
  }

  Result<CopyCounts> Commit() override {
    CMFD_PG_TRY(Flush());

    // Each identity sequence continues after the larger of the highest
    // copied id and the source's counter, which also covers deleted rows.
    const std::int64_t counter_values[] = {counters_.customers, counters_.activities,
                                           counters_.segment_groups, counters_.segments,
                                           counters_.api_keys};
    for (std::size_t i = 0; i < std::size(kCountedTables); ++i) {
      std::string table = kCountedTables[i];
      CMFD_PG_TRY(Queue("SELECT setval(pg_get_serial_sequence(" + QuoteLiteral(table) +
                            ", 'id'), v) FROM (SELECT greatest(coalesce(max(id), 0),"
                            " $1::bigint) AS v FROM " + table + ") AS highest WHERE v > 0",
                        {IntParam(counter_values[i])}));
    }
    CMFD_PG_TRY(Flush());

    PgResult committed = lease_->ExecSimple("COMMIT");
    if (!committed.ok()) return Fail(committed);
    committed_ = true;
    return counts_;
  }

 private:
  Status Queue(std::string sql, Params params) {
    pending_.push_back({std::move(sql), std::move(params)});
    if (pending_.size() >= kBatch) return Flush();
    return Status::Ok();
  }

  Status Flush() {
    if (pending_.empty()) return Status::Ok();
    std::vector<PgResult> results = lease_->Pipeline(pending_);
    pending_.clear();
    for (const PgResult& result : results) {
      if (!result.ok()) return Fail(result);
    }
    return Status::Ok();
  }

  Status Fail(const PgResult& result) { return ErrorStatus(result, lease_->Broken(), "copy"); }

  PgLease lease_;
  const PgStore& store_;
  std::vector<PipelineStep> pending_;
  CopyCounts counts_;
  IdCounters counters_;
  bool committed_ = false;
};

}  // namespace

Status PgStore::ExportAll(CopySink& sink) {
  Result<PgLease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  PgConnection& conn = *lease.value();

  // One snapshot for every table, so that the copy is consistent even while
  // the source is in use.
  PgResult begun = conn.ExecSimple("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
  if (!begun.ok()) return ErrorStatus(begun, conn.Broken(), "database export");
  Status status = [&]() -> Status {
    const std::vector<CustomField>& fields = options_.customer.fields;
    CMFD_PG_TRY(ForEachRow(
        conn, std::string("SELECT ") + kCustomerColumns + " FROM customers c ORDER BY c.id",
        [&](const PgResult& rows, int i) -> Status {
          Customer customer;
          CMFD_PG_TRY(ReadCustomerRow(rows, i, fields, customer));
          customer.stored_extra = rows.String(i, 10);  // the column after phone
          customer.segments.clear();
          return sink.AddCustomer(customer);
        }));
    CMFD_PG_TRY(ForEachRow(
        conn,
        "SELECT id, name, reference, calculated, show_as_filter, filter_sort_order,"
        " export_newsletter_provider, modification_date, creation_date"
        " FROM segment_groups ORDER BY id",
        [&](const PgResult& rows, int i) -> Status {
          SegmentGroup group;
          group.id = rows.Int(i, 0);
          group.name = rows.String(i, 1);
          group.reference = rows.OptionalString(i, 2);
          group.calculated = rows.Bool(i, 3);
          group.show_as_filter = rows.Bool(i, 4);
          group.filter_sort_order = rows.OptionalInt(i, 5);
          group.export_newsletter_provider = rows.Bool(i, 6);
          group.modification_date = rows.Int(i, 7);
          group.creation_date = rows.Int(i, 8);
          return sink.AddSegmentGroup(group);
        }));
    CMFD_PG_TRY(ForEachRow(
        conn,
        "SELECT id, name, group_id, reference, calculated, use_as_target_group,"
        " modification_date, creation_date FROM segments ORDER BY id",
        [&](const PgResult& rows, int i) -> Status {
          Segment segment;
          segment.id = rows.Int(i, 0);
          segment.name = rows.String(i, 1);
          segment.group = rows.Int(i, 2);
          segment.reference = rows.OptionalString(i, 3);
          segment.calculated = rows.Bool(i, 4);
          segment.use_as_target_group = rows.Bool(i, 5);
          segment.modification_date = rows.Int(i, 6);
          segment.creation_date = rows.Int(i, 7);
          return sink.AddSegment(segment);
        }));
    CMFD_PG_TRY(ForEachRow(
        conn,
        "SELECT customer_id, segment_id FROM customer_segments ORDER BY customer_id, segment_id",
        [&](const PgResult& rows, int i) {
          return sink.AddAssignment(rows.Int(i, 0), rows.Int(i, 1));
        }));
    CMFD_PG_TRY(ForEachRow(
        conn, std::string("SELECT ") + kActivityColumns + " FROM activities a ORDER BY a.id",
        [&](const PgResult& rows, int i) { return sink.AddActivity(ReadActivityRow(rows, i)); }));
    CMFD_PG_TRY(ForEachRow(
        conn, "SELECT id, entity_type, type, creation_date FROM deletions ORDER BY seq",
        [&](const PgResult& rows, int i) {
          Deletion deletion;
          deletion.id = rows.Int(i, 0);
          deletion.entity_type = rows.String(i, 1);
          deletion.type = rows.String(i, 2);
          deletion.creation_date = rows.Int(i, 3);
          return sink.AddDeletion(deletion);
        }));
    CMFD_PG_TRY(ForEachRow(
        conn,
        "SELECT id, name, read_only, hash, creation_date, last_used FROM api_keys ORDER BY id",
        [&](const PgResult& rows, int i) {
          ApiKey key;
          key.id = rows.Int(i, 0);
          key.name = rows.String(i, 1);
          key.read_only = rows.Bool(i, 2);
          key.hash = rows.String(i, 3);
          key.creation_date = rows.Int(i, 4);
          key.last_used = rows.OptionalInt(i, 5);
          return sink.AddApiKey(key);
        }));

    std::string counters_sql = "SELECT ";
    for (std::size_t i = 0; i < std::size(kCountedTables); ++i) {
      if (i > 0) counters_sql += ", ";
      counters_sql += "coalesce(pg_sequence_last_value(pg_get_serial_sequence(" +
                      QuoteLiteral(kCountedTables[i]) + ", 'id')::regclass), 0)";
    }
    PgResult counted = conn.Exec(counters_sql);
    if (!counted.ok()) return ErrorStatus(counted, conn.Broken(), "database export");
    IdCounters counters;
    counters.customers = counted.Int(0, 0);
    counters.activities = counted.Int(0, 1);
    counters.segment_groups = counted.Int(0, 2);
    counters.segments = counted.Int(0, 3);
    counters.api_keys = counted.Int(0, 4);
    return sink.SetIdCounters(counters);
  }();

  if (PQtransactionStatus(conn.raw()) != PQTRANS_IDLE && !conn.Broken()) {
    conn.ExecSimple(status.ok() ? "COMMIT" : "ROLLBACK");
  }
  return status;
}

Result<std::unique_ptr<CopyTarget>> PgStore::BeginCopy() {
  Result<PgLease> lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  auto target = std::make_unique<PgCopyTarget>(std::move(lease.value()), *this);
  Status status = target->Start();
  if (!status.ok()) return status;
  return std::unique_ptr<CopyTarget>(std::move(target));
}

}  // namespace cmfd::pg
