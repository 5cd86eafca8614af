// The activities and segment assignments of a Store::Import batch (the plan
// is in pg_import.cc).
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "storage/postgres/pg_copy_in.h"
#include "storage/postgres/pg_store_impl.h"

namespace cmfd::pg {

namespace {

constexpr const char* kCopyActivities =
    "COPY activities (id, customer_id, activity_date, type, implementation_class, o_id, a_id, "
    "md5, attributes, modification_date, creation_date) FROM STDIN";

// What CreateActivity's upsert changes in the stored activity with the same
// customer, type and a_id: everything but the key, the id and the creation
// date.
constexpr const char* kUpdateStoredActivity =
    "UPDATE activities SET activity_date = $2::bigint, implementation_class = $3::text, "
    "o_id = $4::bigint, md5 = $5::text, attributes = $6::text, modification_date = $7::bigint "
    "WHERE id = $1::bigint";

using ExternalKey = std::tuple<std::int64_t, std::string, std::string>;  // customer, type, a_id

// One activity row as the batch leaves it: a stored one that rows update,
// or a new one. `last_row` is the batch row whose values it ends with.
struct Target {
  std::int64_t id = 0;
  std::int64_t creation_date = 0;
  bool stored = false;
  std::size_t last_row = 0;
  bool written = false;
};

// The customers that exist among `ids`, locked with `lock` (a row lock
// clause) in id order.
Status ExistingCustomers(WriteTx& tx, const std::set<std::int64_t>& ids, const char* lock,
                         const char* what, std::unordered_set<std::int64_t>& existing) {
  if (ids.empty()) return Status::Ok();
  PgResult found = tx.Exec(std::string("SELECT id FROM customers WHERE id = ANY($1::bigint[])"
                                       " ORDER BY id ") + lock,
                           {IntArrayLiteral(std::vector<std::int64_t>(ids.begin(), ids.end()))});
  if (!found.ok()) return tx.Error(found, what);
  for (int r = 0; r < found.rows(); ++r) existing.insert(found.Int(r, 0));
  return Status::Ok();
}

}  // namespace

Status PgStore::ImportActivities(WriteTx& tx, std::vector<Activity>& activities,
                                 ImportCounts& counts) {
  if (activities.empty()) return Status::Ok();
  const std::size_t count = activities.size();

  // The customers must exist; the key-share lock keeps them from being
  // deleted until the batch commits, as for a single create.
  std::vector<Status> refused(count);
  std::set<std::int64_t> customer_ids;
  for (std::size_t i = 0; i < count; ++i) {
    refused[i] = CheckActivityText(activities[i]);
    if (refused[i].ok()) customer_ids.insert(activities[i].customer_id);
  }
  std::unordered_set<std::int64_t> existing;
  CMFD_PG_TRY(ExistingCustomers(tx, customer_ids, "FOR KEY SHARE", "activity import customer check",
                                existing));
  for (std::size_t i = 0; i < count; ++i) {
    if (refused[i].ok() && existing.count(activities[i].customer_id) == 0) {
      refused[i] = UnknownCustomerStatus(activities[i].customer_id);
    }
  }

  // The stored activities that rows with an a_id update, locked as the
  // upsert would lock them. One that a concurrent transaction inserts after
  // this read makes the COPY fail on the a_id index, and the retry finds it.
  std::map<ExternalKey, std::size_t> by_key;  // -> index into targets
  std::vector<Target> targets;
  {
    std::vector<std::int64_t> key_customers;
    std::vector<std::string> key_types;
    std::vector<std::string> key_ids;
    for (std::size_t i = 0; i < count; ++i) {
      if (!refused[i].ok() || !activities[i].a_id) continue;
      key_customers.push_back(activities[i].customer_id);
      key_types.push_back(activities[i].type);
      key_ids.push_back(*activities[i].a_id);
    }
    if (!key_ids.empty()) {
      PgResult found = tx.Exec(
          "SELECT a.id, a.creation_date, a.customer_id, a.type, a.a_id FROM activities a"
          " JOIN (SELECT DISTINCT * FROM unnest($1::bigint[], $2::text[], $3::text[]))"
          " AS r(customer_id, type, a_id)"
          " ON a.customer_id = r.customer_id AND a.type = r.type AND a.a_id = r.a_id"
          " ORDER BY a.id FOR UPDATE OF a",
          {IntArrayLiteral(key_customers), TextArrayLiteral(key_types),
           TextArrayLiteral(key_ids)});
      if (!found.ok()) return tx.Error(found, "activity import");
      for (int r = 0; r < found.rows(); ++r) {
        Target target;
        target.id = found.Int(r, 0);
        target.creation_date = found.Int(r, 1);
        target.stored = true;
        by_key[{found.Int(r, 2), found.String(r, 3), found.String(r, 4)}] = targets.size();
        targets.push_back(target);
      }
    }
  }

  // Row by row: a row whose (customer, type, a_id) is stored or came earlier
  // in the batch updates that activity; any other row creates one.
  std::vector<std::size_t> target_of(count, 0);
  std::size_t new_targets = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (!refused[i].ok()) continue;
    const Activity& activity = activities[i];
    if (activity.a_id) {
      auto [slot, inserted] =
          by_key.try_emplace({activity.customer_id, activity.type, *activity.a_id},
                             targets.size());
      if (!inserted) {
        target_of[i] = slot->second;
        targets[slot->second].last_row = i;
        targets[slot->second].written = true;
        ++counts.activities_updated;
        continue;
      }
    }
    Target target;
    target.creation_date = tx.now();
    target.last_row = i;
    target.written = true;
    target_of[i] = targets.size();
    targets.push_back(target);
    ++new_targets;
    ++counts.activities_created;
  }

