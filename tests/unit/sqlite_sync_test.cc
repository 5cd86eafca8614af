// The sync guarantee of the SQLite store: every change a read did not see
// carries a date after the read's timestamp, so a client that passes the
// timestamp back as its since-filter misses nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "sqlite_test_support.h"
#include "storage/sqlite/sync_clock.h"

namespace cmfd {
namespace {

// ---- SyncClock on its own ----

TEST(SyncClockTest, TimestampWithoutWriteIsOneSecondBack) {
  ManualClock source(100);
  SyncClock clock(source.Source());
  EXPECT_EQ(clock.ReadTimestamp(), 99);
  source.Set(250);
  EXPECT_EQ(clock.ReadTimestamp(), 249);
}

TEST(SyncClockTest, OpenWriteHoldsTimestampBack) {
  ManualClock source(100);
  SyncClock clock(source.Source());
  EXPECT_EQ(clock.BeginWrite(), 100);
  source.Set(105);
  EXPECT_EQ(clock.ReadTimestamp(), 99);
  clock.EndWrite();
  EXPECT_EQ(clock.ReadTimestamp(), 104);
}

TEST(SyncClockTest, NowNeverDecreases) {
  ManualClock source(100);
  SyncClock clock(source.Source());
  EXPECT_EQ(clock.Now(), 100);
  source.Set(90);  // the system clock stepped back
  EXPECT_EQ(clock.Now(), 100);
  EXPECT_EQ(clock.BeginWrite(), 100);
  clock.EndWrite();
  source.Set(101);
  EXPECT_EQ(clock.Now(), 101);
}

// ---- the store ----

using SqliteSyncTest = SqliteStoreFixture;

Customer NamedCustomer(const std::string& name) {
  Customer customer;
  customer.firstname = name;
  return customer;
}

std::map<std::int64_t, std::string> ReadChanged(Store& store, std::int64_t after,
                                                std::int64_t& timestamp) {
  std::map<std::int64_t, std::string> rows;
  CustomerQuery query;
  query.modified_after = after;
  query.page = {1, 1000};
  Result<ListInfo> info = store.ListCustomers(
      query, [&](const Customer& c) { rows[c.id] = c.firstname.value_or(""); });
  EXPECT_TRUE(info.ok()) << info.status().message();
  timestamp = info->timestamp;
  return rows;
}

TEST_F(SqliteSyncTest, SameSecondWriteAfterTimestamp) {
  Result<Customer> before = store().CreateCustomer(NamedCustomer("before"));
  ASSERT_TRUE(before.ok());

  std::int64_t timestamp = 0;
  std::map<std::int64_t, std::string> seen = ReadChanged(store(), 0, timestamp);
  EXPECT_EQ(seen.size(), 1u);

  // Same second as the read: the clock has not moved.
  Result<Customer> after = store().CreateCustomer(NamedCustomer("after"));
  ASSERT_TRUE(after.ok());
  EXPECT_GT(after->modification_date, timestamp);

  std::int64_t next = 0;
  std::map<std::int64_t, std::string> changed = ReadChanged(store(), timestamp, next);
  EXPECT_EQ(changed.count(after->id), 1u);
}

TEST_F(SqliteSyncTest, OpenWriteAfterTimestamp) {
  Result<Customer> customer = store().CreateCustomer(NamedCustomer("old"));
  ASSERT_TRUE(customer.ok());
  clock_.Advance(1);

  std::mutex mutex;
  std::condition_variable changed;
  bool inside = false;
  bool release = false;

  // The writer takes its dates now, then waits inside its transaction while
  // the clock moves on and the test reads.
  std::thread writer([&] {
    Result<Customer> updated = store().UpdateCustomer(customer->id, [&](Customer& c) {
      std::unique_lock<std::mutex> lock(mutex);
      inside = true;
      changed.notify_all();
      changed.wait(lock, [&] { return release; });
      c.firstname = "new";
      return Status::Ok();
    });
    EXPECT_TRUE(updated.ok()) << updated.status().message();
  });

  {
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return inside; });
  }
  clock_.Advance(5);
  std::int64_t timestamp = 0;
  std::map<std::int64_t, std::string> seen = ReadChanged(store(), 0, timestamp);
  EXPECT_EQ(seen[customer->id], "old");  // the open write is invisible
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  changed.notify_all();
  writer.join();

  Result<Customer> loaded = store().GetCustomer(customer->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->firstname, "new");
  EXPECT_GT(loaded->modification_date, timestamp);

  std::int64_t next = 0;
  std::map<std::int64_t, std::string> later = ReadChanged(store(), timestamp, next);
  EXPECT_EQ(later[customer->id], "new");
}

