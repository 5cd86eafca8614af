// The deletions feed in the SQLite store.
#include <algorithm>
#include <limits>

#include "storage/sqlite/sqlite_rows.h"
#include "storage/sqlite/sqlite_store_impl.h"

namespace cmfd {

namespace {

void ReadDeletionRow(const SqliteStatement& stmt, const std::string& entity_type,
                     Deletion& deletion) {
  deletion.id = stmt.ColumnInt(0);
  deletion.entity_type = entity_type;
  deletion.type = stmt.ColumnText(1);
  deletion.creation_date = stmt.ColumnInt(2);
}

}  // namespace

Result<std::int64_t> SqliteStore::ScanDeletions(const DeletionQuery& query,
                                                DeletionCursor& cursor, std::int64_t limit,
                                                std::int64_t& timestamp,
                                                const std::function<void(const Deletion&)>& row) {
  if (limit < 1) {
    return Status::Internal("ScanDeletions needs a limit of at least 1, got " +
                            std::to_string(limit));
  }

  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  if (!cursor.started) timestamp = clock_.ReadTimestamp();

  // Each chunk is one statement and so one snapshot. Between chunks the
  // keyset (creation_date, id) > cursor continues where the last one ended,
  // whatever was written meanwhile. The cursor's `sequence` is the last id,
  // because within one entity type (creation_date, id) is unique.
  std::int64_t since = query.since.value_or(std::numeric_limits<std::int64_t>::min());
  Result<SqliteStatement> stmt =
      cursor.started
          ? reader->db().Prepare(
                "SELECT id, type, creation_date FROM deletions"
                " WHERE entity_type = ?1 AND creation_date >= ?2 AND (creation_date, id) > (?4, ?5)"
                " ORDER BY creation_date, id LIMIT ?3")
          : reader->db().Prepare(
                "SELECT id, type, creation_date FROM deletions"
                " WHERE entity_type = ?1 AND creation_date >= ?2"
                " ORDER BY creation_date, id LIMIT ?3");
  if (!stmt.ok()) return stmt.status();
  stmt->BindText(1, query.entity_type);
  stmt->BindInt(2, cursor.started ? std::max(since, cursor.creation_date) : since);
  stmt->BindInt(3, limit);
  if (cursor.started) {
    stmt->BindInt(4, cursor.creation_date);
    stmt->BindInt(5, cursor.sequence);
  }

  std::int64_t delivered = 0;
  Deletion deletion;
  while (true) {
    Result<bool> has_row = stmt->Step();
    if (!has_row.ok()) return has_row.status();
    if (!has_row.value()) break;
    ReadDeletionRow(stmt.value(), query.entity_type, deletion);
    row(deletion);
    cursor.started = true;
    cursor.creation_date = deletion.creation_date;
    cursor.sequence = deletion.id;
    ++delivered;
  }
  cursor.started = true;
  return delivered;
}

Result<ListInfo> SqliteStore::ListDeletions(const DeletionQuery& query, const PageRequest& page,
                                            const std::function<void(const Deletion&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(page);
  if (!offset.ok()) return offset.status();

  SqlFilter filter;
  filter.Add("entity_type = ?", {query.entity_type});
  if (query.since) filter.Add("creation_date >= ?", {*query.since});

  Result<Reader> reader = LeaseReader();
  if (!reader.ok()) return reader.status();
  SqliteDb& db = reader->db();

  ListInfo info;
  info.timestamp = clock_.ReadTimestamp();
  CMFD_SQLITE_TRY(reader->Begin());

  Result<std::int64_t> total =
      QueryCount(db, "SELECT count(*) FROM deletions" + filter.where(), filter);
  if (!total.ok()) return total.status();
  info.total_rows = total.value();

  if (offset.value() && *offset.value() < info.total_rows) {
    Result<SqliteStatement> stmt =
        db.Prepare("SELECT id, type, creation_date FROM deletions" + filter.where() +
                   " ORDER BY creation_date, id LIMIT ? OFFSET ?");
    if (!stmt.ok()) return stmt.status();
    filter.Bind(stmt.value());
    stmt->BindInt(filter.param_count() + 1, page.page_size);
    stmt->BindInt(filter.param_count() + 2, *offset.value());
    Deletion deletion;
    while (true) {
      Result<bool> has_row = stmt->Step();
      if (!has_row.ok()) return has_row.status();
      if (!has_row.value()) break;
      ReadDeletionRow(stmt.value(), query.entity_type, deletion);
      row(deletion);
    }
  }

  CMFD_SQLITE_TRY(reader->Commit());
  return info;
}

}  // namespace cmfd
