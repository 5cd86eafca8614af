// Segment groups and segments in the SQLite store.
#include <utility>

#include "storage/sqlite/sqlite_rows.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

constexpr const char* kGroupColumns =
    "id, name, reference, calculated, show_as_filter, filter_sort_order, "
    "export_newsletter_provider, modification_date, creation_date";

constexpr const char* kSegmentColumns =
    "id, name, group_id, reference, calculated, use_as_target_group, modification_date, "
    "creation_date";

void ReadGroupRow(const SqliteStatement& stmt, SegmentGroup& group) {
  group.id = stmt.ColumnInt(0);
  group.name = stmt.ColumnText(1);
  group.reference = stmt.ColumnOptionalText(2);
  group.calculated = stmt.ColumnBool(3);
  group.show_as_filter = stmt.ColumnBool(4);
  group.filter_sort_order = stmt.ColumnOptionalInt(5);
  group.export_newsletter_provider = stmt.ColumnBool(6);
  group.modification_date = stmt.ColumnInt(7);
  group.creation_date = stmt.ColumnInt(8);
}

void ReadSegmentRow(const SqliteStatement& stmt, Segment& segment) {
  segment.id = stmt.ColumnInt(0);
  segment.name = stmt.ColumnText(1);
  segment.group = stmt.ColumnInt(2);
  segment.reference = stmt.ColumnOptionalText(3);
  segment.calculated = stmt.ColumnBool(4);
  segment.use_as_target_group = stmt.ColumnBool(5);
  segment.modification_date = stmt.ColumnInt(6);
  segment.creation_date = stmt.ColumnInt(7);
}

Status LoadGroup(SqliteDb& db, std::int64_t id, SegmentGroup& group, bool& found) {
  static const std::string kSql =
      std::string("SELECT ") + kGroupColumns + " FROM segment_groups WHERE id = ?1";
  Result<SqliteStatement> stmt = db.Prepare(kSql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  found = row.value();
  if (found) ReadGroupRow(stmt.value(), group);
  return Status::Ok();
}

Status LoadSegment(SqliteDb& db, std::int64_t id, Segment& segment, bool& found) {
  static const std::string kSql =
      std::string("SELECT ") + kSegmentColumns + " FROM segments WHERE id = ?1";
  Result<SqliteStatement> stmt = db.Prepare(kSql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  found = row.value();
  if (found) ReadSegmentRow(stmt.value(), segment);
  return Status::Ok();
}

// An empty reference counts as none, as in the CMF (PHP treats "" as false),
// so it is never a duplicate.
bool HasReference(const std::optional<std::string>& reference) {
  return reference && !reference->empty();
}

// Conflict when another group has the same reference and calculated flag.
Status CheckGroupReference(SqliteDb& db, const SegmentGroup& group) {
  if (!HasReference(group.reference)) return Status::Ok();
  Result<SqliteStatement> stmt = db.Prepare(
      "SELECT id FROM segment_groups WHERE reference = ?1 AND reference <> '' AND calculated = ?2"
      " AND id <> ?3");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, *group.reference);
  stmt->BindBool(2, group.calculated);
  stmt->BindInt(3, group.id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!row.value()) return Status::Ok();
  return Status::Conflict("duplicate segment group - group with reference '" + *group.reference +
                          "' already exists");
}

// Conflict when another segment of the same group has the same reference.
Status CheckSegmentReference(SqliteDb& db, const Segment& segment) {
  if (!HasReference(segment.reference)) return Status::Ok();
  Result<SqliteStatement> stmt = db.Prepare(
      "SELECT id FROM segments WHERE group_id = ?1 AND reference = ?2 AND reference <> ''"
      " AND id <> ?3");
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, segment.group);
  stmt->BindText(2, *segment.reference);
  stmt->BindInt(3, segment.id);
  Result<bool> row = stmt->Step();
  if (!row.ok()) return row.status();
  if (!row.value()) return Status::Ok();
  return Status::Conflict("duplicate segment - segment with reference '" + *segment.reference +
                          "' already exists in this group");
}

