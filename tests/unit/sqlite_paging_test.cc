// List pages of the SQLite store, which seek through cached checkpoints,
// compared with plain LIMIT/OFFSET queries on the same database after
// inserts, updates and deletes. Also the PageCache on its own.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "sqlite_test_support.h"
#include "storage/sqlite/sqlite_page_cache.h"

namespace cmfd {
namespace {

// ---- PageCache ----

TEST(PageCacheTest, FindsNearestCheckpointAtOrBelow) {
  PageCache cache;
  cache.AddCheckpoints("s", {1, 0}, {{100, {150, 0}}, {200, {290, 0}}});
  EXPECT_FALSE(cache.FindCheckpoint("s", {1, 0}, 99).has_value());
  ASSERT_TRUE(cache.FindCheckpoint("s", {1, 0}, 100).has_value());
  EXPECT_EQ(cache.FindCheckpoint("s", {1, 0}, 100)->key[0], 150);
  EXPECT_EQ(cache.FindCheckpoint("s", {1, 0}, 199)->rank, 100);
  EXPECT_EQ(cache.FindCheckpoint("s", {1, 0}, 5000)->rank, 200);
  EXPECT_FALSE(cache.FindCheckpoint("other", {1, 0}, 5000).has_value());
}

TEST(PageCacheTest, OtherVersionsAreNotUsed) {
  PageCache cache;
  cache.AddCheckpoints("s", {2, 0}, {{100, {150, 0}}});
  EXPECT_FALSE(cache.FindCheckpoint("s", {1, 0}, 100).has_value());
  EXPECT_FALSE(cache.FindCheckpoint("s", {3, 0}, 100).has_value());

  // An older snapshot does not replace the newer entry.
  cache.AddCheckpoints("s", {1, 0}, {{10, {10, 0}}});
  EXPECT_EQ(cache.FindCheckpoint("s", {2, 0}, 100)->rank, 100);

  // A newer one does.
  cache.AddCheckpoints("s", {3, 0}, {{50, {70, 0}}});
  EXPECT_FALSE(cache.FindCheckpoint("s", {2, 0}, 100).has_value());
  EXPECT_EQ(cache.FindCheckpoint("s", {3, 0}, 100)->rank, 50);
}

TEST(PageCacheTest, DeleteMovesLaterCheckpoints) {
  PageCache cache;
  cache.AddCheckpoints("s", {4, 0}, {{10, {10, 0}}, {20, {20, 0}}, {21, {25, 0}}});

  cache.ApplyDelete("s", {5, 0}, {20, 0});
  EXPECT_FALSE(cache.FindCheckpoint("s", {4, 0}, 30).has_value());
  EXPECT_EQ(cache.FindCheckpoint("s", {5, 0}, 10)->key[0], 10);
  // The checkpoint at the deleted key 20 drops to rank 19, and key 25 to 20.
  EXPECT_EQ(cache.FindCheckpoint("s", {5, 0}, 19)->key[0], 20);
  EXPECT_EQ(cache.FindCheckpoint("s", {5, 0}, 20)->key[0], 25);

  // A delete that skips a version leaves the entry to expire.
  cache.ApplyDelete("s", {7, 0}, {5, 0});
  EXPECT_EQ(cache.FindCheckpoint("s", {5, 0}, 20)->key[0], 25);
  EXPECT_FALSE(cache.FindCheckpoint("s", {7, 0}, 20).has_value());
}

TEST(PageCacheTest, CountsNeedTheExactVersion) {
  PageCache cache;
  cache.AddCount("s", {3, 100}, 42);
  EXPECT_EQ(cache.FindCount("s", {3, 100}), 42);
  EXPECT_FALSE(cache.FindCount("s", {3, 101}).has_value());
  EXPECT_FALSE(cache.FindCount("s", {4, 100}).has_value());
}

TEST(PageCacheTest, ShapesAreBounded) {
  PageCache cache;
  for (std::size_t i = 0; i < 3 * PageCache::kMaxCheckpointShapes; ++i) {
    cache.AddCheckpoints("s" + std::to_string(i), {1, 0}, {{1, {1, 0}}});
  }
  std::size_t found = 0;
  for (std::size_t i = 0; i < 3 * PageCache::kMaxCheckpointShapes; ++i) {
    if (cache.FindCheckpoint("s" + std::to_string(i), {1, 0}, 1)) ++found;
  }
  EXPECT_EQ(found, PageCache::kMaxCheckpointShapes);
  const std::string newest = "s" + std::to_string(3 * PageCache::kMaxCheckpointShapes - 1);
  EXPECT_TRUE(cache.FindCheckpoint(newest, {1, 0}, 1));
}

// ---- pages against OFFSET ----

// Ids from a plain LIMIT/OFFSET query on a connection of its own.
std::vector<std::int64_t> OffsetIds(const std::string& path, const std::string& sql,
                                    const std::vector<std::int64_t>& params) {
  sqlite3* db = nullptr;
  EXPECT_EQ(sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  for (std::size_t i = 0; i < params.size(); ++i) {
    sqlite3_bind_int64(stmt, static_cast<int>(i) + 1, params[i]);
  }
  std::vector<std::int64_t> ids;
  while (sqlite3_step(stmt) == SQLITE_ROW) ids.push_back(sqlite3_column_int64(stmt, 0));
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return ids;
}

class SqlitePagingTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    SqliteStoreFixture::SetUp();
    Result<SegmentGroup> group = store().CreateSegmentGroup(Group());
    ASSERT_TRUE(group.ok());
    for (int i = 0; i < 2; ++i) {
      SegmentPatch patch;
      patch.group = group->id;
      patch.name = "s" + std::to_string(i);
      Result<Segment> segment = store().CreateSegment(patch);
      ASSERT_TRUE(segment.ok());
      segments_.push_back(segment->id);
    }
  }

