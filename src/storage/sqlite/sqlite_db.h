// SqliteDb and SqliteStatement: a small RAII layer over the SQLite C API.
//
// A SqliteDb owns one connection and a cache of prepared statements, so that
// every SQL text is compiled once per connection and then reused. A
// connection is not thread-safe: one thread at a time uses it (connections
// are opened with SQLITE_OPEN_NOMUTEX, and the store hands each one to a
// single thread).
//
// Errors become a Status. Busy, locked, I/O and full-disk errors are
// kUnavailable, because the request may succeed later. Everything else is
// kInternal: the store checks every rule a client can break before it
// writes, so a constraint error that reaches SQLite is a server fault.
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "util/status.h"

// Returns the Status of `expr` from the enclosing function when it is not ok.
#define CMFD_SQLITE_TRY(expr)                 \
  do {                                        \
    ::cmfd::Status cmfd_status_ = (expr);     \
    if (!cmfd_status_.ok()) return cmfd_status_; \
  } while (0)

namespace cmfd {

// Maps an SQLite result code and message to a Status; `context` names the
// operation ("prepare", "step", "open /data/cmf.db").
Status SqliteStatus(int result_code, std::string_view context, std::string_view message);

// A prepared statement in use, as a movable handle. Its destructor resets the
// statement and clears its bindings, so the next user of the cached
// statement starts clean and a forgotten step keeps no read snapshot open.
// Binding indexes are 1-based and column indexes 0-based, as in the C API.
class SqliteStatement {
 public:
  SqliteStatement() = default;
  // `in_use` is the cache's flag for a cached statement (cleared on release),
  // or nullptr for a private statement that this handle finalizes.
  SqliteStatement(sqlite3_stmt* stmt, bool* in_use) : stmt_(stmt), in_use_(in_use) {}
  SqliteStatement(SqliteStatement&& other) noexcept;
  SqliteStatement& operator=(SqliteStatement&& other) noexcept;
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;
  ~SqliteStatement();

  // Binding never fails on its own: a bind error is kept and returned by the
  // next Step() or Run(). Text is copied (SQLITE_TRANSIENT).
  void BindInt(int index, std::int64_t value);
  void BindBool(int index, bool value) { BindInt(index, value ? 1 : 0); }
  void BindText(int index, std::string_view value);
  void BindNull(int index);
  void BindOptionalText(int index, const std::optional<std::string>& value);
  void BindOptionalInt(int index, const std::optional<std::int64_t>& value);

  // Advances to the next row: true when a row is available, false when the
  // statement has finished.
  Result<bool> Step();

  // Steps until the statement finishes, for statements without result rows.
  Status Run();

  bool IsNull(int column) const { return sqlite3_column_type(stmt_, column) == SQLITE_NULL; }
  std::int64_t ColumnInt(int column) const { return sqlite3_column_int64(stmt_, column); }
  bool ColumnBool(int column) const { return sqlite3_column_int64(stmt_, column) != 0; }
  // Text accessors return "" (or nullopt) for NULL and throw std::bad_alloc
  // when SQLite runs out of memory converting the value. A view is valid
  // until the next Step() or the end of this handle.
  std::string_view ColumnView(int column) const;
  std::string ColumnText(int column) const { return std::string(ColumnView(column)); }
  std::optional<std::string> ColumnOptionalText(int column) const;
  std::optional<std::int64_t> ColumnOptionalInt(int column) const;

 private:
  void Release();

  sqlite3_stmt* stmt_ = nullptr;
  bool* in_use_ = nullptr;
  int bind_error_ = SQLITE_OK;
};

// Connection settings applied by SqliteDb::Open.
struct SqliteConnectionOptions {
  int busy_timeout_ms = 5000;
  std::int64_t mmap_size = 0;               // bytes mapped for reads
  std::int64_t cache_size_kib = 8 << 10;    // page cache per connection
  // PRAGMA wal_autocheckpoint of a connection that writes; 0 keeps SQLite's
  // default (1000 pages).
  int wal_autocheckpoint_pages = 0;
  std::string synchronous = "NORMAL";       // OFF, NORMAL, FULL or EXTRA
  bool query_only = false;                  // reject writes on this connection
};

class SqliteDb {
 public:
  // Opens (creating when missing) the database file at `path` and applies
  // `options` and foreign_keys=ON. The first call in the process switches off
  // SQLite's memory statistics, which cost a global mutex on every allocation.
  static Result<std::unique_ptr<SqliteDb>> Open(const std::string& path,
                                               const SqliteConnectionOptions& options);

  SqliteDb(const SqliteDb&) = delete;
  SqliteDb& operator=(const SqliteDb&) = delete;
  ~SqliteDb();

  // Returns the cached statement for `sql`, compiling it on first use. When
  // that statement is already in use further up the stack, returns a fresh
  // uncached one instead, so nested use is safe.
  Result<SqliteStatement> Prepare(std::string_view sql);

  // Runs one statement without parameters or result rows through the
  // statement cache (BEGIN, COMMIT, ...).
  Status Run(std::string_view sql);

  // Runs one or more statements without parameters, uncached; result rows
  // are discarded.
  Status Exec(const char* sql);

  std::int64_t LastInsertId() const { return sqlite3_last_insert_rowid(db_); }
  int Changes() const { return sqlite3_changes(db_); }
  bool InTransaction() const { return sqlite3_get_autocommit(db_) == 0; }
  sqlite3* handle() const { return db_; }

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}

  // Transparent hashing, so that a lookup by string_view allocates nothing.
  struct SqlHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view sql) const { return std::hash<std::string_view>{}(sql); }
  };

  struct CachedStatement {
    sqlite3_stmt* stmt = nullptr;
    bool in_use = false;  // a SqliteStatement handle refers to it
  };

  using Statements = std::unordered_map<std::string, CachedStatement, SqlHash, std::equal_to<>>;

  // A cache entry last found for the SQL text at address `sql`. Callers
  // mostly pass the same string constants, and this lookup skips hashing
  // them. A hit is confirmed by comparing the text, because a text built at
  // run time may leave its address to another text.
  struct RecentLookup {
    const char* sql = nullptr;
    Statements::value_type* entry = nullptr;
  };
  static constexpr std::size_t kRecentLookups = 16;

  // Returns the cache entry for `sql`, or nullptr when it has none.
  Statements::value_type* FindCached(std::string_view sql);

  sqlite3* db_;
  // Node-based, and entries are removed only by the destructor, so the
  // address of an entry and of its `in_use` stays valid.
  Statements statements_;
  std::array<RecentLookup, kRecentLookups> recent_{};
};

}  // namespace cmfd
