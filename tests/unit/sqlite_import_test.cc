// The bulk load of the SQLite store: PrepareImport, Import and FinishImport,
// compared with the same rows imported without the bracket.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "sqlite_test_support.h"

namespace cmfd {
namespace {

// Every row `sql` returns, each as its columns joined by '|', sorted.
std::vector<std::string> Rows(const std::string& path, const std::string& sql) {
  std::vector<std::string> rows;
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db) << " in " << sql;
  while (stmt != nullptr && sqlite3_step(stmt) == SQLITE_ROW) {
    std::string row;
    for (int i = 0; i < sqlite3_column_count(stmt); ++i) {
      const unsigned char* text = sqlite3_column_text(stmt, i);
      row += (i > 0 ? "|" : "") + std::string(text ? reinterpret_cast<const char*>(text) : "NULL");
    }
    rows.push_back(row);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  std::sort(rows.begin(), rows.end());
  return rows;
}

// The whole content of a database: its schema, then every row of every
// table, except the change counters, which only promise to rise.
std::vector<std::string> Contents(const std::string& path) {
  std::vector<std::string> contents =
      Rows(path, "SELECT type, name, tbl_name, sql FROM sqlite_master");
  for (const std::string& table :
       Rows(path, "SELECT name FROM sqlite_master WHERE type = 'table'")) {
    std::string sql = "SELECT '" + table + "', * FROM \"" + table + "\"";
    if (table == "row_counts") sql += " WHERE name IN ('customers', 'activities')";
    for (std::string& row : Rows(path, sql)) contents.push_back(std::move(row));
  }
  return contents;
}

std::vector<std::string> ChangeCounters(const std::string& path) {
  return Rows(path, "SELECT name, n FROM row_counts WHERE name NOT IN ('customers', 'activities')");
}

Customer NumberedCustomer(int n) {
  Customer customer;
  customer.firstname = "Customer " + std::to_string(n);
  customer.email = "c" + std::to_string(n) + "@example.com";
  customer.id_encoded = "token" + std::to_string(n);  // random when left empty
  return customer;
}

Activity MakeActivity(std::int64_t customer_id, std::string type, std::int64_t date,
                      std::optional<std::string> a_id = std::nullopt) {
  Activity activity;
  activity.customer_id = customer_id;
  activity.type = std::move(type);
  activity.activity_date = date;
  activity.a_id = std::move(a_id);
  activity.implementation_class = "GenericActivity";
  activity.md5 = "d41d8cd98f00b204e9800998ecf8427e";
  activity.attributes_json = R"({"sku":"A-1"})";
  return activity;
}

// Two batches as `cmfd import` sends them: customers, then activities with
// an a_id update, unknown customers and dates out of order, then
// assignments with removals and an unknown segment.
std::vector<ImportBatch> SampleBatches(std::int64_t segment_a, std::int64_t segment_b) {
  ImportBatch customers;
  for (int n = 1; n <= 6; ++n) customers.customers.push_back(NumberedCustomer(n));

  ImportBatch activities;
  activities.activities = {
      MakeActivity(1, "order", 500, "o-1"), MakeActivity(1, "login", 100),
      MakeActivity(2, "order", 300, "o-2"), MakeActivity(99, "order", 10),
      MakeActivity(3, "login", 50),         MakeActivity(1, "order", 700, "o-1"),
      MakeActivity(6, "cancellation", 20),  MakeActivity(4, "order", 900, "o-1"),
  };
  activities.assignments = {
      {1, {segment_a, segment_b}, {}},
      {2, {segment_a}, {}},
      {3, {segment_b}, {segment_b}},
      {4, {segment_a, 4242}, {}},
      {5, {segment_b}, {}},
      {1, {}, {segment_a}},
  };
  return {customers, activities};
}

class SqliteImportTest : public SqliteStoreFixture {
 protected:
  // A group with two segments, as the benchmark creates them before an import.
  void CreateSegments(Store& store) {
    SegmentGroupPatch group;
    group.name = "g";
    Result<SegmentGroup> created = store.CreateSegmentGroup(group);
    ASSERT_TRUE(created.ok());
    for (const char* name : {"a", "b"}) {
      SegmentPatch segment;
      segment.group = created->id;
      segment.name = name;
      Result<Segment> stored = store.CreateSegment(segment);
      ASSERT_TRUE(stored.ok());
      segments_.push_back(stored->id);
    }
  }

