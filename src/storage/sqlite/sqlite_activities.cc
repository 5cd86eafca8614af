// Activities in the SQLite store.
#include <utility>

#include "storage/json_text.h"
#include "storage/sqlite/sqlite_paging.h"
#include "storage/sqlite/sqlite_rows.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

Status UnknownCustomerStatus(std::int64_t customer_id) {
  return Status::Invalid("customer with ID " + std::to_string(customer_id) + " was not found");
}

// Binds ?1 .. ?9 of kInsertActivity and kUpdateActivity.
void BindActivityValues(SqliteStatement& stmt, const Activity& activity) {
  stmt.BindInt(1, activity.customer_id);
  stmt.BindInt(2, activity.activity_date);
  stmt.BindText(3, activity.type);
  stmt.BindText(4, activity.implementation_class);
  stmt.BindOptionalInt(5, activity.o_id);
  stmt.BindOptionalText(6, activity.a_id);
  stmt.BindText(7, activity.md5);
  stmt.BindText(8, activity.attributes_json);
  stmt.BindInt(9, activity.modification_date);
}

constexpr const char* kInsertActivity =
    "INSERT INTO activities (customer_id, activity_date, type, implementation_class, o_id, a_id, "
    "md5, attributes, modification_date, creation_date) "
    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)";

constexpr const char* kUpdateActivity =
    "UPDATE activities SET customer_id = ?1, activity_date = ?2, type = ?3, "
    "implementation_class = ?4, o_id = ?5, a_id = ?6, md5 = ?7, attributes = ?8, "
    "modification_date = ?9 WHERE id = ?10";

Status WriteActivity(SqliteDb& db, const char* sql, const Activity& activity,
                     std::int64_t last_param) {
  Result<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  BindActivityValues(stmt.value(), activity);
  stmt->BindInt(10, last_param);
  return stmt->Run();
}

// The id of the activity of `customer_id` with this type and a_id, other
// than `except_id`; 0 when there is none.
Result<std::int64_t> FindByExternalId(SqliteDb& db, const Activity& activity,
                                      std::int64_t except_id) {
  Result<SqliteStatement> stmt = db.Prepare(
      "SELECT id FROM activities WHERE customer_id = ?1 AND type = ?2 AND a_id = ?3 AND id <> ?4");
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, activity.customer_id);
  stmt->BindText(2, activity.type);
  stmt->BindText(3, *activity.a_id);
  stmt->BindInt(4, except_id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  return row.value() ? stmt->ColumnInt(0) : std::int64_t{0};
}

Status LoadActivity(SqliteDb& db, std::int64_t id, Activity& activity, bool& found) {
  static const std::string kSql =
      std::string("SELECT ") + kActivityColumns + " FROM activities a WHERE a.id = ?1";
  Result<SqliteStatement> stmt = db.Prepare(kSql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  found = row.value();
  if (found) ReadActivityRow(stmt.value(), activity);
  return Status::Ok();
}

}  // namespace

// The single writer makes the look-up and the insert one atomic step, and
// the unique index on (customer_id, type, a_id) backs it up.
Status SqliteStore::StoreActivity(WriteTransaction& txn, Activity& activity, bool& created,
                                  const ActivityMerge& merge) {
  Result<bool> exists = CustomerExists(txn.db, activity.customer_id);
  if (!exists.ok()) return exists.status();
  if (!exists.value()) return UnknownCustomerStatus(activity.customer_id);

  activity.modification_date = txn.now;
  if (activity.a_id) {
    Result<std::int64_t> existing = FindByExternalId(txn.db, activity, 0);
    if (!existing.ok()) return existing.status();
    if (existing.value() != 0) {
      Activity stored;
      bool found = false;
      CMFD_SQLITE_TRY(LoadActivity(txn.db, existing.value(), stored, found));
      activity.id = stored.id;
      activity.creation_date = stored.creation_date;
      if (merge) merge(stored, activity);
      created = false;
      return WriteActivity(txn.db, kUpdateActivity, activity, activity.id);
    }
  }

  activity.creation_date = txn.now;
  CMFD_SQLITE_TRY(WriteActivity(txn.db, kInsertActivity, activity, activity.creation_date));
  activity.id = txn.db.LastInsertId();
  created = true;
  return Status::Ok();
}

