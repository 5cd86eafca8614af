#include "storage/sqlite/sqlite_schema.h"

#include <string>
#include <string_view>
#include <vector>

namespace cmfd {

namespace {

struct Migration {
  int version;
  const char* sql;
};

// Every index implicitly ends with the table's rowid, which is `id` here, so
// an index on (activity_date) is ordered by (activity_date, id) and serves
// "ORDER BY activity_date, id" without a sort.
constexpr const char* kVersion1 = R"sql(
CREATE TABLE schema_migrations (
  version INTEGER PRIMARY KEY,
  applied_at INTEGER NOT NULL
);

-- Row counts of the large tables, kept by triggers, so that an unfiltered
-- list reads its total without counting every row.
CREATE TABLE row_counts (
  name TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO row_counts (name, n) VALUES ('customers', 0), ('activities', 0);

-- AUTOINCREMENT: ids are never reused, even after the highest row is deleted.
CREATE TABLE customers (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  active INTEGER NOT NULL,
  gender TEXT,
  firstname TEXT,
  lastname TEXT,
  birthdate TEXT,
  street TEXT,
  zip TEXT,
  city TEXT,
  phone TEXT,
  extra TEXT NOT NULL,  -- JSON object of the configured extra fields, keyed by name
  country_code TEXT,
  email TEXT,
  id_encoded TEXT NOT NULL,
  profiling_consent INTEGER NOT NULL,
  password_hash TEXT,
  modification_date INTEGER NOT NULL,
  creation_date INTEGER NOT NULL
);
CREATE INDEX customers_email ON customers (lower(email));
CREATE INDEX customers_modification ON customers (modification_date);
CREATE TRIGGER customers_count_insert AFTER INSERT ON customers BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'customers';
END;
CREATE TRIGGER customers_count_delete AFTER DELETE ON customers BEGIN
  UPDATE row_counts SET n = n - 1 WHERE name = 'customers';
END;

-- Values of extra fields declared unique, as the JSON literal of Customer::extra.
CREATE TABLE customer_unique (
  field TEXT NOT NULL,
  value TEXT NOT NULL,
  customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  PRIMARY KEY (field, value)
) WITHOUT ROWID;
CREATE INDEX customer_unique_customer ON customer_unique (customer_id);

CREATE TABLE segment_groups (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  reference TEXT,
  calculated INTEGER NOT NULL,
  show_as_filter INTEGER NOT NULL,
  filter_sort_order INTEGER,
  export_newsletter_provider INTEGER NOT NULL,
  modification_date INTEGER NOT NULL,
  creation_date INTEGER NOT NULL
);
-- An empty reference counts as none, as in the CMF.
CREATE UNIQUE INDEX segment_groups_reference ON segment_groups (reference, calculated)
  WHERE reference IS NOT NULL AND reference <> '';

CREATE TABLE segments (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL,
  group_id INTEGER NOT NULL REFERENCES segment_groups (id),
  reference TEXT,
  calculated INTEGER NOT NULL,
  use_as_target_group INTEGER NOT NULL,
  modification_date INTEGER NOT NULL,
  creation_date INTEGER NOT NULL
);
CREATE INDEX segments_group ON segments (group_id);
CREATE UNIQUE INDEX segments_reference ON segments (group_id, reference)
  WHERE reference IS NOT NULL AND reference <> '';

CREATE TABLE customer_segments (
  customer_id INTEGER NOT NULL REFERENCES customers (id) ON DELETE CASCADE,
  segment_id INTEGER NOT NULL REFERENCES segments (id) ON DELETE CASCADE,
  PRIMARY KEY (customer_id, segment_id)
) WITHOUT ROWID;
CREATE INDEX customer_segments_segment ON customer_segments (segment_id);

CREATE TABLE activities (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  customer_id INTEGER NOT NULL REFERENCES customers (id),
  activity_date INTEGER NOT NULL,
  type TEXT NOT NULL,
  implementation_class TEXT NOT NULL,
  o_id INTEGER,
  a_id TEXT,
  md5 TEXT NOT NULL,
  attributes TEXT NOT NULL,
  modification_date INTEGER NOT NULL,
  creation_date INTEGER NOT NULL
);
-- One activity per (customer, type, a_id): the target of the a_id upsert.
CREATE UNIQUE INDEX activities_a_id ON activities (customer_id, type, a_id)
  WHERE a_id IS NOT NULL;
CREATE INDEX activities_date ON activities (activity_date);
CREATE INDEX activities_modification ON activities (modification_date);
CREATE INDEX activities_customer ON activities (customer_id, activity_date);
CREATE INDEX activities_type ON activities (type, activity_date);
CREATE TRIGGER activities_count_insert AFTER INSERT ON activities BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'activities';
END;
CREATE TRIGGER activities_count_delete AFTER DELETE ON activities BEGIN
  UPDATE row_counts SET n = n - 1 WHERE name = 'activities';
END;

-- The deletions feed. Within one entity type an id is deleted at most once
-- (ids are never reused), so (creation_date, id) orders the feed totally.
CREATE TABLE deletions (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  entity_type TEXT NOT NULL,
  id INTEGER NOT NULL,
  type TEXT NOT NULL,
  creation_date INTEGER NOT NULL
);
CREATE INDEX deletions_feed ON deletions (entity_type, creation_date, id);

CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  name TEXT NOT NULL UNIQUE,
  hash TEXT NOT NULL UNIQUE,
  read_only INTEGER NOT NULL,
  creation_date INTEGER NOT NULL,
  last_used INTEGER
);
)sql";

// Version 2: what lets lists skip the work that grows with the table.
//
// Change counters. A list caches page boundaries and filtered row counts
// (sqlite_page_cache.h) and checks them against counters read in the same
// snapshot as the rows, kept by triggers in the writes' own transactions:
//   customers_deletes   deleted customers. Inserts get ids above every id
//                       (AUTOINCREMENT), so only a delete moves a row of the
//                       unfiltered, id-ordered list to another position.
//   customers_changes   deletes, updates and segment assignment changes of
//                       customers: everything but an insert that can change
//                       which customers a filter matches.
//   activities_changes  deletes and updates of activities, and inserts dated
//                       before the latest activity_date: everything but an
//                       insert that sorts last in (activity_date, id) order.
// Together with the row counts, the counters identify the contents: every
// write raises a row count or a counter, and none lowers a counter.
//
// customers_ids: the ids alone, a narrow index that a scan for page
// boundaries reads instead of the full rows of the table.
constexpr const char* kVersion2 = R"sql(
INSERT INTO row_counts (name, n) VALUES
  ('customers_deletes', 0), ('customers_changes', 0), ('activities_changes', 0);

CREATE INDEX customers_ids ON customers (id);

DROP TRIGGER customers_count_delete;
CREATE TRIGGER customers_count_delete AFTER DELETE ON customers BEGIN
  UPDATE row_counts SET n = n + (CASE name WHEN 'customers' THEN -1 ELSE 1 END)
    WHERE name IN ('customers', 'customers_deletes', 'customers_changes');
END;
CREATE TRIGGER customers_count_update AFTER UPDATE ON customers BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'customers_changes';
END;
CREATE TRIGGER customer_segments_count_insert AFTER INSERT ON customer_segments BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'customers_changes';
END;
CREATE TRIGGER customer_segments_count_delete AFTER DELETE ON customer_segments BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'customers_changes';
END;

DROP TRIGGER activities_count_delete;
CREATE TRIGGER activities_count_delete AFTER DELETE ON activities BEGIN
  UPDATE row_counts SET n = n + (CASE name WHEN 'activities' THEN -1 ELSE 1 END)
    WHERE name IN ('activities', 'activities_changes');
END;
CREATE TRIGGER activities_count_update AFTER UPDATE ON activities BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'activities_changes';
END;
-- The maximum comes from the end of the activities_date index.
CREATE TRIGGER activities_count_insert_before BEFORE INSERT ON activities
  WHEN NEW.activity_date < (SELECT max(activity_date) FROM activities) BEGIN
  UPDATE row_counts SET n = n + 1 WHERE name = 'activities_changes';
END;
)sql";

