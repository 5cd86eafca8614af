// Activities in the PostgreSQL store. The rules and messages are those of
// the SQLite store (sqlite_activities.cc).
#include <utility>

#include "storage/postgres/pg_rows.h"
#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

Status UnknownCustomerStatus(std::int64_t customer_id) {
  return Status::Invalid("customer with ID " + std::to_string(customer_id) + " was not found");
}

Status CheckActivityText(const Activity& activity) {
  Status status;
  RejectNul("type", activity.type, status);
  RejectNul("implementationClass", activity.implementation_class, status);
  RejectNul("a_id", activity.a_id, status);
  return status;
}

namespace {

// $1 .. $9 of kInsertActivity and kUpdateActivity.
Params ActivityValues(const Activity& activity) {
  return {IntParam(activity.customer_id),
          IntParam(activity.activity_date),
          activity.type,
          activity.implementation_class,
          OptionalIntParam(activity.o_id),
          activity.a_id,
          activity.md5,
          activity.attributes_json,
          IntParam(activity.modification_date)};
}

// With an a_id, the insert is an upsert on the activities_a_id index: of two
// processes creating the same (customer, type, a_id) at once, one inserts
// and the other waits for it and then updates that row. An update keeps the
// id and the creation date and takes every other value from the request.
// `xmax = 0` tells an inserted row from an updated one.
constexpr const char* kInsertActivity =
    "INSERT INTO activities (customer_id, activity_date, type, implementation_class, o_id, a_id, "
    "md5, attributes, modification_date, creation_date) "
    "VALUES ($1::bigint, $2::bigint, $3::text, $4::text, $5::bigint, $6::text, $7::text, "
    "$8::text, $9::bigint, $9::bigint) "
    "ON CONFLICT (customer_id, type, a_id) WHERE a_id IS NOT NULL DO UPDATE SET "
    "activity_date = excluded.activity_date, implementation_class = excluded.implementation_class, "
    "o_id = excluded.o_id, md5 = excluded.md5, attributes = excluded.attributes, "
    "modification_date = excluded.modification_date "
    "RETURNING id, creation_date, xmax = 0";

constexpr const char* kUpdateActivity =
    "UPDATE activities SET customer_id = $1::bigint, activity_date = $2::bigint, type = $3::text, "
    "implementation_class = $4::text, o_id = $5::bigint, a_id = $6::text, md5 = $7::text, "
    "attributes = $8::text, modification_date = $9::bigint WHERE id = $10::bigint";


// Checks that customer `id` exists and keeps it from being deleted until
// this transaction ends (a key-share lock, as a foreign key check takes).
Status LockCustomerKey(WriteTx& tx, std::int64_t id) {
  PgResult found = tx.Exec("SELECT 1 FROM customers WHERE id = $1::bigint FOR KEY SHARE",
                           {IntParam(id)});
  if (!found.ok()) return tx.Error(found, "activity customer check");
  if (found.rows() == 0) return UnknownCustomerStatus(id);
  return Status::Ok();
}

}  // namespace