// Applies the group rules of a segment in the CMF's order: the group must be
// given and exist, then the name must be non-empty, then `calculated` (when
// sent) must equal the group's flag. On success `segment` is in `group_id`
// and carries that group's flag.
Status ApplySegmentGroup(SqliteDb& db, std::optional<std::int64_t> group_id,
                         const SegmentPatch& patch, Segment& segment) {
  if (!group_id || *group_id == 0) return Status::Invalid("group required");
  SegmentGroup group;
  bool found = false;
  CMFD_SQLITE_TRY(LoadGroup(db, *group_id, group, found));
  if (!found) return Status::Invalid("group not found");

  if (patch.name) segment.name = *patch.name;
  if (segment.name.empty()) return Status::Invalid("name required");

  if (patch.calculated && *patch.calculated != group.calculated) {
    return Status::Invalid(std::string("calculated is ") + (*patch.calculated ? "true" : "false") +
                           ", but segment group " + std::to_string(group.id) + " is " +
                           (group.calculated ? "calculated" : "not calculated") +
                           "; a segment must have the calculated flag of its group");
  }
  segment.group = group.id;
  segment.calculated = group.calculated;
  return Status::Ok();
}

// Runs `sql`, an UPDATE that sets modification_date = ?1 on the customers
// that have the segments selected by ?2 (`key`): deleting segments changes
// those customers' segment lists, and delta sync must see that.
Status TouchCustomersWithSegments(SqliteDb& db, const char* sql, std::int64_t key,
                                  std::int64_t now) {
  Result<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, now);
  stmt->BindInt(2, key);
  return stmt->Run();
}

Status RunWithId(SqliteDb& db, const char* sql, std::int64_t id) {
  Result<SqliteStatement> stmt = db.Prepare(sql);
  if (!stmt.ok()) return stmt.status();
  stmt->BindInt(1, id);
  return stmt->Run();
}

}  // namespace

// ---- segment groups ----

