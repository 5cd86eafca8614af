// The PostgreSQL schema of cmfd and its versioned migrations.
//
// The tables mirror the SQLite schema (storage/sqlite/sqlite_schema.cc) column
// for column, so that both backends enforce the same rules in the database:
// identity ids that are never reused, and unique indexes for the a_id upsert,
// segment and group references, unique extra customer fields and API keys.
// Each applied migration is recorded in schema_migrations with the time it
// ran; the highest recorded version is the database's schema version.
#pragma once

#include "storage/postgres/pg_connection.h"
#include "util/status.h"

namespace cmfd::pg {

// The schema version this binary reads and writes.
inline constexpr int kPostgresSchemaVersion = 1;

// Applies every migration newer than the database's version in one
// transaction. An advisory lock makes a second process that starts at the
// same time wait and then find the schema up to date. Internal error naming
// both versions when the database is newer than kPostgresSchemaVersion;
// nothing is changed then.
Status MigratePostgresSchema(PgConnection& conn);

}  // namespace cmfd::pg
