// Opening the SQLite store, its connection pool and its transactions.
#include "storage/sqlite/sqlite_store.h"

#include <sodium.h>
#include <spdlog/spdlog.h>

#include <limits>
#include <utility>

#include "storage/sqlite/sqlite_schema.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

Result<std::optional<std::int64_t>> PageOffset(const PageRequest& page) {
  if (page.page < 1) {
    return Status::Invalid("page must be at least 1, got " + std::to_string(page.page));
  }
  if (page.page_size < 1) {
    return Status::Invalid("pageSize must be at least 1, got " + std::to_string(page.page_size));
  }
  if (page.page - 1 > std::numeric_limits<std::int64_t>::max() / page.page_size) {
    return std::optional<std::int64_t>();
  }
  return std::optional<std::int64_t>((page.page - 1) * page.page_size);
}

Status NotFoundStatus(const char* entity, std::int64_t id) {
  return Status::NotFound(std::string(entity) + " with ID " + std::to_string(id) +
                          " was not found");
}

Result<std::unique_ptr<Store>> OpenSqliteStore(const std::string& path,
                                               const StoreOptions& options,
                                               const SqliteOptions& sqlite) {
  auto store = std::make_unique<SqliteStore>(path, options, sqlite);
  CMFD_SQLITE_TRY(store->Initialize());
  return std::unique_ptr<Store>(std::move(store));
}

SqliteStore::SqliteStore(std::string path, StoreOptions options, SqliteOptions sqlite)
    : path_(std::move(path)),
      options_(std::move(options)),
      sqlite_(std::move(sqlite)),
      clock_(sqlite_.clock) {
  if (options_.pool_size > 0) max_idle_readers_ = static_cast<std::size_t>(options_.pool_size);
}

SqliteStore::~SqliteStore() = default;

Status SqliteStore::Initialize() {
  // Every connection of an in-memory or temporary database would see its own
  // empty database, so the pool needs a file.
  if (path_.empty() || path_ == ":memory:" || path_.rfind("file::memory:", 0) == 0) {
    return Status::Invalid("SQLite database must be a file path, got \"" + path_ + "\"");
  }
  if (sodium_init() < 0) return Status::Internal("libsodium failed to initialize");
  CMFD_SQLITE_TRY(ResolveCustomerSchema());

  SqliteConnectionOptions connection;
  connection.busy_timeout_ms = sqlite_.busy_timeout_ms;
  connection.mmap_size = sqlite_.mmap_size;
  connection.cache_size_kib = sqlite_.writer_cache_kib;
  connection.wal_autocheckpoint_pages = sqlite_.wal_autocheckpoint_pages;
  connection.synchronous = sqlite_.synchronous;
  if (connection.synchronous.empty()) {
    switch (options_.durability) {
      case Durability::kFull: connection.synchronous = "FULL"; break;
      case Durability::kNormal: connection.synchronous = "NORMAL"; break;
      case Durability::kOff: connection.synchronous = "OFF"; break;
    }
  }
  Result<std::unique_ptr<SqliteDb>> writer = SqliteDb::Open(path_, connection);
  if (!writer.ok()) return writer.status();
  writer_ = std::move(writer.value());

  // WAL lets readers keep reading while the writer writes. The mode is
  // stored in the file, so this only changes a new or foreign database.
  Result<SqliteStatement> wal = writer_->Prepare("PRAGMA journal_mode = WAL");
  if (!wal.ok()) return wal.status();
  Result<bool> row = wal->Step();
  if (!row.ok()) return row.status();
  if (!row.value() || wal->ColumnView(0) != "wal") {
    return Status::Internal("SQLite database " + path_ + " could not be switched to WAL mode");
  }
  wal = SqliteStatement();  // release the statement before the migration transaction

  return MigrateSqliteSchema(*writer_, clock_.Now());
}

// ---- readers ----

Result<SqliteStore::Reader> SqliteStore::LeaseReader() {
  {
    std::lock_guard<std::mutex> lock(readers_mutex_);
    if (!idle_readers_.empty()) {
      std::unique_ptr<SqliteDb> db = std::move(idle_readers_.back());
      idle_readers_.pop_back();
      return Reader(this, std::move(db));
    }
  }

  // Opened outside the lock: opening takes a file lock and runs PRAGMAs.
  SqliteConnectionOptions connection;
  connection.busy_timeout_ms = sqlite_.busy_timeout_ms;
  connection.mmap_size = sqlite_.mmap_size;
  connection.cache_size_kib = sqlite_.reader_cache_kib;
  connection.query_only = true;
  Result<std::unique_ptr<SqliteDb>> db = SqliteDb::Open(path_, connection);
  if (!db.ok()) return db.status();
  return Reader(this, std::move(db.value()));
}

void SqliteStore::ReturnReader(std::unique_ptr<SqliteDb> db) {
  std::lock_guard<std::mutex> lock(readers_mutex_);
  // Beyond the limit the connection closes; a burst of threads leaves at most
  // max_idle_readers_ connections (and their page caches) behind.
  if (idle_readers_.size() < max_idle_readers_) idle_readers_.push_back(std::move(db));
}

SqliteStore::Reader::~Reader() {
  if (db_ == nullptr) return;
  if (db_->InTransaction()) {
    Status rollback = db_->Run("ROLLBACK");
    if (!rollback.ok()) {
      spdlog::error("closing an SQLite reader connection of {}: {}", store_->path_,
                    rollback.message());
      return;
    }
  }
  store_->ReturnReader(std::move(db_));
}

Status SqliteStore::Reader::Begin() { return db_->Run("BEGIN"); }

Status SqliteStore::Reader::Commit() { return db_->Run("COMMIT"); }

Status SqliteStore::Ping() {
  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  Result<SqliteStatement> stmt = reader->db().Prepare("SELECT 1");
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!row.value()) return Status::Internal("SELECT 1 returned no row");
  return Status::Ok();
}

}  // namespace cmfd