  static SegmentGroupPatch Group() {
    SegmentGroupPatch patch;
    patch.name = "g";
    return patch;
  }

  void AddCustomers(int count) {
    ImportBatch batch;
    for (int i = 0; i < count; ++i) {
      Customer customer;
      customer.firstname = "c" + std::to_string(i);
      batch.customers.push_back(customer);
    }
    Result<ImportCounts> counts = store().Import(batch);
    ASSERT_TRUE(counts.ok()) << counts.status().message();
    for (const Customer& customer : batch.customers) {
      customers_.push_back(customer.id);
      // Every third customer gets the first segment, every fifth the second.
      std::vector<std::int64_t> add;
      if (customer.id % 3 == 0) add.push_back(segments_[0]);
      if (customer.id % 5 == 0) add.push_back(segments_[1]);
      if (!add.empty()) ASSERT_TRUE(store().ChangeCustomerSegments(customer.id, add, {}).ok());
    }
  }

  void DeleteCustomers(int count) {
    for (int i = 0; i < count && !customers_.empty(); ++i) {
      std::size_t at = random_() % customers_.size();
      ASSERT_TRUE(store().DeleteCustomer(customers_[at]).ok());
      customers_.erase(customers_.begin() + static_cast<std::ptrdiff_t>(at));
    }
  }

  // Compares every page of `query` with OFFSET paging, in a shuffled order
  // so that deep pages come both before and after their neighbours.
  void ExpectCustomerPagesMatch(CustomerQuery query, const std::string& where,
                                const std::vector<std::int64_t>& where_params,
                                std::int64_t page_size) {
    SCOPED_TRACE("customers" + where + ", page size " + std::to_string(page_size));
    const std::int64_t rows =
        static_cast<std::int64_t>(OffsetIds(path(), "SELECT id FROM customers c" + where,
                                            where_params)
                                      .size());
    std::vector<std::int64_t> pages;
    for (std::int64_t page = 1; page <= rows / page_size + 2; ++page) pages.push_back(page);
    std::shuffle(pages.begin(), pages.end(), random_);

    for (std::int64_t page : pages) {
      query.page = {page, page_size};
      std::vector<std::int64_t> ids;
      Result<ListInfo> info =
          store().ListCustomers(query, [&](const Customer& c) { ids.push_back(c.id); });
      ASSERT_TRUE(info.ok()) << info.status().message();
      EXPECT_EQ(info->total_rows, rows);
      std::vector<std::int64_t> params = where_params;
      params.push_back(page_size);
      params.push_back((page - 1) * page_size);
      EXPECT_EQ(ids, OffsetIds(path(),
                               "SELECT id FROM customers c" + where +
                                   " ORDER BY id LIMIT ? OFFSET ?",
                               params))
          << "page " << page;
    }
  }