Result<std::pair<Activity, bool>> PgStore::CreateActivity(const Activity& input,
                                                         const ActivityMerge& merge) {
  // A merge needs the stored row, so the stored activity is locked, merged
  // and updated by id. A plain insert follows when there is none: a
  // concurrent create of the same activity then makes it fail on the unique
  // index, and the retried attempt finds that activity and merges into it.
  static const std::string kLoadByExternalId =
      std::string("SELECT ") + kActivityColumns +
      " FROM activities a WHERE a.customer_id = $1::bigint AND a.type = $2::text"
      " AND a.a_id = $3::text FOR UPDATE";
  static constexpr const char* kInsertNewActivity =
      "INSERT INTO activities (customer_id, activity_date, type, implementation_class, o_id, "
      "a_id, md5, attributes, modification_date, creation_date) "
      "VALUES ($1::bigint, $2::bigint, $3::text, $4::text, $5::bigint, $6::text, $7::text, "
      "$8::text, $9::bigint, $9::bigint) "
      "RETURNING id, creation_date, true";
  const bool merging = merge && input.a_id;

  Activity activity = input;
  bool created = false;
  CMFD_PG_TRY(CheckActivityText(activity));
  Status status = runner_.Write("activity create", [&](WriteTx& tx) -> Status {
    activity = input;  // a retried attempt starts again from the request
    CMFD_PG_TRY(LockCustomerKey(tx, activity.customer_id));

    activity.modification_date = tx.now();
    if (merging) {
      PgResult existing = tx.Exec(kLoadByExternalId, {IntParam(activity.customer_id),
                                                      activity.type, *activity.a_id});
      if (!existing.ok()) return tx.Error(existing, "activity create");
      if (existing.rows() > 0) {
        const Activity stored = ReadActivityRow(existing, 0);
        activity.id = stored.id;
        activity.creation_date = stored.creation_date;
        merge(stored, activity);
        Params params = ActivityValues(activity);
        params.push_back(IntParam(activity.id));
        PgResult updated = tx.Exec(kUpdateActivity, params);
        if (!updated.ok()) return tx.Error(updated, "activity create");
        created = false;
        return Status::Ok();
      }
    }

    PgResult stored = tx.Exec(merging ? kInsertNewActivity : kInsertActivity,
                              ActivityValues(activity));
    if (!stored.ok()) return tx.Error(stored, "activity create", kExternalIdIndex);
    activity.id = stored.Int(0, 0);
    activity.creation_date = stored.Int(0, 1);
    created = stored.Bool(0, 2);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return std::make_pair(std::move(activity), created);
}

Result<Activity> PgStore::UpdateActivity(std::int64_t id,
                                         const std::function<Status(Activity&)>& modify) {
  static const std::string kLoad = std::string("SELECT ") + kActivityColumns +
                                   " FROM activities a WHERE a.id = $1::bigint FOR UPDATE";
  Activity activity;
  Status status = runner_.Write("activity update", [&](WriteTx& tx) -> Status {
    PgResult loaded = tx.Exec(kLoad, {IntParam(id)});
    if (!loaded.ok()) return tx.Error(loaded, "activity update");
    if (loaded.rows() == 0) return NotFoundStatus("Activity", id);
    activity = ReadActivityRow(loaded, 0);
    const Activity stored = activity;

    CMFD_PG_TRY(modify(activity));
    activity.id = id;
    activity.creation_date = stored.creation_date;
    CMFD_PG_TRY(CheckActivityText(activity));

    if (activity.customer_id != stored.customer_id) {
      CMFD_PG_TRY(LockCustomerKey(tx, activity.customer_id));
    }
    if (activity.a_id) {
      // A concurrent transaction that takes the same (customer, type, a_id)
      // after this check makes the update below violate the unique index;
      // the retry then finds it here.
      PgResult other = tx.Exec(
          "SELECT id FROM activities WHERE customer_id = $1::bigint AND type = $2::text"
          " AND a_id = $3::text AND id <> $4::bigint",
          {IntParam(activity.customer_id), activity.type, *activity.a_id, IntParam(id)});
      if (!other.ok()) return tx.Error(other, "activity update");
      if (other.rows() > 0) {
        return Status::Conflict("a_id \"" + *activity.a_id + "\" with type \"" + activity.type +
                                "\" is already used by activity " + other.String(0, 0) +
                                " of customer " + std::to_string(activity.customer_id));
      }
    }

    activity.modification_date = tx.now();
    Params params = ActivityValues(activity);
    params.push_back(IntParam(id));
    PgResult updated = tx.Exec(kUpdateActivity, params);
    if (!updated.ok()) return tx.Error(updated, "activity update", kExternalIdIndex);
    return Status::Ok();
  });
  if (!status.ok()) return status;
  return activity;
}

Result<Activity> PgStore::GetActivity(std::int64_t id) {
  static const std::string kSql =
      std::string("SELECT ") + kActivityColumns + " FROM activities a WHERE a.id = $1::bigint";
  Result<ReadResult> read = runner_.Read("activity read", {{kSql, {IntParam(id)}}});
  if (!read.ok()) return read.status();
  if (read->results[0].rows() == 0) return NotFoundStatus("Activity", id);
  return ReadActivityRow(read->results[0], 0);
}

Status PgStore::DeleteActivity(std::int64_t id) {
  return runner_.Write("activity delete", [&](WriteTx& tx) -> Status {
    PgResult removed = tx.Exec("DELETE FROM activities WHERE id = $1::bigint RETURNING type",
                               {IntParam(id)});
    if (!removed.ok()) return tx.Error(removed, "activity delete");
    if (removed.rows() == 0) return NotFoundStatus("Activity", id);

    PgResult recorded = tx.Exec(
        "INSERT INTO deletions (entity_type, id, type, creation_date)"
        " VALUES ('activities', $1::bigint, $2::text, $3::bigint)",
        {IntParam(id), removed.String(0, 0), IntParam(tx.now())});
    if (!recorded.ok()) return tx.Error(recorded, "activity delete");
    return Status::Ok();
  });
}

Result<ListInfo> PgStore::ListActivities(const ActivityQuery& query,
                                         const std::function<void(const Activity&)>& row) {
  Result<std::optional<std::int64_t>> offset = PageOffset(query.page);
  if (!offset.ok()) return offset.status();

  // A type that cannot be stored matches nothing, so it is left out of the
  // list; a list left empty that way matches no row at all.
  std::vector<std::string> types;
  for (const std::string& type : query.types) {
    if (IsStorableText(type)) types.push_back(type);
  }
  SqlFilter filter;
  if (!query.types.empty() && types.empty()) {
    filter.Add("false", {});
  } else if (types.size() == 1) {
    filter.Add("a.type = $?::text", {types.front()});
  } else if (types.size() > 1) {
    filter.Add("a.type = ANY($?::text[])", {TextArrayLiteral(types)});
  }
  if (query.modified_since) {
    filter.Add("a.modification_date >= $?::bigint", {IntParam(*query.modified_since)});
  }
  if (query.customer_id) {
    filter.Add("a.customer_id = $?::bigint", {IntParam(*query.customer_id)});
  }

  std::vector<PipelineStep> steps = {
      {"SELECT count(*) FROM activities a" + filter.where(), filter.params()}};
  if (offset.value()) {
    // NOTE: deep pages pay for OFFSET row by row, as on SQLite.
    Params params = filter.params();
    params.push_back(IntParam(query.page.page_size));
    params.push_back(IntParam(*offset.value()));
    steps.push_back({std::string("SELECT ") + kActivityColumns + " FROM activities a" +
                         filter.where() + " ORDER BY a.activity_date, a.id LIMIT " +
                         filter.Next() + "::bigint OFFSET " + filter.Next(1) + "::bigint",
                     params});
  }

  Result<ReadResult> read = runner_.Read("activity list", steps);
  if (!read.ok()) return read.status();

  ListInfo info;
  info.timestamp = read->timestamp;
  info.total_rows = read->results[0].Int(0, 0);
  if (read->results.size() > 1) {
    const PgResult& rows = read->results[1];
    for (int i = 0; i < rows.rows(); ++i) row(ReadActivityRow(rows, i));
  }
  return info;
}

}  // namespace cmfd::pg
