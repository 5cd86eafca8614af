#include "storage/sqlite/sqlite_page_cache.h"

#include <algorithm>

namespace cmfd {

template <typename Entry>
Entry* PageCache::EntryAt(std::unordered_map<std::string, Entry>& entries,
                          std::size_t max_entries, const std::string& shape,
                          const CacheVersion& version, bool create) {
  auto it = entries.find(shape);
  if (it == entries.end()) {
    if (!create) return nullptr;
    if (entries.size() >= max_entries) {
      auto oldest =
          std::min_element(entries.begin(), entries.end(), [](const auto& a, const auto& b) {
            return a.second.last_used < b.second.last_used;
          });
      entries.erase(oldest);
    }
    it = entries.emplace(shape, Entry{}).first;
    it->second.version = version;
  }

  Entry& entry = it->second;
  if (version < entry.version) return nullptr;
  if (entry.version < version) {
    if (!create) return nullptr;
    entry = Entry{};
    entry.version = version;
  }
  entry.last_used = ++clock_;
  return &entry;
}

std::optional<Checkpoint> PageCache::FindCheckpoint(const std::string& shape,
                                                    const CacheVersion& version,
                                                    std::int64_t rank) {
  std::lock_guard<std::mutex> lock(mutex_);
  Checkpoints* entry =
      EntryAt(checkpoints_, kMaxCheckpointShapes, shape, version, /*create=*/false);
  if (entry == nullptr) return std::nullopt;
  const std::vector<Checkpoint>& sorted = entry->sorted;
  auto after = std::upper_bound(sorted.begin(), sorted.end(), rank,
                                [](std::int64_t r, const Checkpoint& c) { return r < c.rank; });
  if (after == sorted.begin()) return std::nullopt;
  return *(after - 1);
}

void PageCache::AddCheckpoints(const std::string& shape, const CacheVersion& version,
                               const std::vector<Checkpoint>& checkpoints) {
  if (checkpoints.empty()) return;
  std::lock_guard<std::mutex> lock(mutex_);
  Checkpoints* entry =
      EntryAt(checkpoints_, kMaxCheckpointShapes, shape, version, /*create=*/true);
  if (entry == nullptr) return;
  std::vector<Checkpoint>& sorted = entry->sorted;
  for (const Checkpoint& checkpoint : checkpoints) {
    if (sorted.size() >= kMaxCheckpoints) break;
    auto at = std::lower_bound(sorted.begin(), sorted.end(), checkpoint.rank,
                               [](const Checkpoint& c, std::int64_t r) { return c.rank < r; });
    // Two checkpoints of one rank are both exact (no row lies between their
    // keys), so the one already there stays.
    if (at != sorted.end() && at->rank == checkpoint.rank) continue;
    sorted.insert(at, checkpoint);
  }
}

void PageCache::ApplyDelete(const std::string& shape, const CacheVersion& version,
                            const PageKey& key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = checkpoints_.find(shape);
  if (it == checkpoints_.end()) return;
  Checkpoints& entry = it->second;
  CacheVersion before = version;
  --before[0];
  if (entry.version != before) return;

  // The deleted row sorted at or before every checkpoint whose key is not
  // below its own, so each of those now has one row fewer before it. Ranks
  // stay in order; two checkpoints that now share a rank are both exact,
  // and the one with the greater key is dropped.
  std::vector<Checkpoint>& sorted = entry.sorted;
  for (Checkpoint& checkpoint : sorted) {
    if (!(checkpoint.key < key)) --checkpoint.rank;
  }
  auto same_rank = [](const Checkpoint& a, const Checkpoint& b) { return a.rank == b.rank; };
  sorted.erase(std::unique(sorted.begin(), sorted.end(), same_rank), sorted.end());
  entry.version = version;
}

std::optional<std::int64_t> PageCache::FindCount(const std::string& shape,
                                                 const CacheVersion& version) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto it = counts_.find(shape);
  if (it == counts_.end() || it->second.version != version) return std::nullopt;
  it->second.last_used = ++clock_;
  return it->second.rows;
}

void PageCache::AddCount(const std::string& shape, const CacheVersion& version,
                         std::int64_t count) {
  std::lock_guard<std::mutex> lock(mutex_);
  Count* entry = EntryAt(counts_, kMaxCountShapes, shape, version, /*create=*/true);
  if (entry != nullptr) entry->rows = count;
}

}  // namespace cmfd
