#include "storage/sqlite/sqlite_db.h"

#include <mutex>
#include <new>
#include <utility>

namespace cmfd {

Status SqliteStatus(int result_code, std::string_view context, std::string_view message) {
  std::string text = "SQLite ";
  text += context;
  text += " failed: ";
  text += message.empty() ? std::string_view(sqlite3_errstr(result_code)) : message;

  switch (result_code & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_PROTOCOL:
      return Status::Unavailable(std::move(text));
    default:
      return Status::Internal(std::move(text));
  }
}

// ---- SqliteStatement ----

SqliteStatement::SqliteStatement(SqliteStatement&& other) noexcept
    : stmt_(std::exchange(other.stmt_, nullptr)),
      in_use_(std::exchange(other.in_use_, nullptr)),
      bind_error_(other.bind_error_) {}

SqliteStatement& SqliteStatement::operator=(SqliteStatement&& other) noexcept {
  if (this != &other) {
    Release();
    stmt_ = std::exchange(other.stmt_, nullptr);
    in_use_ = std::exchange(other.in_use_, nullptr);
    bind_error_ = other.bind_error_;
  }
  return *this;
}

SqliteStatement::~SqliteStatement() { Release(); }

void SqliteStatement::Release() {
  if (stmt_ == nullptr) return;
  if (in_use_ == nullptr) {
    sqlite3_finalize(stmt_);
  } else {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
    *in_use_ = false;
  }
  stmt_ = nullptr;
  in_use_ = nullptr;
}

void SqliteStatement::BindInt(int index, std::int64_t value) {
  int rc = sqlite3_bind_int64(stmt_, index, value);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void SqliteStatement::BindText(int index, std::string_view value) {
  int rc = sqlite3_bind_text64(stmt_, index, value.data(), value.size(), SQLITE_TRANSIENT,
                               SQLITE_UTF8);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void SqliteStatement::BindNull(int index) {
  int rc = sqlite3_bind_null(stmt_, index);
  if (rc != SQLITE_OK && bind_error_ == SQLITE_OK) bind_error_ = rc;
}

void SqliteStatement::BindOptionalText(int index, const std::optional<std::string>& value) {
  if (value) {
    BindText(index, *value);
  } else {
    BindNull(index);
  }
}

void SqliteStatement::BindOptionalInt(int index, const std::optional<std::int64_t>& value) {
  if (value) {
    BindInt(index, *value);
  } else {
    BindNull(index);
  }
}

Result<bool> SqliteStatement::Step() {
  if (bind_error_ != SQLITE_OK) {
    return SqliteStatus(bind_error_, "bind", sqlite3_errmsg(sqlite3_db_handle(stmt_)));
  }
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqliteStatus(rc, "step", sqlite3_errmsg(sqlite3_db_handle(stmt_)));
}

Status SqliteStatement::Run() {
  while (true) {
    Result<bool> row = Step();
    if (!row.ok()) return row.status();
    if (!row.value()) return Status::Ok();
  }
}

std::string_view SqliteStatement::ColumnView(int column) const {
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return {};
    throw std::bad_alloc();
  }
  int size = sqlite3_column_bytes(stmt_, column);
  return std::string_view(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::optional<std::string> SqliteStatement::ColumnOptionalText(int column) const {
  // sqlite3_column_text returns NULL for an SQL NULL and when it runs out of
  // memory, so the type is checked only on that rare path. Out of memory
  // must not read as null, or an update would store the null.
  const unsigned char* text = sqlite3_column_text(stmt_, column);
  if (text == nullptr) {
    if (sqlite3_column_type(stmt_, column) == SQLITE_NULL) return std::nullopt;
    throw std::bad_alloc();
  }
  int size = sqlite3_column_bytes(stmt_, column);
  return std::string(reinterpret_cast<const char*>(text), static_cast<std::size_t>(size));
}

std::optional<std::int64_t> SqliteStatement::ColumnOptionalInt(int column) const {
  if (IsNull(column)) return std::nullopt;
  return ColumnInt(column);
}

// ---- SqliteDb ----

namespace {

// SQLITE_CONFIG_* calls are only allowed before the library initializes, so
// this runs once before the first connection of the process. A failure means
// another part of the process initialized SQLite first; the statistics then
// stay on, which is slower but correct.
void ConfigureLibraryOnce() {
  static std::once_flag once;
  std::call_once(once, [] { sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0); });
}

}  // namespace

Result<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path,
                                                 const SqliteConnectionOptions& options) {
  ConfigureLibraryOnce();

  sqlite3* raw = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  std::unique_ptr<SqliteDb> db(new SqliteDb(raw));
  if (rc != SQLITE_OK) {
    std::string message = raw != nullptr ? sqlite3_errmsg(raw) : sqlite3_errstr(rc);
    return SqliteStatus(rc, "open " + path, message);
  }
  sqlite3_extended_result_codes(raw, 1);

  rc = sqlite3_busy_timeout(raw, options.busy_timeout_ms);
  if (rc != SQLITE_OK) return SqliteStatus(rc, "busy_timeout", sqlite3_errmsg(raw));

  // Values are formatted by us from integers and a fixed set of words, so the
  // PRAGMA text cannot carry anything unexpected.
  const std::string& sync = options.synchronous;
  if (sync != "OFF" && sync != "NORMAL" && sync != "FULL" && sync != "EXTRA") {
    return Status::Internal("SQLite synchronous must be OFF, NORMAL, FULL or EXTRA, not \"" +
                            sync + "\"");
  }
  std::string pragmas = "PRAGMA foreign_keys = ON;"
                        "PRAGMA temp_store = MEMORY;"
                        "PRAGMA synchronous = " + sync + ";"
                        "PRAGMA mmap_size = " + std::to_string(options.mmap_size) + ";"
                        "PRAGMA cache_size = -" + std::to_string(options.cache_size_kib) + ";";
  if (options.query_only) pragmas += "PRAGMA query_only = ON;";
  if (options.wal_autocheckpoint_pages > 0) {
    // After a checkpoint that restarts the log, SQLite cuts the log file
    // back to this size, so a burst of writes does not keep it large.
    const std::int64_t log_bytes = std::int64_t{options.wal_autocheckpoint_pages} * 4096;
    pragmas += "PRAGMA wal_autocheckpoint = " + std::to_string(options.wal_autocheckpoint_pages) +
               ";PRAGMA journal_size_limit = " + std::to_string(log_bytes) + ";";
  }
  CMFD_SQLITE_TRY(db->Exec(pragmas.c_str()));
  return db;
}

SqliteDb::~SqliteDb() {
  for (auto& [sql, cached] : statements_) sqlite3_finalize(cached.stmt);
  sqlite3_close_v2(db_);
}

SqliteDb::Statements::value_type* SqliteDb::FindCached(std::string_view sql) {
  // The low three bits of an address vary little (string constants are
  // often aligned), so the bits above them pick the slot.
  RecentLookup& recent =
      recent_[(reinterpret_cast<std::uintptr_t>(sql.data()) >> 3) % kRecentLookups];
  if (recent.entry != nullptr && recent.sql == sql.data() && recent.entry->first == sql) {
    return recent.entry;
  }

  auto it = statements_.find(sql);
  if (it == statements_.end()) return nullptr;
  recent = {sql.data(), &*it};
  return &*it;
}

Result<SqliteStatement> SqliteDb::Prepare(std::string_view sql) {
  Statements::value_type* entry = FindCached(sql);
  if (entry != nullptr && !entry->second.in_use) {
    entry->second.in_use = true;
    return SqliteStatement(entry->second.stmt, &entry->second.in_use);
  }

  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()),
                              SQLITE_PREPARE_PERSISTENT, &stmt, nullptr);
  if (rc != SQLITE_OK) {
    return SqliteStatus(rc, "prepare", std::string(sqlite3_errmsg(db_)) + " in: " +
                                           std::string(sql));
  }

  // A cached statement in use means nested use: hand out a private copy.
  if (entry != nullptr) return SqliteStatement(stmt, nullptr);
  CachedStatement& cached = statements_[std::string(sql)];
  cached.stmt = stmt;
  cached.in_use = true;
  return SqliteStatement(stmt, &cached.in_use);
}

Status SqliteDb::Run(std::string_view sql) {
  Result<SqliteStatement> stmt = Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  return stmt->Run();
}

Status SqliteDb::Exec(const char* sql) {
  char* error = nullptr;
  int rc = sqlite3_exec(db_, sql, nullptr, nullptr, &error);
  if (rc == SQLITE_OK) return Status::Ok();
  std::string message = error != nullptr ? error : sqlite3_errmsg(db_);
  sqlite3_free(error);
  return SqliteStatus(rc, "exec", message);
}

}  // namespace cmfd
