// Group commit: the queue protocol on its own, and the SQLite store's writes
// when many threads write at once.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <set>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "sqlite_test_support.h"
#include "storage/sqlite/group_commit.h"

namespace cmfd {
namespace {

using IntQueue = GroupCommitQueue<int>;

TEST(GroupCommitQueueTest, LoneWriterLeadsItsOwnGroup) {
  IntQueue queue(8);
  IntQueue::Member member(7);
  std::vector<std::size_t> group_sizes;
  queue.Submit(member, [&](std::span<IntQueue::Member*> group) {
    group_sizes.push_back(group.size());
    for (IntQueue::Member* m : group) {
      m->status = Status::Invalid("work " + std::to_string(m->work));
    }
    return group.size();
  });
  EXPECT_EQ(group_sizes, std::vector<std::size_t>{1});
  EXPECT_EQ(member.status.message(), "work 7");
}

// While the first writer's group runs, the others queue up; the next group
// takes all of them at once.
TEST(GroupCommitQueueTest, WritersArrivingDuringAGroupShareTheNext) {
  constexpr int kFollowers = 6;
  IntQueue queue(64);
  std::mutex mutex;
  std::condition_variable changed;
  bool first_running = false;
  bool release_first = false;
  std::vector<std::vector<int>> groups;
  std::atomic<int> queued{0};

  auto run_group = [&](std::span<IntQueue::Member*> group) {
    std::unique_lock<std::mutex> lock(mutex);
    std::vector<int> works;
    for (IntQueue::Member* m : group) {
      works.push_back(m->work);
      m->status = Status::Ok();
    }
    groups.push_back(works);
    if (group.front()->work == 0) {
      first_running = true;
      changed.notify_all();
      changed.wait(lock, [&] { return release_first; });
    }
    return group.size();
  };

  std::thread first([&] {
    IntQueue::Member member(0);
    queue.Submit(member, run_group);
  });
  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return first_running; });
  }

  std::vector<std::thread> followers;
  for (int i = 1; i <= kFollowers; ++i) {
    followers.emplace_back([&, i] {
      IntQueue::Member member(i);
      ++queued;
      queue.Submit(member, run_group);
      EXPECT_TRUE(member.status.ok());
    });
  }
  // Submit appends under the queue lock right after `queued` rises; a short
  // wait lets the last follower get there. The test only checks group
  // membership, so a slow follower merely forms a group of its own.
  while (queued.load() < kFollowers) std::this_thread::yield();
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  {
    std::lock_guard<std::mutex> lock(mutex);
    release_first = true;
  }
  changed.notify_all();
  first.join();
  for (std::thread& t : followers) t.join();

  ASSERT_GE(groups.size(), 2u);
  EXPECT_EQ(groups[0], std::vector<int>{0});
  std::multiset<int> seen;
  for (std::size_t i = 1; i < groups.size(); ++i) seen.insert(groups[i].begin(), groups[i].end());
  EXPECT_EQ(seen, (std::multiset<int>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(groups[1].size(), static_cast<std::size_t>(kFollowers));
}

TEST(GroupCommitQueueTest, GroupSizeIsBounded) {
  IntQueue queue(3);
  std::mutex mutex;
  std::vector<std::size_t> sizes;
  std::vector<std::thread> threads;
  for (int i = 0; i < 20; ++i) {
    threads.emplace_back([&, i] {
      IntQueue::Member member(i);
      queue.Submit(member, [&](std::span<IntQueue::Member*> group) {
        std::lock_guard<std::mutex> lock(mutex);
        sizes.push_back(group.size());
        for (IntQueue::Member* m : group) m->status = Status::Ok();
        return group.size();
      });
    });
  }
  for (std::thread& t : threads) t.join();
  std::size_t total = 0;
  for (std::size_t size : sizes) {
    EXPECT_LE(size, 3u);
    total += size;
  }
  EXPECT_EQ(total, 20u);
}

// A runner that finishes only the leader leaves the others queued; each
// then leads a later group, and every member runs exactly once.
TEST(GroupCommitQueueTest, UnfinishedMembersFormTheNextGroup) {
  IntQueue queue(64);
  std::mutex mutex;
  std::multiset<int> runs;
  std::vector<std::thread> threads;
  for (int i = 0; i < 10; ++i) {
    threads.emplace_back([&, i] {
      IntQueue::Member member(i);
      queue.Submit(member, [&](std::span<IntQueue::Member*> group) {
        std::lock_guard<std::mutex> lock(mutex);
        runs.insert(group.front()->work);
        group.front()->status = Status::Ok();
        return std::size_t{1};
      });
      EXPECT_TRUE(member.status.ok());
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(runs, (std::multiset<int>{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}));
}

TEST(GroupCommitQueueTest, RunnerExceptionFailsTheGroup) {
  IntQueue queue(8);
  IntQueue::Member member(1);
  queue.Submit(member, [](std::span<IntQueue::Member*>) -> std::size_t {
    throw std::runtime_error("disk on fire");
  });
  EXPECT_EQ(member.status.code(), Code::kInternal);
  EXPECT_NE(member.status.message().find("disk on fire"), std::string::npos);
}

// ---- the SQLite store ----

class SqliteGroupCommitTest : public SqliteStoreFixture {
 protected:
  void SetUp() override {
    StoreOptions options;
    CustomField number;
    number.name = "customerNumber";
    number.unique = true;
    options.customer.fields.push_back(number);
    Open(options);
  }

  Customer Numbered(int n) {
    Customer customer;
    customer.firstname = "C" + std::to_string(n);
    customer.extra = {"\"" + std::to_string(n) + "\""};
    return customer;
  }

  std::int64_t CountRows(const char* sql) {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open_v2(path().c_str(), &db, SQLITE_OPEN_READONLY, nullptr), SQLITE_OK);
    sqlite3_stmt* stmt = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(db, sql, -1, &stmt, nullptr), SQLITE_OK);
    EXPECT_EQ(sqlite3_step(stmt), SQLITE_ROW);
    std::int64_t count = sqlite3_column_int64(stmt, 0);
    sqlite3_finalize(stmt);
    sqlite3_close(db);
    return count;
  }
};

// Many threads write at once; half of them send a number another thread
// already used. Every write either commits completely or changes nothing,
// whichever group it lands in.
TEST_F(SqliteGroupCommitTest, ConcurrentWritesFailAlone) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  std::atomic<int> created{0};
  std::atomic<int> conflicts{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        // Threads 2k and 2k + 1 send the same odd-numbered values.
        const int number = (i % 2 == 1) ? (t / 2) * 1000 + i : t * 1000 + i + 100000;
        Result<Customer> result = store().CreateCustomer(Numbered(number));
        if (result.ok()) {
          ++created;
        } else {
          EXPECT_EQ(result.status().code(), Code::kConflict) << result.status().message();
          ++conflicts;
        }
      }
    });
  }
  for (std::thread& t : threads) t.join();

  EXPECT_EQ(created + conflicts, kThreads * kPerThread);
  // The shared numbers: kThreads / 2 pairs, kPerThread / 2 numbers each,
  // each written once and refused once.
  EXPECT_EQ(conflicts.load(), (kThreads / 2) * (kPerThread / 2));
  EXPECT_EQ(CountRows("SELECT count(*) FROM customers"), created.load());
  EXPECT_EQ(CountRows("SELECT count(*) FROM customer_unique"), created.load());
  EXPECT_EQ(CountRows("SELECT n FROM row_counts WHERE name = 'customers'"), created.load());
}

