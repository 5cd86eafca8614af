// Segment groups and segments in the PostgreSQL store. The rules and
// messages are those of the SQLite store (sqlite_segments.cc).
//
// Locks. A segment write locks its group FOR SHARE while it applies the
// group's rules; a group update or delete locks the group FOR NO KEY UPDATE
// or FOR UPDATE, which waits for those and blocks new ones, so a segment
// never ends up with a stale calculated flag or in a deleted group. Segment
// deletion locks the segment FOR UPDATE, which waits for assignments in
// progress (they hold a key-share lock on it).
#include <utility>

#include "storage/postgres/pg_rows.h"
#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

namespace {

constexpr const char* kGroupColumns =
    "id, name, reference, calculated, show_as_filter, filter_sort_order, "
    "export_newsletter_provider, modification_date, creation_date";

constexpr const char* kSegmentColumns =
    "id, name, group_id, reference, calculated, use_as_target_group, modification_date, "
    "creation_date";

constexpr const char* kGroupReferenceIndex = "segment_groups_reference";
constexpr const char* kSegmentReferenceIndex = "segments_reference";

SegmentGroup ReadGroupRow(const PgResult& result, int row) {
  SegmentGroup group;
  group.id = result.Int(row, 0);
  group.name = result.String(row, 1);
  group.reference = result.OptionalString(row, 2);
  group.calculated = result.Bool(row, 3);
  group.show_as_filter = result.Bool(row, 4);
  group.filter_sort_order = result.OptionalInt(row, 5);
  group.export_newsletter_provider = result.Bool(row, 6);
  group.modification_date = result.Int(row, 7);
  group.creation_date = result.Int(row, 8);
  return group;
}

Segment ReadSegmentRow(const PgResult& result, int row) {
  Segment segment;
  segment.id = result.Int(row, 0);
  segment.name = result.String(row, 1);
  segment.group = result.Int(row, 2);
  segment.reference = result.OptionalString(row, 3);
  segment.calculated = result.Bool(row, 4);
  segment.use_as_target_group = result.Bool(row, 5);
  segment.modification_date = result.Int(row, 6);
  segment.creation_date = result.Int(row, 7);
  return segment;
}

// Loads group `id` with the row lock `lock` ("FOR SHARE", ...).
Status LoadGroup(WriteTx& tx, std::int64_t id, const char* lock, SegmentGroup& group,
                 bool& found) {
  std::string sql = std::string("SELECT ") + kGroupColumns +
                    " FROM segment_groups WHERE id = $1::bigint " + lock;
  PgResult loaded = tx.Exec(sql, {IntParam(id)});
  if (!loaded.ok()) return tx.Error(loaded, "segment group load");
  found = loaded.rows() > 0;
  if (found) group = ReadGroupRow(loaded, 0);
  return Status::Ok();
}

Status LoadSegment(WriteTx& tx, std::int64_t id, const char* lock, Segment& segment,
                   bool& found) {
  std::string sql = std::string("SELECT ") + kSegmentColumns +
                    " FROM segments WHERE id = $1::bigint " + lock;
  PgResult loaded = tx.Exec(sql, {IntParam(id)});
  if (!loaded.ok()) return tx.Error(loaded, "segment load");
  found = loaded.rows() > 0;
  if (found) segment = ReadSegmentRow(loaded, 0);
  return Status::Ok();
}

// An empty reference counts as none, as in the CMF (PHP treats "" as false),
// so it is never a duplicate.
bool HasReference(const std::optional<std::string>& reference) {
  return reference && !reference->empty();
}

// Conflict when another group has the same reference and calculated flag.
// The unique index catches a group inserted concurrently after this check,
// and the retry of the transaction then reports it here.
Status CheckGroupReference(WriteTx& tx, const SegmentGroup& group) {
  if (!HasReference(group.reference)) return Status::Ok();
  PgResult found = tx.Exec(
      "SELECT id FROM segment_groups WHERE reference = $1::text AND reference <> ''"
      " AND calculated = $2::boolean AND id <> $3::bigint",
      {*group.reference, BoolParam(group.calculated), IntParam(group.id)});
  if (!found.ok()) return tx.Error(found, "segment group reference check");
  if (found.rows() == 0) return Status::Ok();
  return Status::Conflict("duplicate segment group - group with reference '" + *group.reference +
                          "' already exists");
}

// Conflict when another segment of the same group has the same reference.
Status CheckSegmentReference(WriteTx& tx, const Segment& segment) {
  if (!HasReference(segment.reference)) return Status::Ok();
  PgResult found = tx.Exec(
      "SELECT id FROM segments WHERE group_id = $1::bigint AND reference = $2::text"
      " AND reference <> '' AND id <> $3::bigint",
      {IntParam(segment.group), *segment.reference, IntParam(segment.id)});
  if (!found.ok()) return tx.Error(found, "segment reference check");
  if (found.rows() == 0) return Status::Ok();
  return Status::Conflict("duplicate segment - segment with reference '" + *segment.reference +
                          "' already exists in this group");
}

// Applies the group rules of a segment in the CMF's order: the group must be
// given and exist, then the name must be non-empty, then `calculated` (when
// sent) must equal the group's flag. On success `segment` is in `group_id`
// and carries that group's flag; the group stays locked FOR SHARE.
Status ApplySegmentGroup(WriteTx& tx, std::optional<std::int64_t> group_id,
                         const SegmentPatch& patch, Segment& segment) {
  if (!group_id || *group_id == 0) return Status::Invalid("group required");
  SegmentGroup group;
  bool found = false;
  CMFD_PG_TRY(LoadGroup(tx, *group_id, "FOR SHARE", group, found));
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

Status CheckNamesText(const std::optional<std::string>& name,
                      const std::optional<std::optional<std::string>>& reference) {
  Status status;
  RejectNul("name", name, status);
  if (reference) RejectNul("reference", *reference, status);
  return status;
}

// The parameters of the segment_groups INSERT and UPDATE, $1 .. $7.
Params GroupValues(const SegmentGroup& group) {
  return {group.name,
          group.reference,
          BoolParam(group.calculated),
          BoolParam(group.show_as_filter),
          OptionalIntParam(group.filter_sort_order),
          BoolParam(group.export_newsletter_provider),
          IntParam(group.modification_date)};
}

Params SegmentValues(const Segment& segment) {
  return {segment.name,
          IntParam(segment.group),
          segment.reference,
          BoolParam(segment.calculated),
          BoolParam(segment.use_as_target_group),
          IntParam(segment.modification_date)};
}

}  // namespace

// ---- segment groups ----

Result<SegmentGroup> PgStore::CreateSegmentGroup(const SegmentGroupPatch& patch) {
  if (!patch.name || patch.name->empty()) return Status::Invalid("name required");
  CMFD_PG_TRY(CheckNamesText(patch.name, patch.reference));

  SegmentGroup group;
  group.name = *patch.name;
  if (patch.reference) group.reference = *patch.reference;
  group.calculated = patch.calculated.value_or(false);
  group.show_as_filter = patch.show_as_filter.value_or(false);
  if (patch.filter_sort_order) group.filter_sort_order = *patch.filter_sort_order;
  group.export_newsletter_provider = patch.export_newsletter_provider.value_or(false);

  Status status = runner_.Write("segment group create", [&](WriteTx& tx) -> Status {
    group.id = 0;
    CMFD_PG_TRY(CheckGroupReference(tx, group));
    group.modification_date = tx.now();
    group.creation_date = tx.now();

    PgResult inserted = tx.Exec(
        "INSERT INTO segment_groups (name, reference, calculated, show_as_filter, "
        "filter_sort_order, export_newsletter_provider, modification_date, creation_date) "
        "VALUES ($1::text, $2::text, $3::boolean, $4::boolean, $5::bigint, $6::boolean, "
        "$7::bigint, $7::bigint) RETURNING id",
        GroupValues(group));
    if (!inserted.ok()) return tx.Error(inserted, "segment group create", kGroupReferenceIndex);
    group.id = inserted.Int(0, 0);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return group;
}

Result<SegmentGroup> PgStore::UpdateSegmentGroup(std::int64_t id, const SegmentGroupPatch& patch) {
  SegmentGroup group;
  Status status = runner_.Write("segment group update", [&](WriteTx& tx) -> Status {
    bool found = false;
    CMFD_PG_TRY(LoadGroup(tx, id, "FOR NO KEY UPDATE", group, found));
    if (!found) return NotFoundStatus("Segment group", id);
    if (patch.name && patch.name->empty()) return Status::Invalid("name required");
    CMFD_PG_TRY(CheckNamesText(patch.name, patch.reference));

    bool was_calculated = group.calculated;
    if (patch.name) group.name = *patch.name;
    if (patch.reference) group.reference = *patch.reference;
    if (patch.calculated) group.calculated = *patch.calculated;
    if (patch.show_as_filter) group.show_as_filter = *patch.show_as_filter;
    if (patch.filter_sort_order) group.filter_sort_order = *patch.filter_sort_order;
    if (patch.export_newsletter_provider) {
      group.export_newsletter_provider = *patch.export_newsletter_provider;
    }
    CMFD_PG_TRY(CheckGroupReference(tx, group));

    group.modification_date = tx.now();
    Params params = GroupValues(group);
    params.push_back(IntParam(id));
    PgResult updated = tx.Exec(
        "UPDATE segment_groups SET name = $1::text, reference = $2::text, "
        "calculated = $3::boolean, show_as_filter = $4::boolean, filter_sort_order = $5::bigint, "
        "export_newsletter_provider = $6::boolean, modification_date = $7::bigint "
        "WHERE id = $8::bigint",
        params);
    if (!updated.ok()) return tx.Error(updated, "segment group update", kGroupReferenceIndex);

    // A segment always has its group's flag, so the change is a write of
    // every segment of the group.
    if (group.calculated != was_calculated) {
      PgResult cascade = tx.Exec(
          "UPDATE segments SET calculated = $1::boolean, modification_date = $2::bigint"
          " WHERE group_id = $3::bigint",
          {BoolParam(group.calculated), IntParam(tx.now()), IntParam(id)});
      if (!cascade.ok()) return tx.Error(cascade, "segment group update");
    }
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return group;
}

Result<SegmentGroup> PgStore::GetSegmentGroup(std::int64_t id) {
  static const std::string kSql =
      std::string("SELECT ") + kGroupColumns + " FROM segment_groups WHERE id = $1::bigint";
  Result<ReadResult> read = runner_.Read("segment group read", {{kSql, {IntParam(id)}}});
  if (!read.ok()) return read.status();
  if (read->results[0].rows() == 0) return NotFoundStatus("Segment group", id);
  return ReadGroupRow(read->results[0], 0);
}

Status PgStore::DeleteSegmentGroup(std::int64_t id) {
  return runner_.Write("segment group delete", [&](WriteTx& tx) -> Status {
    SegmentGroup group;
    bool found = false;
    CMFD_PG_TRY(LoadGroup(tx, id, "FOR UPDATE", group, found));
    if (!found) return NotFoundStatus("Segment group", id);

    // Locking the group's segments waits for assignments in progress, so the
    // statements after it see them. The customers that had those segments
    // get a new modification date, so that delta sync notices the change.
    Params params = {IntParam(id)};
    return tx.Pipeline(
        {{"SELECT 1 FROM segments WHERE group_id = $1::bigint ORDER BY id FOR UPDATE", params},
         {"UPDATE customers SET modification_date = $2::bigint WHERE id IN (SELECT customer_id"
          " FROM customer_segments WHERE segment_id IN"
          " (SELECT id FROM segments WHERE group_id = $1::bigint))",
          {IntParam(id), IntParam(tx.now())}},
         {"DELETE FROM customer_segments WHERE segment_id IN"
          " (SELECT id FROM segments WHERE group_id = $1::bigint)",
          params},
         {"DELETE FROM segments WHERE group_id = $1::bigint", params},
         {"DELETE FROM segment_groups WHERE id = $1::bigint", params}},
        "segment group delete");
  });
}

Result<ListInfo> PgStore::ListSegmentGroups(const PageRequest& page,
                                            const std::function<void(const SegmentGroup&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(page);
  if (!offset.ok()) return offset.status();

  std::vector<PipelineStep> steps = {{"SELECT count(*) FROM segment_groups", {}}};
  if (offset.value()) {
    steps.push_back({std::string("SELECT ") + kGroupColumns +
                         " FROM segment_groups ORDER BY id LIMIT $1::bigint OFFSET $2::bigint",
                     {IntParam(page.page_size), IntParam(*offset.value())}});
  }
  Result<ReadResult> read = runner_.Read("segment group list", steps);
  if (!read.ok()) return read.status();

  ListInfo info;
  info.timestamp = read->timestamp;
  info.total_rows = read->results[0].Int(0, 0);
  if (read->results.size() > 1) {
    const PgResult& rows = read->results[1];
    for (int i = 0; i < rows.rows(); ++i) row(ReadGroupRow(rows, i));
  }
  return info;
}

// ---- segments ----

Result<Segment> PgStore::CreateSegment(const SegmentPatch& patch) {
  CMFD_PG_TRY(CheckNamesText(patch.name, patch.reference));
  Status status;
  Segment segment;
  status = runner_.Write("segment create", [&](WriteTx& tx) -> Status {
    segment = Segment();
    if (patch.reference) segment.reference = *patch.reference;
    segment.use_as_target_group = patch.use_as_target_group.value_or(false);

    CMFD_PG_TRY(ApplySegmentGroup(tx, patch.group, patch, segment));
    CMFD_PG_TRY(CheckSegmentReference(tx, segment));
    segment.modification_date = tx.now();
    segment.creation_date = tx.now();

    PgResult inserted = tx.Exec(
        "INSERT INTO segments (name, group_id, reference, calculated, use_as_target_group, "
        "modification_date, creation_date) VALUES ($1::text, $2::bigint, $3::text, $4::boolean, "
        "$5::boolean, $6::bigint, $6::bigint) RETURNING id",
        SegmentValues(segment));
    if (!inserted.ok()) return tx.Error(inserted, "segment create", kSegmentReferenceIndex);
    segment.id = inserted.Int(0, 0);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return segment;
}

Result<Segment> PgStore::UpdateSegment(std::int64_t id, const SegmentPatch& patch) {
  Segment segment;
  Status status = runner_.Write("segment update", [&](WriteTx& tx) -> Status {
    bool found = false;
    CMFD_PG_TRY(LoadSegment(tx, id, "FOR NO KEY UPDATE", segment, found));
    if (!found) return NotFoundStatus("Segment", id);
    CMFD_PG_TRY(CheckNamesText(patch.name, patch.reference));

    // A move re-applies every group rule against the new group; an absent
    // `calculated` takes that group's flag.
    std::optional<std::int64_t> group_id = patch.group.value_or(segment.group);
    CMFD_PG_TRY(ApplySegmentGroup(tx, group_id, patch, segment));
    if (patch.reference) segment.reference = *patch.reference;
    if (patch.use_as_target_group) segment.use_as_target_group = *patch.use_as_target_group;
    CMFD_PG_TRY(CheckSegmentReference(tx, segment));

    segment.modification_date = tx.now();
    Params params = SegmentValues(segment);
    params.push_back(IntParam(id));
    PgResult updated = tx.Exec(
        "UPDATE segments SET name = $1::text, group_id = $2::bigint, reference = $3::text, "
        "calculated = $4::boolean, use_as_target_group = $5::boolean, "
        "modification_date = $6::bigint WHERE id = $7::bigint",
        params);
    if (!updated.ok()) return tx.Error(updated, "segment update", kSegmentReferenceIndex);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return segment;
}

Result<Segment> PgStore::GetSegment(std::int64_t id) {
  static const std::string kSql =
      std::string("SELECT ") + kSegmentColumns + " FROM segments WHERE id = $1::bigint";
  Result<ReadResult> read = runner_.Read("segment read", {{kSql, {IntParam(id)}}});
  if (!read.ok()) return read.status();
  if (read->results[0].rows() == 0) return NotFoundStatus("Segment", id);
  return ReadSegmentRow(read->results[0], 0);
}

Status PgStore::DeleteSegment(std::int64_t id) {
  return runner_.Write("segment delete", [&](WriteTx& tx) -> Status {
    Segment segment;
    bool found = false;
    CMFD_PG_TRY(LoadSegment(tx, id, "FOR UPDATE", segment, found));
    if (!found) return NotFoundStatus("Segment", id);

    // Deleting the segment changes its customers' segment lists, and delta
    // sync must see that.
    Params params = {IntParam(id)};
    return tx.Pipeline(
        {{"UPDATE customers SET modification_date = $2::bigint WHERE id IN"
          " (SELECT customer_id FROM customer_segments WHERE segment_id = $1::bigint)",
          {IntParam(id), IntParam(tx.now())}},
         {"DELETE FROM customer_segments WHERE segment_id = $1::bigint", params},
         {"DELETE FROM segments WHERE id = $1::bigint", params}},
        "segment delete");
  });
}

Result<ListInfo> PgStore::ListSegments(const SegmentQuery& query,
                                       const std::function<void(const Segment&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(query.page);
  if (!offset.ok()) return offset.status();

  SqlFilter filter;
  if (query.group) filter.Add("group_id = $?::bigint", {IntParam(*query.group)});

  std::vector<PipelineStep> steps = {
      {"SELECT count(*) FROM segments" + filter.where(), filter.params()}};
  if (offset.value()) {
    Params params = filter.params();
    params.push_back(IntParam(query.page.page_size));
    params.push_back(IntParam(*offset.value()));
    steps.push_back({std::string("SELECT ") + kSegmentColumns + " FROM segments" +
                         filter.where() + " ORDER BY id LIMIT " + filter.Next() +
                         "::bigint OFFSET " + filter.Next(1) + "::bigint",
                     params});
  }
  Result<ReadResult> read = runner_.Read("segment list", steps);
  if (!read.ok()) return read.status();

  ListInfo info;
  info.timestamp = read->timestamp;
  info.total_rows = read->results[0].Int(0, 0);
  if (read->results.size() > 1) {
    const PgResult& rows = read->results[1];
    for (int i = 0; i < rows.rows(); ++i) row(ReadSegmentRow(rows, i));
  }
  return info;
}

}  // namespace cmfd::pg