  // New activities get their ids in order of their first row.
  std::vector<std::int64_t> ids;
  CMFD_PG_TRY(ReserveIds(tx, "activities", new_targets, ids));
  std::size_t next_id = 0;
  for (Target& target : targets) {
    if (!target.stored) target.id = ids[next_id++];
  }

  CopyRows new_rows;
  std::vector<PipelineStep> updates;
  for (const Target& target : targets) {
    if (!target.written) continue;
    const Activity& activity = activities[target.last_row];
    if (target.stored) {
      updates.push_back({kUpdateStoredActivity,
                         {IntParam(target.id), IntParam(activity.activity_date),
                          activity.implementation_class, OptionalIntParam(activity.o_id),
                          activity.md5, activity.attributes_json, IntParam(tx.now())}});
      continue;
    }
    new_rows.Int(target.id);
    new_rows.Int(activity.customer_id);
    new_rows.Int(activity.activity_date);
    new_rows.Text(std::string_view(activity.type));
    new_rows.Text(std::string_view(activity.implementation_class));
    new_rows.OptionalInt(activity.o_id);
    new_rows.Text(activity.a_id);
    new_rows.Text(std::string_view(activity.md5));
    new_rows.Text(std::string_view(activity.attributes_json));
    new_rows.Int(tx.now());
    new_rows.Int(target.creation_date);
    new_rows.EndRow();
  }
  if (new_rows.rows() > 0) {
    PgResult copied = CopyIn(tx.connection(), kCopyActivities, new_rows);
    if (!copied.ok()) return tx.Error(copied, "activity import", kExternalIdIndex);
  }
  if (!updates.empty()) CMFD_PG_TRY(tx.Pipeline(updates, "activity import"));

  // Each written row shows the activity as that row left it.
  using Kind = ImportRejection::Kind;
  for (std::size_t i = 0; i < count; ++i) {
    if (!refused[i].ok()) {
      counts.rejected.push_back({Kind::kActivity, i, std::move(refused[i])});
      continue;
    }
    Activity& activity = activities[i];
    activity.id = targets[target_of[i]].id;
    activity.creation_date = targets[target_of[i]].creation_date;
    activity.modification_date = tx.now();
  }
  return Status::Ok();
}

