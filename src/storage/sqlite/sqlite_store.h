// The SQLite backend of Store: one database file in WAL mode, one writer
// connection that commits concurrent writes in groups, and a pool of reader
// connections.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "storage/store.h"

namespace cmfd {

// Settings of the SQLite backend that the configuration file does not set.
struct SqliteOptions {
  // PRAGMA synchronous of the writer (OFF, NORMAL, FULL or EXTRA), which
  // overrides StoreOptions::durability; empty means the one durability maps
  // to (FULL, NORMAL or OFF).
  std::string synchronous;
  int busy_timeout_ms = 5000;                // wait for another process's write lock
  std::int64_t mmap_size = 256 << 20;        // bytes of the file mapped for reads
  std::int64_t cache_size_kib = 64 << 10;    // page cache per connection
  // Source of the store's clock in epoch seconds; empty means the system
  // clock. Tests set it to control time.
  std::function<std::int64_t()> clock;
};

// Opens the SQLite database at `path` (created when missing) and brings its
// schema up to date. Internal error when the file's schema is newer than
// this binary, when the file is not a database, or when the customer schema
// in `options` names an unknown duplicate-check field.
Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options,
                                               const SqliteOptions& sqlite = {});

}  // namespace cmfd
