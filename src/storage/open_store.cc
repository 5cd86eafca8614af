// OpenStore: picks the backend from the form of the database name.
#include <cctype>
#include <string_view>

#include "storage/postgres/postgres_store.h"
#include "storage/sqlite/sqlite_store.h"
#include "storage/store.h"

namespace cmfd {

namespace {

bool StartsWithNoCase(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

// A postgresql:// or postgres:// URL, or a libpq keyword string
// ("host=... dbname=..."), names a PostgreSQL database; anything else is an
// SQLite file path.
bool IsPostgresName(std::string_view database) {
  if (StartsWithNoCase(database, "postgresql://") || StartsWithNoCase(database, "postgres://")) {
    return true;
  }
  return database.find("host=") != std::string_view::npos ||
         database.find("dbname=") != std::string_view::npos;
}

}  // namespace

Result<std::unique_ptr<Store>> OpenStore(const std::string& database,
                                         const StoreOptions& options) {
  if (IsPostgresName(database)) return OpenPostgresStore(database, options);
  return OpenSqliteStore(database, options);
}

}  // namespace cmfd