  // Imports SampleBatches into `store` and checks the counts of each batch.
  void ImportSample(Store& store) {
    std::vector<ImportBatch> batches = SampleBatches(segments_[0], segments_[1]);
    Result<ImportCounts> first = store.Import(batches[0]);
    ASSERT_TRUE(first.ok()) << first.status().message();
    EXPECT_EQ(first->customers_created, 6);
    Result<ImportCounts> second = store.Import(batches[1]);
    ASSERT_TRUE(second.ok()) << second.status().message();
    EXPECT_EQ(second->activities_created, 6);
    EXPECT_EQ(second->activities_updated, 1);
    EXPECT_EQ(second->assignments_applied, 5);
    ASSERT_EQ(second->rejected.size(), 2u);
    EXPECT_EQ(second->rejected[0].status.message(), "customer with ID 99 was not found");
    EXPECT_EQ(second->rejected[1].status.message(), "unknown segment ID: 4242");
  }

  std::int64_t CustomerTotal(CustomerQuery query) {
    Result<ListInfo> info = store().ListCustomers(query, [](const Customer&) {});
    EXPECT_TRUE(info.ok()) << info.status().message();
    return info.ok() ? info->total_rows : -1;
  }

  std::int64_t ActivityTotal(ActivityQuery query) {
    Result<ListInfo> info = store().ListActivities(query, [](const Activity&) {});
    EXPECT_TRUE(info.ok()) << info.status().message();
    return info.ok() ? info->total_rows : -1;
  }

  // The totals the list endpoints read from counts, after SampleBatches.
  void ExpectSampleTotals() {
    EXPECT_EQ(CustomerTotal({}), 6);
    CustomerQuery in_a;
    in_a.segments_all = {segments_[0]};
    EXPECT_EQ(CustomerTotal(in_a), 1);  // customer 2 (1 left it, 4 was rejected)
    CustomerQuery in_b;
    in_b.segments_all = {segments_[1]};
    EXPECT_EQ(CustomerTotal(in_b), 2);  // customers 1 and 5

    EXPECT_EQ(ActivityTotal({}), 6);
    ActivityQuery orders;
    orders.types = {"order"};
    EXPECT_EQ(ActivityTotal(orders), 3);
    ActivityQuery two_types;
    two_types.types = {"login", "cancellation"};
    EXPECT_EQ(ActivityTotal(two_types), 3);

    // Pages come in (activity_date, id) order, which the rebuilt index serves.
    std::vector<std::int64_t> dates;
    ASSERT_TRUE(store()
                    .ListActivities({}, [&](const Activity& a) {
                      dates.push_back(a.activity_date);
                    })
                    .ok());
    EXPECT_EQ(dates, (std::vector<std::int64_t>{20, 50, 100, 300, 700, 900}));
  }

  bool InSchema(const std::string& name) {
    return !Rows(path(), "SELECT 1 FROM sqlite_master WHERE name = '" + name + "'").empty();
  }

