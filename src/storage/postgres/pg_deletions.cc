// The deletions feed of the PostgreSQL store.
#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

namespace {

constexpr const char* kDeletionColumns = "id, entity_type, type, creation_date";

Deletion ReadDeletion(const PgResult& result, int row) {
  Deletion deletion;
  deletion.id = result.Int(row, 0);
  deletion.entity_type = result.String(row, 1);
  deletion.type = result.String(row, 2);
  deletion.creation_date = result.Int(row, 3);
  return deletion;
}

}  // namespace

Result<std::int64_t> PgStore::ScanDeletions(const DeletionQuery& query, DeletionCursor& cursor,
                                            std::int64_t limit, std::int64_t& timestamp,
                                            const std::function<void(const Deletion&)>& row) {
  if (limit < 1) {
    return Status::Internal("ScanDeletions needs a limit of at least 1, got " +
                            std::to_string(limit));
  }

  // Keyset paging on (creation_date, id), which the deletions_feed index
  // serves; an id is deleted at most once per entity type, so the key is
  // unique within the feed.
  std::string sql = std::string("SELECT ") + kDeletionColumns +
                    " FROM deletions WHERE entity_type = $1::text"
                    " AND ($2::bigint IS NULL OR creation_date >= $2::bigint)";
  Params params = {query.entity_type, OptionalIntParam(query.since)};
  if (cursor.started) {
    sql += " AND (creation_date, id) > ($4::bigint, $5::bigint)";
  }
  sql += " ORDER BY creation_date, id LIMIT $3::bigint";
  params.push_back(IntParam(limit));
  if (cursor.started) {
    params.push_back(IntParam(cursor.creation_date));
    params.push_back(IntParam(cursor.sequence));
  }

  PgResult rows;
  if (!cursor.started) {
    // The timestamp comes before the first chunk's snapshot; later chunks
    // only see more, so it covers them too.
    Result<ReadResult> read = runner_.Read("deletions scan", {{sql, params}});
    if (!read.ok()) return read.status();
    timestamp = read->timestamp;
    rows = read->results[0];
  } else {
    Result<std::vector<PgResult>> read =
        runner_.ReadWithoutTimestamp("deletions scan", {{sql, params}});
    if (!read.ok()) return read.status();
    rows = read.value()[0];
  }

  for (int i = 0; i < rows.rows(); ++i) {
    Deletion deletion = ReadDeletion(rows, i);
    cursor.started = true;
    cursor.creation_date = deletion.creation_date;
    cursor.sequence = deletion.id;
    row(deletion);
  }
  cursor.started = true;
  return std::int64_t{rows.rows()};
}

Result<ListInfo> PgStore::ListDeletions(const DeletionQuery& query, const PageRequest& page,
                                        const std::function<void(const Deletion&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(page);
  if (!offset.ok()) return offset.status();

  const char* filter =
      " FROM deletions WHERE entity_type = $1::text"
      " AND ($2::bigint IS NULL OR creation_date >= $2::bigint)";
  Params params = {query.entity_type, OptionalIntParam(query.since)};
  std::vector<PipelineStep> steps = {{std::string("SELECT count(*)") + filter, params}};
  std::string page_sql;
  if (offset.value()) {
    page_sql = std::string("SELECT ") + kDeletionColumns + filter +
               " ORDER BY creation_date, id LIMIT $3::bigint OFFSET $4::bigint";
    Params page_params = params;
    page_params.push_back(IntParam(page.page_size));
    page_params.push_back(IntParam(*offset.value()));
    steps.push_back({page_sql, page_params});
  }

  Result<ReadResult> read = runner_.Read("deletions list", steps);
  if (!read.ok()) return read.status();

  ListInfo info;
  info.timestamp = read->timestamp;
  info.total_rows = read->results[0].Int(0, 0);
  if (read->results.size() > 1) {
    const PgResult& rows = read->results[1];
    for (int i = 0; i < rows.rows(); ++i) row(ReadDeletion(rows, i));
  }
  return info;
}

}  // namespace cmfd::pg
