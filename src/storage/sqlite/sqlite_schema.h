// The SQLite schema of cmfd and its versioned migrations.
//
// The schema version lives in the database header (PRAGMA user_version), and
// each applied migration is also recorded in the schema_migrations table
// with the time it ran. Opening a store brings an older database up to
// kSqliteSchemaVersion in one transaction and rejects a newer one, which a
// newer cmfd wrote and this binary could damage.
#pragma once

#include <cstdint>

#include "storage/sqlite/sqlite_db.h"
#include "util/status.h"

namespace cmfd {

// The schema version this binary reads and writes.
inline constexpr int kSqliteSchemaVersion = 3;

// Applies every migration newer than the database's version, inside one
// BEGIN IMMEDIATE transaction so that two processes opening the same file
// cannot both migrate it. `now` (epoch seconds) is recorded per migration.
// Internal error naming both versions when the database is newer than
// kSqliteSchemaVersion; nothing is changed then.
Status MigrateSqliteSchema(SqliteDb& db, std::int64_t now);

}  // namespace cmfd
