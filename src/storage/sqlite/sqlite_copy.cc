// Copying a whole database out of and into the SQLite store
// (Store::ExportAll and Store::BeginCopy, used by `cmfd copy`).
#include <spdlog/spdlog.h>

#include <functional>
#include <mutex>
#include <utility>

#include "storage/json_text.h"
#include "storage/sqlite/sqlite_rows.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

// Runs `sql` and calls `row` for every row it returns.
Status ForEachRow(SqliteDb& db, const std::string& sql,
                  const std::function<Status(const SqliteStatement&)>& row) {
  Result<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  while (true) {
    Result<bool> has_row = stmt->Step();
    if (!has_row.ok()) return has_row.status();
    if (!has_row.value()) return Status::Ok();
    CMFD_SQLITE_TRY(row(stmt.value()));
  }
}

// The tables whose ids AUTOINCREMENT counts, as IdCounters names them.
constexpr const char* kCountedTables[] = {"customers", "activities", "segment_groups", "segments",
                                          "api_keys"};

}  // namespace

Status SqliteStore::ExportAll(CopySink& sink) {
  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  SqliteDb& db = reader->db();

  // One read transaction: every table comes from the same snapshot.
  CMFD_SQLITE_TRY(reader->Begin());

  const std::vector<CustomField>& fields = options_.customer.fields;
  CMFD_SQLITE_TRY(ForEachRow(
      db, std::string("SELECT ") + kCustomerColumns + " FROM customers c ORDER BY c.id",
      [&](const SqliteStatement& stmt) -> Status {
        Customer customer;
        CMFD_SQLITE_TRY(ReadCustomerRow(stmt, fields, customer));
        customer.stored_extra = std::string(stmt.ColumnView(10));  // the column after phone
        customer.segments.clear();
        return sink.AddCustomer(customer);
      }));
  CMFD_SQLITE_TRY(ForEachRow(
      db,
      "SELECT id, name, reference, calculated, show_as_filter, filter_sort_order,"
      " export_newsletter_provider, modification_date, creation_date"
      " FROM segment_groups ORDER BY id",
      [&](const SqliteStatement& stmt) {
        SegmentGroup group;
        group.id = stmt.ColumnInt(0);
        group.name = stmt.ColumnText(1);
        group.reference = stmt.ColumnOptionalText(2);
        group.calculated = stmt.ColumnBool(3);
        group.show_as_filter = stmt.ColumnBool(4);
        group.filter_sort_order = stmt.ColumnOptionalInt(5);
        group.export_newsletter_provider = stmt.ColumnBool(6);
        group.modification_date = stmt.ColumnInt(7);
        group.creation_date = stmt.ColumnInt(8);
        return sink.AddSegmentGroup(group);
      }));
  CMFD_SQLITE_TRY(ForEachRow(
      db,
      "SELECT id, name, group_id, reference, calculated, use_as_target_group,"
      " modification_date, creation_date FROM segments ORDER BY id",
      [&](const SqliteStatement& stmt) {
        Segment segment;
        segment.id = stmt.ColumnInt(0);
        segment.name = stmt.ColumnText(1);
        segment.group = stmt.ColumnInt(2);
        segment.reference = stmt.ColumnOptionalText(3);
        segment.calculated = stmt.ColumnBool(4);
        segment.use_as_target_group = stmt.ColumnBool(5);
        segment.modification_date = stmt.ColumnInt(6);
        segment.creation_date = stmt.ColumnInt(7);
        return sink.AddSegment(segment);
      }));
  CMFD_SQLITE_TRY(ForEachRow(
      db, "SELECT customer_id, segment_id FROM customer_segments ORDER BY customer_id, segment_id",
      [&](const SqliteStatement& stmt) {
        return sink.AddAssignment(stmt.ColumnInt(0), stmt.ColumnInt(1));
      }));
  CMFD_SQLITE_TRY(ForEachRow(
      db, std::string("SELECT ") + kActivityColumns + " FROM activities a ORDER BY a.id",
      [&](const SqliteStatement& stmt) {
        Activity activity;
        ReadActivityRow(stmt, activity);
        return sink.AddActivity(activity);
      }));
  CMFD_SQLITE_TRY(ForEachRow(
      db, "SELECT id, entity_type, type, creation_date FROM deletions ORDER BY seq",
      [&](const SqliteStatement& stmt) {
        Deletion deletion;
        deletion.id = stmt.ColumnInt(0);
        deletion.entity_type = stmt.ColumnText(1);
        deletion.type = stmt.ColumnText(2);
        deletion.creation_date = stmt.ColumnInt(3);
        return sink.AddDeletion(deletion);
      }));
  CMFD_SQLITE_TRY(ForEachRow(
      db, "SELECT id, name, read_only, hash, creation_date, last_used FROM api_keys ORDER BY id",
      [&](const SqliteStatement& stmt) {
        ApiKey key;
        key.id = stmt.ColumnInt(0);
        key.name = stmt.ColumnText(1);
        key.read_only = stmt.ColumnBool(2);
        key.hash = stmt.ColumnText(3);
        key.creation_date = stmt.ColumnInt(4);
        key.last_used = stmt.ColumnOptionalInt(5);
        return sink.AddApiKey(key);
      }));

  // AUTOINCREMENT keeps the highest id ever used per table in sqlite_sequence.
  IdCounters counters;
  CMFD_SQLITE_TRY(ForEachRow(db, "SELECT name, seq FROM sqlite_sequence",
                             [&](const SqliteStatement& stmt) {
                               std::string_view name = stmt.ColumnView(0);
                               std::int64_t seq = stmt.ColumnInt(1);
                               if (name == "customers") counters.customers = seq;
                               if (name == "activities") counters.activities = seq;
                               if (name == "segment_groups") counters.segment_groups = seq;
                               if (name == "segments") counters.segments = seq;
                               if (name == "api_keys") counters.api_keys = seq;
                               return Status::Ok();
                             }));
  CMFD_SQLITE_TRY(reader->Commit());
  return sink.SetIdCounters(counters);
}

