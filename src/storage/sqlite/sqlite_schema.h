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
// Before it migrates, it also completes a bulk import that deferred its
// indexes and never finished (see RestoreImportIndexes).
Status MigrateSqliteSchema(SqliteDb& db, std::int64_t now);

// ---- indexes deferred by a bulk import ----
//
// A bulk import into empty tables loads faster when the secondary indexes
// and the counting triggers of those tables are dropped at its start and
// rebuilt from the rows at its end. Building an index from sorted keys
// writes each page once, while row-by-row upkeep dirties a random page of
// every index for every row. Both functions run inside a write transaction
// that the caller commits or rolls back.

// Records and drops the secondary indexes and triggers of customers,
// activities, customer_segments and customer_unique when all four are empty.
// The definitions go into the table import_deferred, and `deferred` is set.
// Otherwise, or when import_deferred exists already because another store
// object is importing, changes nothing and clears `deferred`.
// Kept are the primary keys; the indexes the import's own look-ups need:
// activities_a_id (the a_id upsert) and, when `keep_email_index`,
// customers_email (a duplicate check on email); and the indexes whose keys
// only grow (ids, and modification dates, which are the time of the
// transaction), because an insert into them appends to a page that stays
// cached, while rebuilding one costs a scan of the whole table. For the
// same reason activities_customer stays: its keys start with the customer
// id, like those of activities_a_id, so activities grouped by customer (as
// exports list them) append to both.
Status DeferImportIndexes(SqliteDb& db, bool keep_email_index, bool& deferred);

// When import_deferred exists: recreates every index and trigger recorded
// in it, recomputes from the rows every count the dropped triggers keep,
// raises each change counter and drops import_deferred. Otherwise does
// nothing. A migration that adds a count kept by triggers on those tables
// adds its recount here.
Status RestoreImportIndexes(SqliteDb& db);

}  // namespace cmfd