Result<std::pair<Activity, bool>> SqliteStore::CreateActivity(const Activity& input,
                                                             const ActivityMerge& merge) {
  Activity activity = input;
  bool created = false;
  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    return StoreActivity(txn, activity, created, merge);
  });
  if (!status.ok()) return status;
  return std::make_pair(std::move(activity), created);
}

Result<Activity> SqliteStore::UpdateActivity(std::int64_t id,
                                             const std::function<Status(Activity&)>& modify) {
  Activity activity;
  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    bool found = false;
    CMFD_SQLITE_TRY(LoadActivity(txn.db, id, activity, found));
    if (!found) return NotFoundStatus("Activity", id);
    const Activity stored = activity;

    CMFD_SQLITE_TRY(modify(activity));
    activity.id = id;
    activity.creation_date = stored.creation_date;

    if (activity.customer_id != stored.customer_id) {
      Result<bool> exists = CustomerExists(txn.db, activity.customer_id);
      if (!exists.ok()) return exists.status();
      if (!exists.value()) return UnknownCustomerStatus(activity.customer_id);
    }
    if (activity.a_id) {
      Result<std::int64_t> other = FindByExternalId(txn.db, activity, id);
      if (!other.ok()) return other.status();
      if (other.value() != 0) {
        return Status::Conflict("a_id \"" + *activity.a_id + "\" with type \"" + activity.type +
                                "\" is already used by activity " +
                                std::to_string(other.value()) + " of customer " +
                                std::to_string(activity.customer_id));
      }
    }

    activity.modification_date = txn.now;
    return WriteActivity(txn.db, kUpdateActivity, activity, id);
  });
  if (!status.ok()) return status;
  return activity;
}

Result<Activity> SqliteStore::GetActivity(std::int64_t id) {
  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  Activity activity;
  bool found = false;
  CMFD_SQLITE_TRY(LoadActivity(reader->db(), id, activity, found));
  if (!found) return NotFoundStatus("Activity", id);
  return activity;
}

Status SqliteStore::DeleteActivity(std::int64_t id) {
  return RunWrite([&](WriteTransaction& txn) -> Status {
    Activity activity;
    bool found = false;
    CMFD_SQLITE_TRY(LoadActivity(txn.db, id, activity, found));
    if (!found) return NotFoundStatus("Activity", id);

    Result<SqliteStatement> record = txn.db.Prepare(
        "INSERT INTO deletions (entity_type, id, type, creation_date) "
        "VALUES ('activities', ?1, ?2, ?3)");
    if (!record.ok()) return record.status();
    record->BindInt(1, id);
    record->BindText(2, activity.type);
    record->BindInt(3, txn.now);
    CMFD_SQLITE_TRY(record->Run());

    Result<SqliteStatement> remove = txn.db.Prepare("DELETE FROM activities WHERE id = ?1");
    if (!remove.ok()) return remove.status();
    remove->BindInt(1, id);
    return remove->Run();
  });
}

