// ApiKeyCache on a clock the tests move by hand: what it keeps, for how
// long, and how Authorize uses it with a real SQLite store.
#include "http/api_key_cache.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <memory>

#include "http/auth.h"
#include "util/api_key.h"

namespace cmfd {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A clock that moves only when a test advances it.
class ManualClock {
 public:
  ApiKeyCache::NowFunction AsFunction() {
    return [this] { return now_; };
  }
  void Advance(ApiKeyCache::Clock::duration step) { now_ += step; }

 private:
  ApiKeyCache::Clock::time_point now_{seconds(1000)};
};

// The key a client presents for the stored key named `name`.
std::string Presented(const std::string& name) { return name + "-secret"; }

ApiKey MakeKey(const std::string& name, bool read_only = false) {
  ApiKey key;
  key.id = 7;
  key.name = name;
  key.read_only = read_only;
  key.hash = HashApiKey(Presented(name));
  key.creation_date = 1700000000;
  return key;
}

// Stores the key named `name` as its presented key would be.
void InsertKey(ApiKeyCache& cache, const std::string& name, bool read_only = false) {
  cache.Insert(Presented(name), MakeKey(name, read_only));
}

TEST(ApiKeyCacheTest, FindsAnInsertedKeyUntilItsLifetimeEnds) {
  ManualClock clock;
  ApiKeyCache cache(seconds(5), clock.AsFunction());
  EXPECT_FALSE(cache.Find(Presented("shop")).has_value());

  InsertKey(cache, "shop", true);
  clock.Advance(milliseconds(4999));
  std::optional<ApiKey> found = cache.Find(Presented("shop"));
  ASSERT_TRUE(found.has_value());
  EXPECT_EQ(found->id, 7);
  EXPECT_EQ(found->name, "shop");
  EXPECT_TRUE(found->read_only);
  EXPECT_EQ(found->hash, HashApiKey(Presented("shop")));

  clock.Advance(milliseconds(1));
  EXPECT_FALSE(cache.Find(Presented("shop")).has_value());
}

TEST(ApiKeyCacheTest, LifetimeCountsFromTheLastInsert) {
  ManualClock clock;
  ApiKeyCache cache(seconds(5), clock.AsFunction());
  InsertKey(cache, "shop");
  clock.Advance(seconds(4));
  InsertKey(cache, "shop");
  clock.Advance(seconds(4));
  EXPECT_TRUE(cache.Find(Presented("shop")).has_value());
  clock.Advance(seconds(1));
  EXPECT_FALSE(cache.Find(Presented("shop")).has_value());
}

TEST(ApiKeyCacheTest, ZeroLifetimeKeepsNothing) {
  ManualClock clock;
  ApiKeyCache cache(seconds(0), clock.AsFunction());
  EXPECT_FALSE(cache.enabled());
  InsertKey(cache, "shop");
  EXPECT_FALSE(cache.Find(Presented("shop")).has_value());
}

TEST(ApiKeyCacheTest, KeysAreKeptApart) {
  ManualClock clock;
  ApiKeyCache cache(seconds(5), clock.AsFunction());
  InsertKey(cache, "shop");
  InsertKey(cache, "reports", true);
  EXPECT_EQ(cache.Find(Presented("shop"))->name, "shop");
  EXPECT_FALSE(cache.Find(Presented("shop"))->read_only);
  EXPECT_EQ(cache.Find(Presented("reports"))->name, "reports");
  EXPECT_TRUE(cache.Find(Presented("reports"))->read_only);
  EXPECT_FALSE(cache.Find(Presented("other")).has_value());
  // Neither the stored hash nor a prefix of the key finds an entry.
  EXPECT_FALSE(cache.Find(HashApiKey(Presented("shop"))).has_value());
  EXPECT_FALSE(cache.Find("shop").has_value());
}

TEST(ApiKeyCacheTest, StaysWithinItsBound) {
  ManualClock clock;
  ApiKeyCache cache(seconds(5), clock.AsFunction());
  for (std::size_t i = 0; i < ApiKeyCache::kMaxEntries; ++i) {
    InsertKey(cache, "key-" + std::to_string(i));
  }
  EXPECT_TRUE(cache.Find(Presented("key-0")).has_value());

  // One more key makes room by dropping the others; the new one is kept.
  InsertKey(cache, "one-more");
  EXPECT_TRUE(cache.Find(Presented("one-more")).has_value());
  EXPECT_FALSE(cache.Find(Presented("key-0")).has_value());
}

// Authorize with a cache in front of a real store.
class CachedAuthorizeTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "cmfd_api_key_cache_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    directory_ = pattern;
    Result<std::unique_ptr<Store>> store = OpenStore(directory_ + "/cmf.db", StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store.value());
    ASSERT_TRUE(store_->CreateApiKey("writer", HashApiKey(kWriteKey), false).ok());
    ASSERT_TRUE(store_->CreateApiKey("reports", HashApiKey(kReadKey), true).ok());
  }

  void TearDown() override {
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  Result<std::optional<ApiKey>> Check(ApiKeyCache& cache, Access access, const char* method,
                                      const std::string& key) {
    return Authorize(*store_, cache, access, method, key);
  }

  static constexpr const char* kWriteKey = "write-key-0123456789";
  static constexpr const char* kReadKey = "read-key-0123456789";

  std::string directory_;
  std::unique_ptr<Store> store_;
  ManualClock clock_;
};

