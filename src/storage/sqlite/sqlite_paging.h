// Locating a page of a list through the page cache (sqlite_page_cache.h),
// shared by the customer and activity lists of the SQLite store.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "storage/sqlite/sqlite_db.h"
#include "storage/sqlite/sqlite_page_cache.h"
#include "util/status.h"

namespace cmfd {

// The start of a page: `skip` rows into those sorting after `after` (all
// rows when `after` is empty). The page query adds the seek to its filter
// and uses `skip` as its OFFSET.
struct PageStart {
  std::optional<PageKey> after;
  std::int64_t skip = 0;
};

// Prepares and binds the walk query of a list: the key columns (1 or 2
// integers) of the rows of the shape that sort after `after` (all rows when
// empty), in list order, at most `limit` of them.
using WalkQuery =
    std::function<Result<SqliteStatement>(const std::optional<PageKey>& after, std::int64_t limit)>;

// One list request's view of the page cache: a shape at the version of the
// request's snapshot.
struct PagedShape {
  PageCache& cache;
  std::string shape;
  CacheVersion version;
};

// The distance between the checkpoints that a walk records for a list of
// `total_rows` rows: at least 128 rows, and at most about half of
// PageCache::kMaxCheckpoints checkpoints over the whole list.
std::int64_t CheckpointStride(std::int64_t total_rows);

// Finds where the page at `offset` (rows before it) starts, from the cached
// checkpoint nearest below `offset`. When that leaves more than `stride`
// rows to skip, walks them with `walk`, one pass over a narrow index that
// costs less than skipping full rows. The walk records a checkpoint every
// `stride` rows, so later pages of the same shape, in any order, skip fewer
// than `stride` rows.
Result<PageStart> LocatePage(const PagedShape& paged, std::int64_t offset, std::int64_t stride,
                             int key_columns, const WalkQuery& walk);

// Records the end of a page served from `offset` with `rows` rows, the last
// of which had `last_key`: the next page starts right after it.
void RecordPageEnd(const PagedShape& paged, std::int64_t offset, std::int64_t rows,
                   const PageKey& last_key);

}  // namespace cmfd