// Version 3: exact row counts of the most common list filters, kept by
// triggers like the table row counts, so that their totals cost one lookup
// whatever the number of rows and whatever was written since.
constexpr const char* kVersion3 = R"sql(
CREATE TABLE activity_type_counts (
  type TEXT PRIMARY KEY,
  n INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO activity_type_counts (type, n) SELECT type, count(*) FROM activities GROUP BY type;
CREATE TRIGGER activity_type_count_insert AFTER INSERT ON activities BEGIN
  INSERT INTO activity_type_counts (type, n) VALUES (NEW.type, 1)
    ON CONFLICT (type) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER activity_type_count_delete AFTER DELETE ON activities BEGIN
  UPDATE activity_type_counts SET n = n - 1 WHERE type = OLD.type;
END;
CREATE TRIGGER activity_type_count_update AFTER UPDATE OF type ON activities
  WHEN NEW.type <> OLD.type BEGIN
  UPDATE activity_type_counts SET n = n - 1 WHERE type = OLD.type;
  INSERT INTO activity_type_counts (type, n) VALUES (NEW.type, 1)
    ON CONFLICT (type) DO UPDATE SET n = n + 1;
END;

-- Members per segment. Assignments reference existing customers (and go
-- with them), so this is also the number of customers in the segment.
CREATE TABLE segment_member_counts (
  segment_id INTEGER PRIMARY KEY,
  n INTEGER NOT NULL
);
INSERT INTO segment_member_counts (segment_id, n)
  SELECT segment_id, count(*) FROM customer_segments GROUP BY segment_id;
CREATE TRIGGER segment_member_count_insert AFTER INSERT ON customer_segments BEGIN
  INSERT INTO segment_member_counts (segment_id, n) VALUES (NEW.segment_id, 1)
    ON CONFLICT (segment_id) DO UPDATE SET n = n + 1;
END;
CREATE TRIGGER segment_member_count_delete AFTER DELETE ON customer_segments BEGIN
  UPDATE segment_member_counts SET n = n - 1 WHERE segment_id = OLD.segment_id;
END;
)sql";