TEST_F(CachedAuthorizeTest, RevokedKeyWorksUntilItsEntryExpires) {
  ApiKeyCache cache(seconds(5), clock_.AsFunction());
  ASSERT_TRUE(Check(cache, Access::kRead, "GET", kWriteKey).ok());
  ASSERT_TRUE(store_->RevokeApiKey("writer").ok());

  // Another process revoked it: this one learns of it when the entry expires.
  clock_.Advance(seconds(4));
  Result<std::optional<ApiKey>> stale = Check(cache, Access::kWrite, "POST", kWriteKey);
  ASSERT_TRUE(stale.ok());
  EXPECT_EQ(stale.value()->name, "writer");

  clock_.Advance(seconds(1));
  Result<std::optional<ApiKey>> revoked = Check(cache, Access::kRead, "GET", kWriteKey);
  EXPECT_EQ(revoked.status().code(), Code::kForbidden);
  EXPECT_EQ(revoked.status().message(), kInvalidKeyMessage);

  // The failed lookup is not kept: the next request looks again.
  ASSERT_TRUE(store_->CreateApiKey("writer", HashApiKey(kWriteKey), false).ok());
  EXPECT_TRUE(Check(cache, Access::kRead, "GET", kWriteKey).ok());
}

TEST_F(CachedAuthorizeTest, WithoutCacheRevocationIsImmediate) {
  ApiKeyCache cache(seconds(0), clock_.AsFunction());
  ASSERT_TRUE(Check(cache, Access::kRead, "GET", kWriteKey).ok());
  ASSERT_TRUE(store_->RevokeApiKey("writer").ok());
  EXPECT_EQ(Check(cache, Access::kRead, "GET", kWriteKey).status().code(), Code::kForbidden);
}

TEST_F(CachedAuthorizeTest, CachedReadOnlyKeyStillCannotWrite) {
  ApiKeyCache cache(seconds(5), clock_.AsFunction());
  ASSERT_TRUE(Check(cache, Access::kRead, "GET", kReadKey).ok());
  ASSERT_TRUE(cache.Find(kReadKey).has_value());

  Result<std::optional<ApiKey>> write = Check(cache, Access::kWrite, "PATCH", kReadKey);
  EXPECT_EQ(write.status().code(), Code::kForbidden);
  EXPECT_EQ(write.status().message(),
            "API key \"reports\" is read-only and cannot be used for PATCH requests");
  EXPECT_TRUE(Check(cache, Access::kWrite, "PATCH", kWriteKey).ok());
}

TEST_F(CachedAuthorizeTest, UnknownKeyIsNotKept) {
  ApiKeyCache cache(seconds(5), clock_.AsFunction());
  EXPECT_EQ(Check(cache, Access::kRead, "GET", "not-a-key").status().code(), Code::kForbidden);
  EXPECT_FALSE(cache.Find("not-a-key").has_value());

  // A key created after a failed attempt works at once.
  ASSERT_TRUE(store_->CreateApiKey("late", HashApiKey("not-a-key"), false).ok());
  EXPECT_TRUE(Check(cache, Access::kRead, "GET", "not-a-key").ok());
}

}  // namespace
}  // namespace cmfd