Result<ListInfo> SqliteStore::ListActivities(const ActivityQuery& query,
                                             const std::function<void(const Activity&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(query.page);
  if (!offset.ok()) return offset.status();

  SqlFilter filter;
  if (query.types.size() == 1) {
    filter.Add("a.type = ?", {query.types.front()});
  } else if (query.types.size() > 1) {
    filter.Add("a.type IN (SELECT value FROM json_each(?))", {JsonStringArray(query.types)});
  }
  if (query.modified_since) {
    filter.Add("a.modification_date >= ?", {*query.modified_since});
  }
  if (query.customer_id) {
    filter.Add("a.customer_id = ?", {*query.customer_id});
  }

  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  SqliteDb& db = reader->db();

  ListInfo info;
  info.timestamp = clock_.ReadTimestamp();
  CMFD_SQLITE_TRY(reader->Begin());

  // The first statement takes the snapshot, so the counters, the total and
  // the rows all describe the same state.
  Result<TableCounters> counters = ReadTableCounters(db);
  if (!counters.ok()) return counters.status();
  const std::string shape = "activities" + filter.Key();
  if (filter.empty()) {
    info.total_rows = counters->activities;
  } else if (!query.modified_since && !query.customer_id) {
    // Types alone: the per-type counts kept by triggers. IN ignores a type
    // listed twice, as the filter does.
    SqlFilter types;
    types.Add("type IN (SELECT value FROM json_each(?))", {JsonStringArray(query.types)});
    Result<std::int64_t> total = QueryCount(
        db, "SELECT coalesce(sum(n), 0) FROM activity_type_counts" + types.where(), types);
    if (!total.ok()) return total.status();
    info.total_rows = total.value();
  } else {
    const CacheVersion count_version{counters->activities_changes, counters->activities};
    if (std::optional<std::int64_t> cached = page_cache_.FindCount(shape, count_version)) {
      info.total_rows = *cached;
    } else {
      Result<std::int64_t> total =
          QueryCount(db, "SELECT count(*) FROM activities a" + filter.where(), filter);
      if (!total.ok()) return total.status();
      info.total_rows = total.value();
      page_cache_.AddCount(shape, count_version, info.total_rows);
    }
  }
  if (!offset.value() || *offset.value() >= info.total_rows) {
    CMFD_SQLITE_TRY(reader->Commit());
    return info;
  }

  // An insert that sorts last moves no checkpoint; every other change
  // raises activities_changes (see sqlite_page_cache.h).
  const PagedShape paged{page_cache_, shape, CacheVersion{counters->activities_changes, 0}};

  // A customer's activities are few, so customer_id keeps its own index.
  // Otherwise a modified_since range picks its index by selectivity.
  auto source = [&](std::int64_t skip) -> const char* {
    if (query.modified_since && !query.customer_id &&
        PreferRangeIndex(info.total_rows, counters->activities, skip, query.page.page_size)) {
      return " FROM activities a INDEXED BY activities_modification";
    }
    return " FROM activities a";
  };
  // A row value comparison, which SQLite turns into a range of the
  // (activity_date, id) order of the date indexes.
  auto seek = [&](const std::optional<PageKey>& after) {
    SqlFilter seeking = filter;
    if (after) seeking.Add("(a.activity_date, a.id) > (?, ?)", {(*after)[0], (*after)[1]});
    return seeking;
  };

  const std::int64_t offset_rows = *offset.value();
  Result<PageStart> start = LocatePage(
      paged, offset_rows, CheckpointStride(info.total_rows), /*key_columns=*/2,
      [&](const std::optional<PageKey>& after, std::int64_t limit) -> Result<SqliteStatement> {
        SqlFilter seeking = seek(after);
        Result<SqliteStatement> stmt =
            db.Prepare("SELECT a.activity_date, a.id" + std::string(source(limit)) +
                       seeking.where() + " ORDER BY a.activity_date, a.id LIMIT ?");
        if (!stmt.ok()) return stmt.status();
        seeking.Bind(stmt.value());
        stmt->BindInt(seeking.param_count() + 1, limit);
        return stmt;
      });
  if (!start.ok()) return start.status();

  SqlFilter seeking = seek(start->after);
  std::string sql = std::string("SELECT ") + kActivityColumns + source(start->skip) +
                    seeking.where() + " ORDER BY a.activity_date, a.id LIMIT ? OFFSET ?";
  Result<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  seeking.Bind(stmt.value());
  stmt->BindInt(seeking.param_count() + 1, query.page.page_size);
  stmt->BindInt(seeking.param_count() + 2, start->skip);

  std::int64_t rows = 0;
  PageKey last_key{};
  Activity activity;
  while (true) {
    Result<bool> has_row = stmt->Step();
    if (!has_row.ok()) return has_row.status();
    if (!has_row.value()) break;
    ReadActivityRow(stmt.value(), activity);
    ++rows;
    last_key = {activity.activity_date, activity.id};
    row(activity);
  }
  stmt = SqliteStatement();
  RecordPageEnd(paged, offset_rows, rows, last_key);

  CMFD_SQLITE_TRY(reader->Commit());
  return info;
}

}  // namespace cmfd
