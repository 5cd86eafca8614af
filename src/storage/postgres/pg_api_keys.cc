// API keys in the PostgreSQL store. The rules and messages are those of the
// SQLite store (sqlite_api_keys.cc).
#include <utility>

#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

namespace {

constexpr const char* kApiKeyColumns = "id, name, read_only, hash, creation_date, last_used";

ApiKey ReadApiKeyRow(const PgResult& result, int row) {
  ApiKey key;
  key.id = result.Int(row, 0);
  key.name = result.String(row, 1);
  key.read_only = result.Bool(row, 2);
  key.hash = result.String(row, 3);
  key.creation_date = result.Int(row, 4);
  key.last_used = result.OptionalInt(row, 5);
  return key;
}

// Finds the key and records its use in one statement, one round trip.
// last_used is a hint for operators, so it is written at most once a minute
// per key; the condition on k.last_used is re-checked against the newest row
// version when two requests race, so the second one writes nothing. The
// write does not take part in the sync protocol because no read syncs
// API keys.
constexpr const char* kFindApiKey =
    "WITH found AS (SELECT id, name, read_only, hash, creation_date, last_used"
    "  FROM api_keys WHERE hash = $1::text),"
    " touched AS (UPDATE api_keys k"
    "  SET last_used = floor(extract(epoch FROM clock_timestamp()))::bigint"
    "  FROM found WHERE k.id = found.id AND (k.last_used IS NULL OR"
    "  k.last_used <= floor(extract(epoch FROM clock_timestamp()))::bigint - 60)"
    "  RETURNING k.id, k.last_used)"
    " SELECT found.id, found.name, found.read_only, found.hash, found.creation_date,"
    " coalesce(touched.last_used, found.last_used)"
    " FROM found LEFT JOIN touched ON touched.id = found.id";

}  // namespace

Result<ApiKey> PgStore::CreateApiKey(const std::string& name, const std::string& hash,
                                     bool read_only) {
  ApiKey key;
  key.name = name;
  key.hash = hash;
  key.read_only = read_only;
  Status status = runner_.Write("API key create", [&](WriteTx& tx) -> Status {
    // The unique indexes catch a key created concurrently after these
    // checks; the retry then reports it here.
    std::vector<PgResult> taken;
    CMFD_PG_TRY(tx.Pipeline({{"SELECT 1 FROM api_keys WHERE name = $1::text", {name}},
                             {"SELECT 1 FROM api_keys WHERE hash = $1::text", {hash}}},
                            "API key create", &taken));
    if (taken[0].rows() > 0) {
      return Status::Conflict("API key \"" + name +
                              "\" already exists; revoke it first or choose another name");
    }
    if (taken[1].rows() > 0) {
      return Status::Conflict("an API key with the same hash already exists");
    }

    key.creation_date = tx.now();
    PgResult inserted = tx.Exec(
        "INSERT INTO api_keys (name, hash, read_only, creation_date)"
        " VALUES ($1::text, $2::text, $3::boolean, $4::bigint) RETURNING id",
        {key.name, key.hash, BoolParam(key.read_only), IntParam(key.creation_date)});
    if (!inserted.ok()) return tx.Error(inserted, "API key create", "*");
    key.id = inserted.Int(0, 0);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return key;
}

Result<std::vector<ApiKey>> PgStore::ListApiKeys() {
  Result<std::vector<PgResult>> read = runner_.ReadWithoutTimestamp(
      "API key list", {{std::string("SELECT ") + kApiKeyColumns + " FROM api_keys ORDER BY id",
                        {}}});
  if (!read.ok()) return read.status();
  const PgResult& rows = read.value()[0];
  std::vector<ApiKey> keys;
  for (int i = 0; i < rows.rows(); ++i) keys.push_back(ReadApiKeyRow(rows, i));
  return keys;
}

Status PgStore::RevokeApiKey(const std::string& name) {
  return runner_.Write("API key revoke", [&](WriteTx& tx) -> Status {
    PgResult removed = tx.Exec("DELETE FROM api_keys WHERE name = $1::text", {name});
    if (!removed.ok()) return tx.Error(removed, "API key revoke");
    if (removed.AffectedRows() == 0) {
      return Status::NotFound("API key \"" + name + "\" was not found");
    }
    return Status::Ok();
  });
}

Result<std::optional<ApiKey>> PgStore::FindApiKey(const std::string& hash) {
  Result<std::vector<PgResult>> read =
      runner_.ReadWithoutTimestamp("API key check", {{kFindApiKey, {hash}}});
  if (!read.ok()) return read.status();
  const PgResult& rows = read.value()[0];
  std::optional<ApiKey> key;
  if (rows.rows() > 0) key = ReadApiKeyRow(rows, 0);
  return key;
}

}  // namespace cmfd::pg