  void ExpectAllCustomerShapesMatch() {
    for (std::int64_t page_size : {7, 100}) {
      ExpectCustomerPagesMatch({}, "", {}, page_size);

      CustomerQuery modified;
      modified.modified_after = modified_after_;
      ExpectCustomerPagesMatch(modified, " WHERE modification_date > ?", {modified_after_},
                               page_size);

      CustomerQuery one_segment;
      one_segment.segments_all = {segments_[0]};
      ExpectCustomerPagesMatch(
          one_segment,
          " WHERE id IN (SELECT customer_id FROM customer_segments WHERE segment_id = ?)",
          {segments_[0]}, page_size);

      CustomerQuery both_segments;
      both_segments.segments_all = {segments_[0], segments_[1]};
      ExpectCustomerPagesMatch(
          both_segments,
          " WHERE id IN (SELECT customer_id FROM customer_segments WHERE segment_id = ?)"
          " AND id IN (SELECT customer_id FROM customer_segments WHERE segment_id = ?)",
          {segments_[0], segments_[1]}, page_size);
    }
  }

  std::mt19937 random_{20261204};
  std::vector<std::int64_t> segments_;
  std::vector<std::int64_t> customers_;
  std::int64_t modified_after_ = kStart;
};

TEST_F(SqlitePagingTest, CustomerPagesMatchOffsetAfterWrites) {
  // The later half is modified after modified_after_.
  AddCustomers(800);
  clock_.Advance(10);
  AddCustomers(700);
  ExpectAllCustomerShapesMatch();

  // Deletes move every later page; the unfiltered list moves its cached
  // checkpoints, filtered lists drop theirs.
  DeleteCustomers(60);
  ExpectAllCustomerShapesMatch();

  // Inserts append; updates change which customers the filters match.
  AddCustomers(300);
  for (int i = 0; i < 40; ++i) {
    std::int64_t id = customers_[random_() % customers_.size()];
    ASSERT_TRUE(store()
                    .UpdateCustomer(id,
                                    [](Customer& c) {
                                      c.city = "moved";
                                      return Status::Ok();
                                    })
                    .ok());
    ASSERT_TRUE(store().ChangeCustomerSegments(id, {segments_[0]}, {segments_[1]}).ok());
  }
  ExpectAllCustomerShapesMatch();

  // A deleted segment leaves no members behind.
  ASSERT_TRUE(store().DeleteSegment(segments_[1]).ok());
  CustomerQuery deleted_segment;
  deleted_segment.segments_all = {segments_[1]};
  ExpectCustomerPagesMatch(
      deleted_segment,
      " WHERE id IN (SELECT customer_id FROM customer_segments WHERE segment_id = ?)",
      {segments_[1]}, 100);
  ExpectCustomerPagesMatch({}, "", {}, 100);

  // Interleaved: a delete after each page read.
  CustomerQuery all;
  for (std::int64_t page = 1; page <= 12; ++page) {
    all.page = {page, 100};
    std::vector<std::int64_t> ids;
    ASSERT_TRUE(store().ListCustomers(all, [&](const Customer& c) { ids.push_back(c.id); }).ok());
    EXPECT_EQ(ids, OffsetIds(path(), "SELECT id FROM customers ORDER BY id LIMIT ? OFFSET ?",
                             {100, (page - 1) * 100}))
        << "page " << page;
    DeleteCustomers(1);
  }
}

class SqliteActivityPagingTest : public SqlitePagingTest {
 protected:
  void AddActivities(int count, std::int64_t min_date, std::int64_t max_date) {
    ImportBatch batch;
    std::uniform_int_distribution<std::int64_t> date(min_date, max_date);
    const char* types[] = {"order", "login", "cancellation"};
    for (int i = 0; i < count; ++i) {
      Activity activity;
      activity.customer_id = customers_[random_() % customers_.size()];
      activity.type = types[random_() % 3];
      // Few distinct dates, so that the id decides the order of many rows.
      activity.activity_date = date(random_);
      activity.implementation_class = "GenericActivity";
      activity.md5 = "d41d8cd98f00b204e9800998ecf8427e";
      batch.activities.push_back(activity);
    }
    Result<ImportCounts> counts = store().Import(batch);
    ASSERT_TRUE(counts.ok()) << counts.status().message();
    for (const Activity& activity : batch.activities) activities_.push_back(activity.id);
  }

