#include "storage/sqlite/sqlite_paging.h"

#include <algorithm>
#include <vector>

namespace cmfd {

std::int64_t CheckpointStride(std::int64_t total_rows) {
  constexpr std::int64_t kMinStride = 128;
  const auto spread = total_rows / static_cast<std::int64_t>(PageCache::kMaxCheckpoints / 2);
  return std::max(kMinStride, spread + 1);
}

Result<PageStart> LocatePage(const PagedShape& paged, std::int64_t offset, std::int64_t stride,
                             int key_columns, const WalkQuery& walk) {
  PageStart start;
  std::int64_t rank = 0;
  if (std::optional<Checkpoint> found =
          paged.cache.FindCheckpoint(paged.shape, paged.version, offset)) {
    rank = found->rank;
    start.after = found->key;
  }
  start.skip = offset - rank;
  if (start.skip <= stride) return start;

  Result<SqliteStatement> stmt = walk(start.after, start.skip);
  if (!stmt.ok()) return stmt.status();
  std::vector<Checkpoint> learned;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    ++rank;
    PageKey key{stmt->ColumnInt(0), key_columns > 1 ? stmt->ColumnInt(1) : 0};
    start.after = key;
    if (rank % stride == 0) learned.push_back({rank, key});
  }
  // The walk stops short of `offset` only when the page lies past the last
  // row. The page query then skips the remainder and returns nothing.
  start.skip = offset - rank;
  if (start.skip == 0 && (learned.empty() || learned.back().rank != rank)) {
    learned.push_back({rank, *start.after});
  }
  paged.cache.AddCheckpoints(paged.shape, paged.version, learned);
  return start;
}

void RecordPageEnd(const PagedShape& paged, std::int64_t offset, std::int64_t rows,
                   const PageKey& last_key) {
  if (rows <= 0) return;
  paged.cache.AddCheckpoints(paged.shape, paged.version, {{offset + rows, last_key}});
}

}  // namespace cmfd
