// API keys in the SQLite store.
#include <spdlog/spdlog.h>

#include <mutex>
#include <utility>

#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

// last_used is a hint for operators, so it is written at most once per key
// in this many seconds. Every other request that uses the key only reads.
constexpr std::int64_t kLastUsedResolutionSeconds = 60;

constexpr const char* kApiKeyColumns = "id, name, read_only, hash, creation_date, last_used";

void ReadApiKeyRow(const SqliteStatement& stmt, ApiKey& key) {
  key.id = stmt.ColumnInt(0);
  key.name = stmt.ColumnText(1);
  key.read_only = stmt.ColumnBool(2);
  key.hash = stmt.ColumnText(3);
  key.creation_date = stmt.ColumnInt(4);
  key.last_used = stmt.ColumnOptionalInt(5);
}

}  // namespace

Result<ApiKey> SqliteStore::CreateApiKey(const std::string& name, const std::string& hash,
                                         bool read_only) {
  ApiKey key;
  key.name = name;
  key.hash = hash;
  key.read_only = read_only;
  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    auto exists = [&](const char* sql, const std::string& value) -> Result<bool> {
      Result<SqliteStatement> stmt = txn.db.Prepare(sql);
      if (!stmt.ok()) return stmt.status();
      stmt->BindText(1, value);
      return stmt->Step();
    };
    Result<bool> name_taken = exists("SELECT 1 FROM api_keys WHERE name = ?1", name);
    if (!name_taken.ok()) return name_taken.status();
    if (name_taken.value()) {
      return Status::Conflict("API key \"" + name +
                              "\" already exists; revoke it first or choose another name");
    }
    Result<bool> hash_taken = exists("SELECT 1 FROM api_keys WHERE hash = ?1", hash);
    if (!hash_taken.ok()) return hash_taken.status();
    if (hash_taken.value()) return Status::Conflict("an API key with the same hash already exists");

    key.creation_date = txn.now;
    Result<SqliteStatement> insert = txn.db.Prepare(
        "INSERT INTO api_keys (name, hash, read_only, creation_date) VALUES (?1, ?2, ?3, ?4)");
    if (!insert.ok()) return insert.status();
    insert->BindText(1, key.name);
    insert->BindText(2, key.hash);
    insert->BindBool(3, key.read_only);
    insert->BindInt(4, key.creation_date);
    CMFD_SQLITE_TRY(insert->Run());
    key.id = txn.db.LastInsertId();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return key;
}

Result<std::vector<ApiKey>> SqliteStore::ListApiKeys() {
  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  static const std::string kSql =
      std::string("SELECT ") + kApiKeyColumns + " FROM api_keys ORDER BY id";
  Result<SqliteStatement> stmt = reader->db().Prepare(kSql);
  if (!stmt.ok()) return stmt.status();

  std::vector<ApiKey> keys;
  while (true) {
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!row.value()) break;
    ApiKey key;
    ReadApiKeyRow(stmt.value(), key);
    keys.push_back(std::move(key));
  }
  return keys;
}

Status SqliteStore::RevokeApiKey(const std::string& name) {
  return RunWrite([&](WriteTransaction& txn) -> Status {
    Result<SqliteStatement> remove = txn.db.Prepare("DELETE FROM api_keys WHERE name = ?1");
    if (!remove.ok()) return remove.status();
    remove->BindText(1, name);
    CMFD_SQLITE_TRY(remove->Run());
    if (txn.db.Changes() == 0) return Status::NotFound("API key \"" + name + "\" was not found");
    return Status::Ok();
  });
}

Result<std::optional<ApiKey>> SqliteStore::FindApiKey(const std::string& hash) {
  std::optional<ApiKey> key;
  {
    Result<Reader> reader = LeaseReader();
    if (!reader.ok()) return reader.status();
    static const std::string kSql =
        std::string("SELECT ") + kApiKeyColumns + " FROM api_keys WHERE hash = ?1";
    Result<SqliteStatement> stmt = reader->db().Prepare(kSql);
    if (!stmt.ok()) return stmt.status();
    stmt->BindText(1, hash);
    Result<bool> row = stmt->Step();
    if (!row.ok()) return row.status();
    if (!row.value()) return key;
    key.emplace();
    ReadApiKeyRow(stmt.value(), *key);
  }

  std::int64_t now = clock_.Now();
  if (key->last_used && now - *key->last_used < kLastUsedResolutionSeconds) return key;

  // Record the use only when the write lock is free, so that a request never
  // waits for another request's write just to update a hint. A skipped
  // update is retried by the next request that uses the key.
  std::unique_lock<std::mutex> lock(write_mutex_, std::try_to_lock);
  if (!lock.owns_lock()) return key;
  Status status = RunWriteLocked([&](WriteTransaction& txn) -> Status {
    Result<SqliteStatement> update =
        txn.db.Prepare("UPDATE api_keys SET last_used = ?1 WHERE id = ?2");
    if (!update.ok()) return update.status();
    update->BindInt(1, txn.now);
    update->BindInt(2, key->id);
    CMFD_SQLITE_TRY(update->Run());
    key->last_used = txn.now;
    return Status::Ok();
  });
  if (!status.ok()) {
    // The key itself is valid, and failing the request over the hint would be
    // worse than a stale last_used.
    spdlog::warn("could not record the use of API key \"{}\": {}", key->name, status.message());
  }
  return key;
}

}  // namespace cmfd