  void ExpectActivityPagesMatch(ActivityQuery query, const std::string& where,
                                const std::vector<std::int64_t>& where_params,
                                std::int64_t page_size) {
    SCOPED_TRACE("activities" + where + ", page size " + std::to_string(page_size));
    const std::int64_t rows = static_cast<std::int64_t>(
        OffsetIds(path(), "SELECT id FROM activities" + where, where_params).size());
    std::vector<std::int64_t> pages;
    for (std::int64_t page = 1; page <= rows / page_size + 2; ++page) pages.push_back(page);
    std::shuffle(pages.begin(), pages.end(), random_);

    for (std::int64_t page : pages) {
      query.page = {page, page_size};
      std::vector<std::int64_t> ids;
      Result<ListInfo> info =
          store().ListActivities(query, [&](const Activity& a) { ids.push_back(a.id); });
      ASSERT_TRUE(info.ok()) << info.status().message();
      EXPECT_EQ(info->total_rows, rows);
      std::vector<std::int64_t> params = where_params;
      params.push_back(page_size);
      params.push_back((page - 1) * page_size);
      EXPECT_EQ(ids, OffsetIds(path(),
                               "SELECT id FROM activities" + where +
                                   " ORDER BY activity_date, id LIMIT ? OFFSET ?",
                               params))
          << "page " << page;
    }
  }

  void ExpectAllActivityShapesMatch() {
    for (std::int64_t page_size : {9, 100}) {
      ExpectActivityPagesMatch({}, "", {}, page_size);
      ActivityQuery orders;
      orders.types = {"order"};
      ExpectActivityPagesMatch(orders, " WHERE type = 'order'", {}, page_size);
      ActivityQuery two_types;
      two_types.types = {"order", "login"};
      ExpectActivityPagesMatch(two_types, " WHERE type IN ('order', 'login')", {}, page_size);
    }
  }

  std::vector<std::int64_t> activities_;
};

TEST_F(SqliteActivityPagingTest, ActivityPagesMatchOffsetAfterWrites) {
  AddCustomers(50);
  AddActivities(2000, 1000, 1200);
  ExpectAllActivityShapesMatch();

  // Dated after every other activity: these sort last and keep checkpoints.
  AddActivities(200, 1200, 1300);
  ExpectAllActivityShapesMatch();

  // Dated in the past: these shift later pages.
  AddActivities(200, 900, 1300);
  ExpectAllActivityShapesMatch();

  // Updates and deletes.
  for (int i = 0; i < 30; ++i) {
    std::int64_t id = activities_[random_() % activities_.size()];
    ASSERT_TRUE(store()
                    .UpdateActivity(id,
                                    [&](Activity& a) {
                                      a.activity_date = 1000 + static_cast<std::int64_t>(i);
                                      // Some change type, which moves them between the
                                      // per-type counts.
                                      if (i % 3 == 0) a.type = "login";
                                      return Status::Ok();
                                    })
                    .ok());
  }
  for (int i = 0; i < 30; ++i) {
    std::size_t at = random_() % activities_.size();
    ASSERT_TRUE(store().DeleteActivity(activities_[at]).ok());
    activities_.erase(activities_.begin() + static_cast<std::ptrdiff_t>(at));
  }
  ExpectAllActivityShapesMatch();
}

}  // namespace
}  // namespace cmfd