Status PgStore::ImportAssignments(WriteTx& tx, const std::vector<SegmentAssignment>& assignments,
                                  ImportCounts& counts) {
  if (assignments.empty()) return Status::Ok();

  std::set<std::int64_t> customer_ids;
  std::set<std::int64_t> segment_ids;
  for (const SegmentAssignment& assignment : assignments) {
    customer_ids.insert(assignment.customer_id);
    segment_ids.insert(assignment.add.begin(), assignment.add.end());
    segment_ids.insert(assignment.remove.begin(), assignment.remove.end());
  }

  // Locks as ChangeCustomerSegments does, for all rows at once: the
  // customers against concurrent changes of their segments (their
  // assignments are read after the lock), the segments against deletion.
  std::unordered_set<std::int64_t> existing;
  CMFD_PG_TRY(ExistingCustomers(tx, customer_ids, "FOR NO KEY UPDATE",
                                "segment assignment import", existing));
  std::unordered_map<std::int64_t, std::set<std::int64_t>> segments_of;
  if (!existing.empty()) {
    PgResult stored = tx.Exec(
        "SELECT customer_id, segment_id FROM customer_segments"
        " WHERE customer_id = ANY($1::bigint[])",
        {IntArrayLiteral(std::vector<std::int64_t>(existing.begin(), existing.end()))});
    if (!stored.ok()) return tx.Error(stored, "segment assignment import");
    for (int r = 0; r < stored.rows(); ++r) {
      segments_of[stored.Int(r, 0)].insert(stored.Int(r, 1));
    }
  }
  std::unordered_set<std::int64_t> known_segments;
  if (!segment_ids.empty()) {
    PgResult found = tx.Exec(
        "SELECT id FROM segments WHERE id = ANY($1::bigint[]) ORDER BY id FOR KEY SHARE",
        {IntArrayLiteral(std::vector<std::int64_t>(segment_ids.begin(), segment_ids.end()))});
    if (!found.ok()) return tx.Error(found, "segment assignment import");
    for (int r = 0; r < found.rows(); ++r) known_segments.insert(found.Int(r, 0));
  }

  // Row by row, each on the segments the rows before it left. A customer
  // whose segments some row changed gets a new modification_date, even when
  // a later row changes them back, as with one call per row.
  const auto stored_segments = segments_of;
  std::set<std::int64_t> changed;
  using Kind = ImportRejection::Kind;
  for (std::size_t i = 0; i < assignments.size(); ++i) {
    const SegmentAssignment& assignment = assignments[i];
    if (existing.count(assignment.customer_id) == 0) {
      counts.rejected.push_back(
          {Kind::kAssignment, i, NotFoundStatus("Customer", assignment.customer_id)});
      continue;
    }
    std::vector<std::int64_t> unknown;
    std::set<std::int64_t> reported;
    for (const std::vector<std::int64_t>* list : {&assignment.add, &assignment.remove}) {
      for (std::int64_t segment_id : *list) {
        if (known_segments.count(segment_id) == 0 && reported.insert(segment_id).second) {
          unknown.push_back(segment_id);
        }
      }
    }
    if (!unknown.empty()) {
      counts.rejected.push_back({Kind::kAssignment, i, UnknownSegmentsStatus(unknown)});
      continue;
    }

    std::set<std::int64_t>& segments = segments_of[assignment.customer_id];
    std::set<std::int64_t> after = segments;
    after.insert(assignment.add.begin(), assignment.add.end());
    for (std::int64_t segment_id : assignment.remove) after.erase(segment_id);
    if (after != segments) {
      changed.insert(assignment.customer_id);
      segments = std::move(after);
    }
    ++counts.assignments_applied;
  }
  if (changed.empty()) return Status::Ok();

  // Only the difference between the stored and the final segments is
  // written.
  std::vector<std::int64_t> insert_customers, insert_segments, erase_customers, erase_segments;
  for (std::int64_t customer_id : changed) {
    static const std::set<std::int64_t> kNone;
    auto stored = stored_segments.find(customer_id);
    const std::set<std::int64_t>& before = stored == stored_segments.end() ? kNone : stored->second;
    const std::set<std::int64_t>& after = segments_of[customer_id];
    for (std::int64_t segment_id : after) {
      if (before.count(segment_id) == 0) {
        insert_customers.push_back(customer_id);
        insert_segments.push_back(segment_id);
      }
    }
    for (std::int64_t segment_id : before) {
      if (after.count(segment_id) == 0) {
        erase_customers.push_back(customer_id);
        erase_segments.push_back(segment_id);
      }
    }
  }
  return tx.Pipeline(
      {{"INSERT INTO customer_segments (customer_id, segment_id)"
        " SELECT * FROM unnest($1::bigint[], $2::bigint[])",
        {IntArrayLiteral(insert_customers), IntArrayLiteral(insert_segments)}},
       {"DELETE FROM customer_segments WHERE (customer_id, segment_id) IN"
        " (SELECT * FROM unnest($1::bigint[], $2::bigint[]))",
        {IntArrayLiteral(erase_customers), IntArrayLiteral(erase_segments)}},
       {"UPDATE customers SET modification_date = $1::bigint WHERE id = ANY($2::bigint[])",
        {IntParam(tx.now()),
         IntArrayLiteral(std::vector<std::int64_t>(changed.begin(), changed.end()))}}},
      "segment assignment import");
}

}  // namespace cmfd::pg