// Append-only: a released migration never changes, a new one gets the next
// version, and kSqliteSchemaVersion is the last version here.
constexpr Migration kMigrations[] = {
    {1, kVersion1},
    {2, kVersion2},
    {3, kVersion3},
};

static_assert(kMigrations[std::size(kMigrations) - 1].version == kSqliteSchemaVersion);

Result<std::int64_t> ReadUserVersion(SqliteDb& db) {
  Result<SqliteStatement> stmt = db.Prepare("PRAGMA user_version");
  if (!stmt.ok()) return stmt.status();
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!row.value()) return Status::Internal("PRAGMA user_version returned no row");
  return stmt->ColumnInt(0);
}

Status ApplyMigrations(SqliteDb& db, std::int64_t now) {
  Result<std::int64_t> version = ReadUserVersion(db);
  if (!version.ok()) return version.status();

  if (version.value() > kSqliteSchemaVersion) {
    return Status::Internal("database schema version " + std::to_string(version.value()) +
                            " is newer than the version this cmfd supports (" +
                            std::to_string(kSqliteSchemaVersion) +
                            "); run a newer cmfd or open another database file");
  }

  for (const Migration& migration : kMigrations) {
    if (migration.version <= version.value()) continue;

    CMFD_SQLITE_TRY(db.Exec(migration.sql));

    Result<SqliteStatement> record =
        db.Prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?1, ?2)");
    if (!record.ok()) return record.status();
    record->BindInt(1, migration.version);
    record->BindInt(2, now);
    CMFD_SQLITE_TRY(record->Run());

    // PRAGMA takes no parameters; the version is one of our integers.
    std::string set_version = "PRAGMA user_version = " + std::to_string(migration.version);
    CMFD_SQLITE_TRY(db.Exec(set_version.c_str()));
  }
  return Status::Ok();
}

Result<bool> TableExists(SqliteDb& db, const char* name) {
  Result<SqliteStatement> stmt =
      db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, name);
  return stmt->Step();
}

// An identifier quoted for SQL text.
std::string QuoteName(std::string_view name) {
  std::string quoted = "\"";
  for (char c : name) {
    quoted += c;
    if (c == '"') quoted += '"';
  }
  return quoted + "\"";
}

// Completes an import that deferred its indexes and never reached
// RestoreImportIndexes (killed, crashed, disk full), so that no store reads
// rows whose indexes and counts are missing. A database newer than this
// binary is left alone, because ApplyMigrations rejects it.
Status FinishInterruptedImport(SqliteDb& db) {
  Result<std::int64_t> version = ReadUserVersion(db);
  if (!version.ok()) return version.status();
  if (version.value() > kSqliteSchemaVersion) return Status::Ok();
  return RestoreImportIndexes(db);
}

}  // namespace