// A write whose `modify` fails is rolled back alone, even while other
// writes share its transaction.
TEST_F(SqliteGroupCommitTest, FailedModifyChangesNothingInAGroup) {
  constexpr int kCustomers = 32;
  std::vector<std::int64_t> ids;
  for (int i = 0; i < kCustomers; ++i) {
    Result<Customer> created = store().CreateCustomer(Numbered(i));
    ASSERT_TRUE(created.ok());
    ids.push_back(created->id);
  }

  std::vector<std::thread> threads;
  for (int i = 0; i < kCustomers; ++i) {
    threads.emplace_back([&, i] {
      for (int round = 0; round < 10; ++round) {
        Result<Customer> updated = store().UpdateCustomer(ids[i], [&](Customer& c) {
          c.city = "round " + std::to_string(round);
          if (i % 2 == 1) return Status::Invalid("odd customers refuse");
          return Status::Ok();
        });
        EXPECT_EQ(updated.ok(), i % 2 == 0) << updated.status().message();
      }
    });
  }
  for (std::thread& t : threads) t.join();

  for (int i = 0; i < kCustomers; ++i) {
    Result<Customer> loaded = store().GetCustomer(ids[i], false);
    ASSERT_TRUE(loaded.ok());
    if (i % 2 == 0) {
      EXPECT_EQ(loaded->city, "round 9");
    } else {
      EXPECT_FALSE(loaded->city.has_value());
    }
  }
}

// An exception from `modify` reaches its own caller after the rollback, and
// the writes grouped with it commit.
TEST_F(SqliteGroupCommitTest, ThrowingModifyIsRethrownToItsCaller) {
  Result<Customer> customer = store().CreateCustomer(Numbered(1));
  ASSERT_TRUE(customer.ok());
  std::atomic<int> thrown{0};
  std::atomic<int> succeeded{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&, i] {
      try {
        Result<Customer> updated = store().UpdateCustomer(customer->id, [&](Customer& c) {
          if (i == 3) throw std::runtime_error("modify failed");
          c.city = "set";
          return Status::Ok();
        });
        if (updated.ok()) ++succeeded;
      } catch (const std::runtime_error& error) {
        EXPECT_STREQ(error.what(), "modify failed");
        ++thrown;
      }
    });
  }
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(thrown.load(), 1);
  EXPECT_EQ(succeeded.load(), 7);
  Result<Customer> loaded = store().GetCustomer(customer->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->city, "set");
}

// Every write of a group carries the group's date, which is never below the
// timestamp of a read that could not see it: a replica that syncs with the
// since-filter while many threads write misses nothing.
TEST_F(SqliteGroupCommitTest, SyncSeesEveryGroupedWrite) {
  std::atomic<bool> stop{false};
  std::vector<std::thread> writers;
  for (int t = 0; t < 8; ++t) {
    writers.emplace_back([&, t] {
      for (int i = 0; i < 60; ++i) {
        ASSERT_TRUE(store().CreateCustomer(Numbered(t * 1000 + i)).ok());
        if (i % 20 == 0) clock_.Advance(1);
      }
    });
  }

  std::set<std::int64_t> replica;
  std::int64_t since = 0;
  auto sync = [&] {
    CustomerQuery query;
    query.modified_after = since;
    query.page = {1, 1000000};
    Result<ListInfo> info =
        store().ListCustomers(query, [&](const Customer& c) { replica.insert(c.id); });
    ASSERT_TRUE(info.ok()) << info.status().message();
    since = info->timestamp;
  };
  for (int i = 0; i < 50; ++i) sync();
  for (std::thread& t : writers) t.join();
  sync();

  EXPECT_EQ(static_cast<std::int64_t>(replica.size()), 8 * 60);
  EXPECT_EQ(CountRows("SELECT count(*) FROM customers"), 8 * 60);
}

}  // namespace
}  // namespace cmfd