  std::vector<std::int64_t> segments_;
};

TEST_F(SqliteImportTest, BulkImportIntoEmptyTablesMatchesPlainImport) {
  CreateSegments(store());
  ASSERT_TRUE(store().PrepareImport().ok());

  // Deferred: the secondary indexes and triggers are gone, their text saved;
  // the look-up the import needs and the indexes of growing keys stay.
  EXPECT_TRUE(InSchema("import_deferred"));
  EXPECT_TRUE(InSchema("activities_a_id"));
  EXPECT_TRUE(InSchema("activities_modification"));
  EXPECT_FALSE(InSchema("customers_email"));  // no duplicate check reads it
  EXPECT_FALSE(InSchema("activities_date"));
  EXPECT_FALSE(InSchema("activities_count_insert"));

  clock_.Advance(5);
  ImportSample(store());
  ASSERT_TRUE(store().FinishImport().ok());
  EXPECT_FALSE(InSchema("import_deferred"));
  ExpectSampleTotals();

  // The same rows through plain Import calls on a second database, at the
  // same times, leave the same schema, rows and counts behind.
  TempDirectory other_dir;
  const std::string other_path = other_dir.File("plain.db");
  ManualClock other_clock(kStart);
  SqliteOptions sqlite;
  sqlite.clock = other_clock.Source();
  Result<std::unique_ptr<Store>> other = OpenSqliteStore(other_path, {}, sqlite);
  ASSERT_TRUE(other.ok());
  segments_.clear();
  CreateSegments(*other.value());
  other_clock.Advance(5);
  ImportSample(*other.value());

  EXPECT_EQ(Contents(path()), Contents(other_path));
  // Every change counter moved, so no cached page of a list survives.
  const std::vector<std::string> before = {"activities_changes|0", "customers_changes|0",
                                           "customers_deletes|0"};
  for (const std::string& counter : ChangeCounters(path())) {
    EXPECT_EQ(std::find(before.begin(), before.end(), counter), before.end()) << counter;
  }

  // The triggers are back: later writes keep the counts.
  ASSERT_TRUE(store().CreateActivity(MakeActivity(2, "order", 1), {}).ok());
  ActivityQuery orders;
  orders.types = {"order"};
  EXPECT_EQ(ActivityTotal(orders), 4);
  ASSERT_TRUE(store().DeleteCustomer(6).ok());
  EXPECT_EQ(CustomerTotal({}), 5);
}

TEST_F(SqliteImportTest, InterruptedBulkImportIsCompletedWhenOpened) {
  TempDirectory fresh_dir;
  {
    Result<std::unique_ptr<Store>> fresh = OpenSqliteStore(fresh_dir.File("fresh.db"), {});
    ASSERT_TRUE(fresh.ok());
  }
  const std::vector<std::string> schema = Rows(
      fresh_dir.File("fresh.db"), "SELECT type, name, tbl_name, sql FROM sqlite_master");

  CreateSegments(store());
  ASSERT_TRUE(store().PrepareImport().ok());
  ImportSample(store());
  // The process ends here without FinishImport, as after a crash.
  store_.reset();
  EXPECT_TRUE(InSchema("import_deferred"));

  Open();
  EXPECT_FALSE(InSchema("import_deferred"));
  EXPECT_EQ(Rows(path(), "SELECT type, name, tbl_name, sql FROM sqlite_master"), schema);
  ExpectSampleTotals();
  ASSERT_TRUE(store().CreateActivity(MakeActivity(3, "login", 5), {}).ok());
  EXPECT_EQ(ActivityTotal({}), 7);
}

TEST_F(SqliteImportTest, ImportIntoUsedTablesKeepsIndexesAndTriggers) {
  CreateSegments(store());
  Customer first = NumberedCustomer(0);
  ASSERT_TRUE(store().CreateCustomer(first).ok());
  const std::vector<std::string> schema =
      Rows(path(), "SELECT type, name, tbl_name, sql FROM sqlite_master");

  ASSERT_TRUE(store().PrepareImport().ok());
  EXPECT_FALSE(InSchema("import_deferred"));
  EXPECT_EQ(Rows(path(), "SELECT type, name, tbl_name, sql FROM sqlite_master"), schema);

  // Customer ids start at 2 here, so the batches refer to shifted ids.
  std::vector<ImportBatch> batches = SampleBatches(segments_[0], segments_[1]);
  for (Activity& activity : batches[1].activities) activity.customer_id += 1;
  for (SegmentAssignment& assignment : batches[1].assignments) assignment.customer_id += 1;
  ASSERT_TRUE(store().Import(batches[0]).ok());
  ASSERT_TRUE(store().Import(batches[1]).ok());
  ASSERT_TRUE(store().FinishImport().ok());

  EXPECT_EQ(CustomerTotal({}), 7);
  EXPECT_EQ(ActivityTotal({}), 6);
  CustomerQuery in_a;
  in_a.segments_all = {segments_[0]};
  EXPECT_EQ(CustomerTotal(in_a), 1);
}

TEST_F(SqliteImportTest, DuplicateCheckOnEmailKeepsItsIndex) {
  StoreOptions options;
  options.customer.duplicate_check = {"email"};
  Open(options);
  ASSERT_TRUE(store().PrepareImport().ok());
  EXPECT_TRUE(InSchema("import_deferred"));
  EXPECT_TRUE(InSchema("customers_email"));

  // The check still finds a duplicate within the batch.
  ImportBatch batch;
  batch.customers = {NumberedCustomer(1), NumberedCustomer(1)};
  batch.customers[1].id_encoded = "other";
  Result<ImportCounts> counts = store().Import(batch);
  ASSERT_TRUE(counts.ok()) << counts.status().message();
  EXPECT_EQ(counts->customers_created, 1);
  ASSERT_EQ(counts->rejected.size(), 1u);
  EXPECT_EQ(counts->rejected[0].status.code(), Code::kConflict);
  ASSERT_TRUE(store().FinishImport().ok());
  EXPECT_EQ(CustomerTotal({}), 1);
}

TEST_F(SqliteImportTest, FinishWithoutPrepareChangesNothing) {
  CreateSegments(store());
  const std::vector<std::string> before = Contents(path());
  ASSERT_TRUE(store().FinishImport().ok());
  EXPECT_EQ(Contents(path()), before);
}

}  // namespace
}  // namespace cmfd