// Why a deferred import never leaves a database that reads wrong:
//  - The drops and the saved definitions commit together, so any committed
//    state either has every index and trigger or has import_deferred with
//    the definition of each one missing.
//  - RestoreImportIndexes rebuilds, recounts and drops import_deferred in
//    one transaction: an error or a crash before its COMMIT leaves the
//    deferred state as it was, and it simply runs again later.
//  - Every store runs it on opening (MigrateSqliteSchema) before any read.
//    So only a store that had the file open before the import began can
//    read the deferred state. Its totals lag and its lists are slow until
//    the import ends, which is why the README says to run `cmfd import`
//    while no server uses the database.
//  - Counts are recomputed from the rows, not carried over, so they are
//    right whatever was written meanwhile, with or without the triggers.
Status DeferImportIndexes(SqliteDb& db, bool keep_email_index, bool& deferred) {
  deferred = false;
  Result<bool> pending = TableExists(db, "import_deferred");
  if (!pending.ok()) return pending.status();
  if (pending.value()) return Status::Ok();

  Result<SqliteStatement> used = db.Prepare(
      "SELECT EXISTS (SELECT 1 FROM customers) OR EXISTS (SELECT 1 FROM activities) "
      "OR EXISTS (SELECT 1 FROM customer_segments) OR EXISTS (SELECT 1 FROM customer_unique)");
  if (!used.ok()) return used.status();
  Result<bool> row = used->Step();
  if (!row.ok()) return row.status();
  if (!row.value()) return Status::Internal("the emptiness check returned no row");
  if (used->ColumnBool(0)) return Status::Ok();
  used = SqliteStatement();

  // sqlite_master keeps each CREATE statement as written, so running the
  // saved text later recreates the same index or trigger. Indexes without
  // text are those of PRIMARY KEY and UNIQUE constraints, which stay. A
  // unique index stays too: it enforces a rule while the rows arrive, and
  // rebuilding it could fail on a duplicate and leave the import unfinished.
  CMFD_SQLITE_TRY(db.Exec(R"sql(
CREATE TABLE import_deferred (
  name TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  sql TEXT NOT NULL
);
)sql"));
  Result<SqliteStatement> save = db.Prepare(R"sql(
INSERT INTO import_deferred (name, type, sql)
  SELECT name, type, sql FROM sqlite_master
  WHERE tbl_name IN ('customers', 'activities', 'customer_segments', 'customer_unique')
    AND sql IS NOT NULL AND sql NOT LIKE 'CREATE UNIQUE %'
    AND (type = 'trigger' OR
         (type = 'index' AND name NOT IN ('activities_a_id', 'activities_customer',
                                          'customers_ids', 'customers_modification',
                                          'activities_modification')
                         AND NOT (name = 'customers_email' AND ?1)))
  ORDER BY rowid
)sql");
  if (!save.ok()) return save.status();
  save->BindBool(1, keep_email_index);
  CMFD_SQLITE_TRY(save->Run());
  save = SqliteStatement();

  std::vector<std::string> drops;
  Result<SqliteStatement> saved = db.Prepare("SELECT type, name FROM import_deferred");
  if (!saved.ok()) return saved.status();
  while (true) {
    Result<bool> has_row = saved->Step();
    if (!has_row.ok()) return has_row.status();
    if (!has_row.value()) break;
    const std::string_view type = saved->ColumnView(0);
    drops.push_back(std::string(type == "index" ? "DROP INDEX " : "DROP TRIGGER ") +
                    QuoteName(saved->ColumnView(1)));
  }
  saved = SqliteStatement();
  for (const std::string& drop : drops) CMFD_SQLITE_TRY(db.Exec(drop.c_str()));
  deferred = true;
  return Status::Ok();
}

Status RestoreImportIndexes(SqliteDb& db) {
  Result<bool> pending = TableExists(db, "import_deferred");
  if (!pending.ok()) return pending.status();
  if (!pending.value()) return Status::Ok();

  // Indexes first, so that the counts below read them instead of sorting.
  std::vector<std::string> creates;
  Result<SqliteStatement> saved = db.Prepare(
      "SELECT sql FROM import_deferred ORDER BY type = 'trigger', rowid");
  if (!saved.ok()) return saved.status();
  while (true) {
    Result<bool> has_row = saved->Step();
    if (!has_row.ok()) return has_row.status();
    if (!has_row.value()) break;
    creates.push_back(saved->ColumnText(0));
  }
  saved = SqliteStatement();
  for (const std::string& create : creates) CMFD_SQLITE_TRY(db.Exec(create.c_str()));

  // The counts of kVersion1 to kVersion3, and one step of every change
  // counter: the rows changed, so every cached page and total of a list
  // must be read again.
  return db.Exec(R"sql(
UPDATE row_counts SET n = (SELECT count(*) FROM customers) WHERE name = 'customers';
UPDATE row_counts SET n = (SELECT count(*) FROM activities) WHERE name = 'activities';
UPDATE row_counts SET n = n + 1
  WHERE name IN ('customers_deletes', 'customers_changes', 'activities_changes');
DELETE FROM activity_type_counts;
INSERT INTO activity_type_counts (type, n) SELECT type, count(*) FROM activities GROUP BY type;
DELETE FROM segment_member_counts;
INSERT INTO segment_member_counts (segment_id, n)
  SELECT segment_id, count(*) FROM customer_segments GROUP BY segment_id;
DROP TABLE import_deferred;
)sql");
}

Status MigrateSqliteSchema(SqliteDb& db, std::int64_t now) {
  CMFD_SQLITE_TRY(db.Exec("BEGIN IMMEDIATE"));
  Status status = FinishInterruptedImport(db);
  if (status.ok()) status = ApplyMigrations(db, now);
  if (status.ok()) status = db.Exec("COMMIT");
  if (!status.ok() && db.InTransaction()) db.Exec("ROLLBACK");
  return status;
}

}  // namespace cmfd
