// Test support for the SQLite store: a fresh database file per test in its
// own temporary directory, and a clock the test sets by hand.
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace cmfd {

// A directory under the test temp dir, removed with everything in it.
class TempDirectory {
 public:
  TempDirectory() {
    std::string pattern = testing::TempDir() + "cmfd_sqlite_XXXXXX";
    char* made = mkdtemp(pattern.data());
    EXPECT_NE(made, nullptr) << "mkdtemp failed for " << pattern;
    path_ = pattern;
  }
  ~TempDirectory() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  std::string File(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// A clock that only moves when the test moves it.
class ManualClock {
 public:
  explicit ManualClock(std::int64_t start) : now_(start) {}
  void Set(std::int64_t seconds) { now_.store(seconds); }
  void Advance(std::int64_t seconds) { now_.fetch_add(seconds); }
  std::int64_t Get() const { return now_.load(); }
  std::function<std::int64_t()> Source() {
    return [this] { return now_.load(); };
  }

 private:
  std::atomic<std::int64_t> now_;
};

// A test fixture with one open store on a new file and a manual clock.
class SqliteStoreFixture : public testing::Test {
 protected:
  static constexpr std::int64_t kStart = 1'700'000'000;

  SqliteStoreFixture() : clock_(kStart) {}

  void SetUp() override { Open(); }

  // (Re)opens the store on the fixture's file with `options`.
  void Open(const StoreOptions& options = {}) {
    store_.reset();
    SqliteOptions sqlite;
    sqlite.clock = clock_.Source();
    Result<std::unique_ptr<Store>> opened = OpenSqliteStore(path(), options, sqlite);
    ASSERT_TRUE(opened.ok()) << opened.status().message();
    store_ = std::move(opened.value());
  }

  std::string path() const { return dir_.File("cmf.db"); }
  Store& store() { return *store_; }

  TempDirectory dir_;
  ManualClock clock_;
  std::unique_ptr<Store> store_;
};

}  // namespace cmfd