// A writer that starts while the reader computes its timestamp, reads the
// clock just before the second ticks and commits after the read: the
// reader's clock reading (hooked here) starts that writer and then ticks the
// clock. The reader must still return a timestamp below the writer's date,
// which holds only if it reads the clock before it looks for open writes.
TEST(SqliteSyncOrderTest, WriterStartingMidReadAfterTimestamp) {
  TempDirectory dir;
  std::atomic<std::int64_t> now{1'700'000'000};
  std::atomic<bool> armed{false};
  const std::thread::id reader_thread = std::this_thread::get_id();
  std::function<void()> hook;
  SqliteOptions sqlite;
  sqlite.clock = [&] {
    if (std::this_thread::get_id() == reader_thread && armed.exchange(false)) hook();
    return now.load();
  };
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(dir.File("order.db"), {}, sqlite);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store& store = *opened.value();
  Result<Customer> customer = store.CreateCustomer(NamedCustomer("old"));
  ASSERT_TRUE(customer.ok());

  std::mutex mutex;
  std::condition_variable changed;
  bool inside = false;
  bool release = false;
  std::thread writer;
  hook = [&] {
    writer = std::thread([&] {
      Result<Customer> updated = store.UpdateCustomer(customer->id, [&](Customer& c) {
        std::unique_lock<std::mutex> lock(mutex);
        inside = true;
        changed.notify_all();
        changed.wait(lock, [&] { return release; });
        c.firstname = "new";
        return Status::Ok();
      });
      EXPECT_TRUE(updated.ok()) << updated.status().message();
    });
    std::unique_lock<std::mutex> lock(mutex);
    changed.wait(lock, [&] { return inside; });
    now += 1;  // the second ticks after the writer took its dates
  };

  armed = true;
  std::int64_t timestamp = 0;
  std::map<std::int64_t, std::string> seen = ReadChanged(store, 0, timestamp);
  EXPECT_FALSE(armed.load()) << "the hook did not run";
  EXPECT_EQ(seen[customer->id], "old");
  {
    std::lock_guard<std::mutex> lock(mutex);
    release = true;
  }
  changed.notify_all();
  if (writer.joinable()) writer.join();

  Result<Customer> loaded = store.GetCustomer(customer->id, false);
  ASSERT_TRUE(loaded.ok());
  EXPECT_EQ(loaded->firstname, "new");
  EXPECT_GT(loaded->modification_date, timestamp);
}

// A client keeps a replica in sync through the since-filters while another
// thread creates, updates and deletes customers. The clock ticks every few
// readings, so reads and writes share seconds all the time. Once the writer
// stops and the client syncs one last time, the replica must equal the
// database.
TEST(SqliteSyncStressTest, ReplicaConvergesUnderConcurrentWrites) {
  TempDirectory dir;
  std::atomic<std::int64_t> ticks{0};
  SqliteOptions sqlite;
  sqlite.clock = [&ticks] { return 1'700'000'000 + ticks.fetch_add(1) / 3; };
  Result<std::unique_ptr<Store>> opened = OpenSqliteStore(dir.File("sync.db"), {}, sqlite);
  ASSERT_TRUE(opened.ok()) << opened.status().message();
  Store& store = *opened.value();

  std::atomic<bool> done{false};
  auto write_randomly = [&] {
    std::mt19937 random(12345);
    std::vector<std::int64_t> live;
    for (int op = 0; op < 1500; ++op) {
      int choice = static_cast<int>(random() % 100);
      if (live.empty() || choice < 20) {
        Result<Customer> created = store.CreateCustomer(NamedCustomer("v" + std::to_string(op)));
        ASSERT_TRUE(created.ok()) << created.status().message();
        live.push_back(created->id);
      } else if (choice < 35) {
        std::size_t index = random() % live.size();
        ASSERT_TRUE(store.DeleteCustomer(live[index]).ok());
        live.erase(live.begin() + static_cast<std::ptrdiff_t>(index));
      } else {
        std::int64_t id = live[random() % live.size()];
        std::string name = "v" + std::to_string(op);
        Result<Customer> updated = store.UpdateCustomer(id, [&](Customer& c) {
          c.firstname = name;
          return Status::Ok();
        });
        ASSERT_TRUE(updated.ok()) << updated.status().message();
      }
    }
  };
  std::thread writer([&] {
    write_randomly();  // a failed ASSERT returns from here early
    done = true;
  });

  std::map<std::int64_t, std::string> replica;
  std::int64_t customers_since = std::numeric_limits<std::int64_t>::min();
  std::int64_t deletions_since = std::numeric_limits<std::int64_t>::min();
  auto sync_round = [&] {
    // Customers first, then deletions: a customer deleted between the two
    // reads is re-added by the first and dropped again by the second.
    std::int64_t timestamp = 0;
    for (auto& [id, name] : ReadChanged(store, customers_since, timestamp)) replica[id] = name;
    customers_since = timestamp;

    DeletionCursor cursor;
    std::int64_t deletions_timestamp = 0;
    while (true) {
      Result<std::int64_t> delivered = store.ScanDeletions(
          {"customers", deletions_since}, cursor, 7, deletions_timestamp,
          [&](const Deletion& d) { replica.erase(d.id); });
      ASSERT_TRUE(delivered.ok()) << delivered.status().message();
      if (delivered.value() < 7) break;
    }
    deletions_since = deletions_timestamp;
  };

  int rounds = 0;
  while (!done && rounds < 100000) {
    sync_round();
    ++rounds;
  }
  writer.join();
  sync_round();

  std::map<std::int64_t, std::string> actual;
  std::int64_t ignored = 0;
  actual = ReadChanged(store, std::numeric_limits<std::int64_t>::min(), ignored);
  EXPECT_GT(rounds, 1);
  EXPECT_EQ(replica, actual);
}

}  // namespace
}  // namespace cmfd