Result<SegmentGroup> SqliteStore::CreateSegmentGroup(const SegmentGroupPatch& patch) {
  if (!patch.name || patch.name->empty()) return Status::Invalid("name required");

  SegmentGroup group;
  group.name = *patch.name;
  if (patch.reference) group.reference = *patch.reference;
  group.calculated = patch.calculated.value_or(false);
  group.show_as_filter = patch.show_as_filter.value_or(false);
  if (patch.filter_sort_order) group.filter_sort_order = *patch.filter_sort_order;
  group.export_newsletter_provider = patch.export_newsletter_provider.value_or(false);

  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    CMFD_SQLITE_TRY(CheckGroupReference(txn.db, group));
    group.modification_date = txn.now;
    group.creation_date = txn.now;

    Result<SqliteStatement> insert = txn.db.Prepare(
        "INSERT INTO segment_groups (name, reference, calculated, show_as_filter, "
        "filter_sort_order, export_newsletter_provider, modification_date, creation_date) "
        "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
    if (!insert.ok()) return insert.status();
    insert->BindText(1, group.name);
    insert->BindOptionalText(2, group.reference);
    insert->BindBool(3, group.calculated);
    insert->BindBool(4, group.show_as_filter);
    insert->BindOptionalInt(5, group.filter_sort_order);
    insert->BindBool(6, group.export_newsletter_provider);
    insert->BindInt(7, group.modification_date);
    insert->BindInt(8, group.creation_date);
    CMFD_SQLITE_TRY(insert->Run());
    group.id = txn.db.LastInsertId();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return group;
}

Result<SegmentGroup> SqliteStore::UpdateSegmentGroup(std::int64_t id,
                                                     const SegmentGroupPatch& patch) {
  SegmentGroup group;
  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    bool found = false;
    CMFD_SQLITE_TRY(LoadGroup(txn.db, id, group, found));
    if (!found) return NotFoundStatus("Segment group", id);
    if (patch.name && patch.name->empty()) return Status::Invalid("name required");

    bool was_calculated = group.calculated;
    if (patch.name) group.name = *patch.name;
    if (patch.reference) group.reference = *patch.reference;
    if (patch.calculated) group.calculated = *patch.calculated;
    if (patch.show_as_filter) group.show_as_filter = *patch.show_as_filter;
    if (patch.filter_sort_order) group.filter_sort_order = *patch.filter_sort_order;
    if (patch.export_newsletter_provider) {
      group.export_newsletter_provider = *patch.export_newsletter_provider;
    }
    CMFD_SQLITE_TRY(CheckGroupReference(txn.db, group));

    group.modification_date = txn.now;
    Result<SqliteStatement> update = txn.db.Prepare(
        "UPDATE segment_groups SET name = ?1, reference = ?2, calculated = ?3, "
        "show_as_filter = ?4, filter_sort_order = ?5, export_newsletter_provider = ?6, "
        "modification_date = ?7 WHERE id = ?8");
    if (!update.ok()) return update.status();
    update->BindText(1, group.name);
    update->BindOptionalText(2, group.reference);
    update->BindBool(3, group.calculated);
    update->BindBool(4, group.show_as_filter);
    update->BindOptionalInt(5, group.filter_sort_order);
    update->BindBool(6, group.export_newsletter_provider);
    update->BindInt(7, group.modification_date);
    update->BindInt(8, id);
    CMFD_SQLITE_TRY(update->Run());

    // A segment always has its group's flag, so the change is a write of
    // every segment of the group.
    if (group.calculated != was_calculated) {
      Result<SqliteStatement> cascade = txn.db.Prepare(
          "UPDATE segments SET calculated = ?1, modification_date = ?2 WHERE group_id = ?3");
      if (!cascade.ok()) return cascade.status();
      cascade->BindBool(1, group.calculated);
      cascade->BindInt(2, txn.now);
      cascade->BindInt(3, id);
      CMFD_SQLITE_TRY(cascade->Run());
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return group;
}

Result<SegmentGroup> SqliteStore::GetSegmentGroup(std::int64_t id) {
  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  SegmentGroup group;
  bool found = false;
  CMFD_SQLITE_TRY(LoadGroup(reader->db(), id, group, found));
  if (!found) return NotFoundStatus("Segment group", id);
  return group;
}

Status SqliteStore::DeleteSegmentGroup(std::int64_t id) {
  return RunWrite([&](WriteTransaction& txn) -> Status {
    SegmentGroup group;
    bool found = false;
    CMFD_SQLITE_TRY(LoadGroup(txn.db, id, group, found));
    if (!found) return NotFoundStatus("Segment group", id);

    CMFD_SQLITE_TRY(TouchCustomersWithSegments(
        txn.db,
        "UPDATE customers SET modification_date = ?1 WHERE id IN (SELECT customer_id FROM "
        "customer_segments WHERE segment_id IN (SELECT id FROM segments WHERE group_id = ?2))",
        id, txn.now));
    CMFD_SQLITE_TRY(RunWithId(txn.db,
                              "DELETE FROM customer_segments WHERE segment_id IN "
                              "(SELECT id FROM segments WHERE group_id = ?1)",
                              id));
    CMFD_SQLITE_TRY(RunWithId(txn.db, "DELETE FROM segments WHERE group_id = ?1", id));
    return RunWithId(txn.db, "DELETE FROM segment_groups WHERE id = ?1", id);
  });
}

Result<ListInfo> SqliteStore::ListSegmentGroups(
    const PageRequest& page, const std::function<void(const SegmentGroup&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(page);
  if (!offset.ok()) return offset.status();

  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  SqliteDb& db = reader->db();

  ListInfo info;
  info.timestamp = clock_.ReadTimestamp();
  CMFD_SQLITE_TRY(reader->Begin());

  SqlFilter no_filter;
  Result<std::int64_t> total = QueryCount(db, "SELECT count(*) FROM segment_groups", no_filter);
  if (!total.ok()) return total.status();
  info.total_rows = total.value();

  if (offset.value() && *offset.value() < info.total_rows) {
    static const std::string kSql = std::string("SELECT ") + kGroupColumns +
                                    " FROM segment_groups ORDER BY id LIMIT ?1 OFFSET ?2";
    Result<SqliteStatement> stmt = db.Prepare(kSql);
    if (!stmt.ok()) return stmt.status();
    stmt->BindInt(1, page.page_size);
    stmt->BindInt(2, *offset.value());
    SegmentGroup group;
    while (true) {
      Result<bool> has_row = stmt->Step();
      if (!has_row.ok()) return has_row.status();
      if (!has_row.value()) break;
      ReadGroupRow(stmt.value(), group);
      row(group);
    }
  }

  CMFD_SQLITE_TRY(reader->Commit());
  return info;
}

// ---- segments ----

Result<Segment> SqliteStore::CreateSegment(const SegmentPatch& patch) {
  Segment segment;
  if (patch.reference) segment.reference = *patch.reference;
  segment.use_as_target_group = patch.use_as_target_group.value_or(false);

  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    CMFD_SQLITE_TRY(ApplySegmentGroup(txn.db, patch.group, patch, segment));
    CMFD_SQLITE_TRY(CheckSegmentReference(txn.db, segment));
    segment.modification_date = txn.now;
    segment.creation_date = txn.now;

    Result<SqliteStatement> insert = txn.db.Prepare(
        "INSERT INTO segments (name, group_id, reference, calculated, use_as_target_group, "
        "modification_date, creation_date) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
    if (!insert.ok()) return insert.status();
    insert->BindText(1, segment.name);
    insert->BindInt(2, segment.group);
    insert->BindOptionalText(3, segment.reference);
    insert->BindBool(4, segment.calculated);
    insert->BindBool(5, segment.use_as_target_group);
    insert->BindInt(6, segment.modification_date);
    insert->BindInt(7, segment.creation_date);
    CMFD_SQLITE_TRY(insert->Run());
    segment.id = txn.db.LastInsertId();
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return segment;
}

Result<Segment> SqliteStore::UpdateSegment(std::int64_t id, const SegmentPatch& patch) {
  Segment segment;
  Status status = RunWrite([&](WriteTransaction& txn) -> Status {
    bool found = false;
    CMFD_SQLITE_TRY(LoadSegment(txn.db, id, segment, found));
    if (!found) return NotFoundStatus("Segment", id);

    // A move re-applies every group rule against the new group, and an
    // absent `calculated` takes that group's flag.
    std::optional<std::int64_t> group_id = patch.group.value_or(segment.group);
    CMFD_SQLITE_TRY(ApplySegmentGroup(txn.db, group_id, patch, segment));
    if (patch.reference) segment.reference = *patch.reference;
    if (patch.use_as_target_group) segment.use_as_target_group = *patch.use_as_target_group;
    CMFD_SQLITE_TRY(CheckSegmentReference(txn.db, segment));

    segment.modification_date = txn.now;
    Result<SqliteStatement> update = txn.db.Prepare(
        "UPDATE segments SET name = ?1, group_id = ?2, reference = ?3, calculated = ?4, "
        "use_as_target_group = ?5, modification_date = ?6 WHERE id = ?7");
    if (!update.ok()) return update.status();
    update->BindText(1, segment.name);
    update->BindInt(2, segment.group);
    update->BindOptionalText(3, segment.reference);
    update->BindBool(4, segment.calculated);
    update->BindBool(5, segment.use_as_target_group);
    update->BindInt(6, segment.modification_date);
    update->BindInt(7, id);
    return update->Run();
  });
  if (!status.ok()) return status;
  return segment;
}

Result<Segment> SqliteStore::GetSegment(std::int64_t id) {
  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  Segment segment;
  bool found = false;
  CMFD_SQLITE_TRY(LoadSegment(reader->db(), id, segment, found));
  if (!found) return NotFoundStatus("Segment", id);
  return segment;
}

Status SqliteStore::DeleteSegment(std::int64_t id) {
  return RunWrite([&](WriteTransaction& txn) -> Status {
    Segment segment;
    bool found = false;
    CMFD_SQLITE_TRY(LoadSegment(txn.db, id, segment, found));
    if (!found) return NotFoundStatus("Segment", id);

    CMFD_SQLITE_TRY(TouchCustomersWithSegments(
        txn.db,
        "UPDATE customers SET modification_date = ?1 WHERE id IN "
        "(SELECT customer_id FROM customer_segments WHERE segment_id = ?2)",
        id, txn.now));
    CMFD_SQLITE_TRY(RunWithId(txn.db, "DELETE FROM customer_segments WHERE segment_id = ?1", id));
    return RunWithId(txn.db, "DELETE FROM segments WHERE id = ?1", id);
  });
}

Result<ListInfo> SqliteStore::ListSegments(const SegmentQuery& query,
                                           const std::function<void(const Segment&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(query.page);
  if (!offset.ok()) return offset.status();

  SqlFilter filter;
  if (query.group) filter.Add("group_id = ?", {*query.group});

  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  SqliteDb& db = reader->db();

  ListInfo info;
  info.timestamp = clock_.ReadTimestamp();
  CMFD_SQLITE_TRY(reader->Begin());

  Result<std::int64_t> total =
      QueryCount(db, "SELECT count(*) FROM segments" + filter.where(), filter);
  if (!total.ok()) return total.status();
  info.total_rows = total.value();

  if (offset.value() && *offset.value() < info.total_rows) {
    Result<SqliteStatement> stmt =
        db.Prepare(std::string("SELECT ") + kSegmentColumns + " FROM segments" + filter.where() +
                   " ORDER BY id LIMIT ? OFFSET ?");
    if (!stmt.ok()) return stmt.status();
    filter.Bind(stmt.value());
    stmt->BindInt(filter.param_count() + 1, query.page.page_size);
    stmt->BindInt(filter.param_count() + 2, *offset.value());
    Segment segment;
    while (true) {
      Result<bool> has_row = stmt->Step();
      if (!has_row.ok()) return has_row.status();
      if (!has_row.value()) break;
      ReadSegmentRow(stmt.value(), segment);
      row(segment);
    }
  }

  CMFD_SQLITE_TRY(reader->Commit());
  return info;
}

}  // namespace cmfd
