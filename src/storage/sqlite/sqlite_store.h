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
  int busy_timeout_ms = 5000;  // wait for another process's write lock
  // Bytes of the file mapped for reads; 0 reads through the page cache. A
  // mapping is torn down and rebuilt by every read that follows a commit
  // of another connection, which costs more than it saves while writes go
  // on, and its pages count in the resident set of the process.
  std::int64_t mmap_size = 0;
  // Page cache of each reader connection, which grows up to this size.
  // SQLite empties it whenever another connection has committed, so a
  // large one pays off only on a database that rarely changes.
  std::int64_t reader_cache_kib = 8 << 10;
  std::int64_t writer_cache_kib = 32 << 10;  // the writer keeps its cache across commits
  // WAL pages after which a commit copies the log back into the database
  // file (PRAGMA wal_autocheckpoint). A checkpoint writes each changed page
  // once however often it changed since the last one, so a longer interval
  // writes less. The log file grows to about 4 KiB per page.
  int wal_autocheckpoint_pages = 10000;
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