Result<std::unique_ptr<CopyTarget>> SqliteStore::BeginCopy() {
  // A local class of a member function has the member function's access,
  // so the target can use the writer and its lock directly. It holds the
  // write lock from Start() to its destruction: the copy is one transaction.
  class Target final : public CopyTarget {
   public:
    explicit Target(SqliteStore* store) : store_(store), lock_(store->write_mutex_) {}

    ~Target() override {
      if (store_->writer_->InTransaction() && !store_->writer_->Run("ROLLBACK").ok()) {
        spdlog::error("SQLite writer could not roll back an unfinished copy");
      }
      if (started_) store_->clock_.EndWrite();
    }

    Status Start() {
      store_->clock_.BeginWrite();
      started_ = true;
      CMFD_SQLITE_TRY(store_->writer_->Run("BEGIN IMMEDIATE"));
      std::string found;
      const std::pair<const char*, const char*> tables[] = {
          {"customers", "customers"},          {"activities", "activities"},
          {"deletions", "deletions"},          {"segment_groups", "segment groups"},
          {"segments", "segments"},            {"api_keys", "API keys"}};
      for (const auto& [table, label] : tables) {
        Result<SqliteStatement> stmt =
            store_->writer_->Prepare(std::string("SELECT 1 FROM ") + table + " LIMIT 1");
        if (!stmt.ok()) return stmt.status();
        Result<bool> row = stmt->Step();
        if (!row.ok()) return row.status();
        if (!row.value()) continue;
        if (!found.empty()) found += ", ";
        found += label;
      }
      if (!found.empty()) {
        return Status::Conflict("the target database is not empty (it has " + found +
                                "); copy into a new, empty database");
      }
      return Status::Ok();
    }

    Status AddCustomer(const Customer& customer) override {
      const std::vector<CustomField>& fields = store_->options_.customer.fields;
      Result<SqliteStatement> stmt = store_->writer_->Prepare(
          "INSERT INTO customers (id, active, gender, firstname, lastname, birthdate, street,"
          " zip, city, phone, extra, country_code, email, id_encoded, profiling_consent,"
          " password_hash, modification_date, creation_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6,"
          " ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)");
      if (!stmt.ok()) return stmt.status();
      stmt->BindInt(1, customer.id);
      stmt->BindBool(2, customer.active);
      stmt->BindOptionalText(3, customer.gender);
      stmt->BindOptionalText(4, customer.firstname);
      stmt->BindOptionalText(5, customer.lastname);
      stmt->BindOptionalText(6, customer.birthdate);
      stmt->BindOptionalText(7, customer.street);
      stmt->BindOptionalText(8, customer.zip);
      stmt->BindOptionalText(9, customer.city);
      stmt->BindOptionalText(10, customer.phone);
      stmt->BindText(11, customer.stored_extra.empty()
                             ? EncodeExtraFields(fields, customer.extra)
                             : customer.stored_extra);
      stmt->BindOptionalText(12, customer.country_code);
      stmt->BindOptionalText(13, customer.email);
      stmt->BindText(14, customer.id_encoded);
      stmt->BindBool(15, customer.profiling_consent);
      stmt->BindOptionalText(16, customer.password_hash);
      stmt->BindInt(17, customer.modification_date);
      stmt->BindInt(18, customer.creation_date);
      CMFD_SQLITE_TRY(stmt->Run());
      ++counts_.customers;

      for (std::size_t index : store_->unique_fields_) {
        if (index >= customer.extra.size() || !customer.extra[index]) continue;
        Result<SqliteStatement> unique = store_->writer_->Prepare(
            "INSERT INTO customer_unique (field, value, customer_id) VALUES (?1, ?2, ?3)");
        if (!unique.ok()) return unique.status();
        unique->BindText(1, fields[index].name);
        unique->BindText(2, *customer.extra[index]);
        unique->BindInt(3, customer.id);
        CMFD_SQLITE_TRY(unique->Run());
      }
      return Status::Ok();
    }

    Status AddSegmentGroup(const SegmentGroup& group) override {
      Result<SqliteStatement> stmt = store_->writer_->Prepare(
          "INSERT INTO segment_groups (id, name, reference, calculated, show_as_filter,"
          " filter_sort_order, export_newsletter_provider, modification_date, creation_date)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
      if (!stmt.ok()) return stmt.status();
      stmt->BindInt(1, group.id);
      stmt->BindText(2, group.name);
      stmt->BindOptionalText(3, group.reference);
      stmt->BindBool(4, group.calculated);
      stmt->BindBool(5, group.show_as_filter);
      stmt->BindOptionalInt(6, group.filter_sort_order);
      stmt->BindBool(7, group.export_newsletter_provider);
      stmt->BindInt(8, group.modification_date);
      stmt->BindInt(9, group.creation_date);
      ++counts_.segment_groups;
      return stmt->Run();
    }

    Status AddSegment(const Segment& segment) override {
      Result<SqliteStatement> stmt = store_->writer_->Prepare(
          "INSERT INTO segments (id, name, group_id, reference, calculated, use_as_target_group,"
          " modification_date, creation_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
      if (!stmt.ok()) return stmt.status();
      stmt->BindInt(1, segment.id);
      stmt->BindText(2, segment.name);
      stmt->BindInt(3, segment.group);
      stmt->BindOptionalText(4, segment.reference);
      stmt->BindBool(5, segment.calculated);
      stmt->BindBool(6, segment.use_as_target_group);
      stmt->BindInt(7, segment.modification_date);
      stmt->BindInt(8, segment.creation_date);
      ++counts_.segments;
      return stmt->Run();
    }

    Status AddAssignment(std::int64_t customer_id, std::int64_t segment_id) override {
      Result<SqliteStatement> stmt = store_->writer_->Prepare(
          "INSERT INTO customer_segments (customer_id, segment_id) VALUES (?1, ?2)");
      if (!stmt.ok()) return stmt.status();
      stmt->BindInt(1, customer_id);
      stmt->BindInt(2, segment_id);
      ++counts_.assignments;
      return stmt->Run();
    }

    Status AddActivity(const Activity& activity) override {
      Result<SqliteStatement> stmt = store_->writer_->Prepare(
          "INSERT INTO activities (id, customer_id, activity_date, type, implementation_class,"
          " o_id, a_id, md5, attributes, modification_date, creation_date)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)");
      if (!stmt.ok()) return stmt.status();
      stmt->BindInt(1, activity.id);
      stmt->BindInt(2, activity.customer_id);
      stmt->BindInt(3, activity.activity_date);
      stmt->BindText(4, activity.type);
      stmt->BindText(5, activity.implementation_class);
      stmt->BindOptionalInt(6, activity.o_id);
      stmt->BindOptionalText(7, activity.a_id);
      stmt->BindText(8, activity.md5);
      stmt->BindText(9, activity.attributes_json);
      stmt->BindInt(10, activity.modification_date);
      stmt->BindInt(11, activity.creation_date);
      ++counts_.activities;
      return stmt->Run();
    }

    Status AddDeletion(const Deletion& deletion) override {
      Result<SqliteStatement> stmt = store_->writer_->Prepare(
          "INSERT INTO deletions (entity_type, id, type, creation_date) VALUES (?1, ?2, ?3, ?4)");
      if (!stmt.ok()) return stmt.status();
      stmt->BindText(1, deletion.entity_type);
      stmt->BindInt(2, deletion.id);
      stmt->BindText(3, deletion.type);
      stmt->BindInt(4, deletion.creation_date);
      ++counts_.deletions;
      return stmt->Run();
    }

    Status AddApiKey(const ApiKey& key) override {
      Result<SqliteStatement> stmt = store_->writer_->Prepare(
          "INSERT INTO api_keys (id, name, hash, read_only, creation_date, last_used)"
          " VALUES (?1, ?2, ?3, ?4, ?5, ?6)");
      if (!stmt.ok()) return stmt.status();
      stmt->BindInt(1, key.id);
      stmt->BindText(2, key.name);
      stmt->BindText(3, key.hash);
      stmt->BindBool(4, key.read_only);
      stmt->BindInt(5, key.creation_date);
      stmt->BindOptionalInt(6, key.last_used);
      ++counts_.api_keys;
      return stmt->Run();
    }

    Status SetIdCounters(const IdCounters& counters) override {
      counters_ = counters;
      return Status::Ok();
    }

    Result<CopyCounts> Commit() override {
      // Inserting explicit ids already raised sqlite_sequence to the highest
      // copied id; the source's counters also cover its deleted rows.
      const std::int64_t values[] = {counters_.customers, counters_.activities,
                                     counters_.segment_groups, counters_.segments,
                                     counters_.api_keys};
      for (std::size_t i = 0; i < std::size(kCountedTables); ++i) {
        if (values[i] <= 0) continue;
        for (const char* sql :
             {"UPDATE sqlite_sequence SET seq = max(seq, ?2) WHERE name = ?1",
              "INSERT INTO sqlite_sequence (name, seq) SELECT ?1, ?2"
              " WHERE NOT EXISTS (SELECT 1 FROM sqlite_sequence WHERE name = ?1)"}) {
          Result<SqliteStatement> stmt = store_->writer_->Prepare(sql);
          if (!stmt.ok()) return stmt.status();
          stmt->BindText(1, kCountedTables[i]);
          stmt->BindInt(2, values[i]);
          CMFD_SQLITE_TRY(stmt->Run());
        }
      }
      CMFD_SQLITE_TRY(store_->writer_->Run("COMMIT"));
      return counts_;
    }

   private:
    SqliteStore* store_;
    std::unique_lock<std::mutex> lock_;
    bool started_ = false;
    CopyCounts counts_;
    IdCounters counters_;
  };

  auto target = std::make_unique<Target>(this);
  CMFD_SQLITE_TRY(target->Start());
  return std::unique_ptr<CopyTarget>(std::move(target));
}

}  // namespace cmfd
