// PageCache: what the SQLite store remembers between list requests, so that
// a deep page does not cost a scan of every row before it and a filtered
// total is not recounted on every page.
//
// Checkpoints. A list is a filter ("shape") and an order: customers by id,
// activities by (activity_date, id). A checkpoint (rank, key) records that
// exactly `rank` rows of the shape sort at or before `key`. Page p of size n
// starts after rank (p-1)*n. A list takes the nearest checkpoint at or below
// that rank and seeks past its key through the order's index, so it skips
// only the rows in between instead of every earlier row with OFFSET. The
// rows are the ones OFFSET would give, as long as the checkpoint is exact
// for the snapshot that uses it.
//
// Versions. Every entry is tagged with a version read from the change
// counters of the database (the row_counts table) in the same snapshot as
// the rows it describes; a snapshot may use an entry only when its own
// version is equal. The counters move with every write that could change
// the entry (see the version 2 migration in sqlite_schema.cc), so a stale
// entry is never used. A newer version replaces an entry; an older one (a
// snapshot taken before the entry's) neither uses nor changes it.
//
// Memory is bounded, least recently used shapes first out: checkpoints of
// at most kMaxCheckpointShapes shapes, kMaxCheckpoints each (24 bytes a
// checkpoint, so about 12 MiB at most), and counts of at most
// kMaxCountShapes shapes (a key and a few integers each).
#pragma once

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace cmfd {

// A position in a list order: (id, 0) for customers, (activity_date, id)
// for activities. Compared lexicographically.
using PageKey = std::array<std::int64_t, 2>;

struct Checkpoint {
  std::int64_t rank = 0;  // rows of the shape at or before `key`
  PageKey key{};
};

// Counter values that identify the state of a table for one kind of entry,
// compared lexicographically: a later state compares greater.
using CacheVersion = std::array<std::int64_t, 2>;

// The shape of the customer list without filters.
inline constexpr const char* kAllCustomersShape = "customers";

class PageCache {
 public:
  static constexpr std::size_t kMaxCheckpointShapes = 64;
  static constexpr std::size_t kMaxCheckpoints = 8192;
  static constexpr std::size_t kMaxCountShapes = 1024;

  // The checkpoint of `shape` at `version` with the greatest rank at most
  // `rank`, or nullopt when none is known.
  std::optional<Checkpoint> FindCheckpoint(const std::string& shape, const CacheVersion& version,
                                           std::int64_t rank);

  // Records checkpoints of `shape` at `version`, found in a snapshot of that
  // version.
  void AddCheckpoints(const std::string& shape, const CacheVersion& version,
                      const std::vector<Checkpoint>& checkpoints);

  // Moves the checkpoints of `shape` past a delete of the row at `key` that
  // raised the first counter of the shape's version from version[0] - 1 to
  // version[0]. Checkpoints of another version are left to expire.
  void ApplyDelete(const std::string& shape, const CacheVersion& version, const PageKey& key);

  // The row count of `shape` at `version`, or nullopt when not known.
  std::optional<std::int64_t> FindCount(const std::string& shape, const CacheVersion& version);
  void AddCount(const std::string& shape, const CacheVersion& version, std::int64_t count);

 private:
  struct Checkpoints {
    CacheVersion version{};
    std::uint64_t last_used = 0;
    std::vector<Checkpoint> sorted;  // ascending by rank and by key
  };
  struct Count {
    CacheVersion version{};
    std::uint64_t last_used = 0;
    std::int64_t rows = 0;
  };

  // Returns the entry of `shape` to read or write at `version`: nullptr when
  // the stored entry is newer, a cleared entry when it was older.
  template <typename Entry>
  Entry* EntryAt(std::unordered_map<std::string, Entry>& entries, std::size_t max_entries,
                 const std::string& shape, const CacheVersion& version, bool create);

  std::mutex mutex_;
  std::uint64_t clock_ = 0;  // guarded by mutex_; orders uses for eviction
  std::unordered_map<std::string, Checkpoints> checkpoints_;  // guarded by mutex_
  std::unordered_map<std::string, Count> counts_;             // guarded by mutex_
};

}  // namespace cmfd
