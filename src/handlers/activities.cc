// /activities and /activities/{id}.
#include <string>
#include <utility>

#include "domain/activity_json.h"
#include "domain/json_writer.h"
#include "domain/validation.h"
#include "handlers/common.h"
#include "handlers/handlers.h"

namespace cmfd {

namespace {

constexpr std::string_view kEntity = "Activity";

// An activity's JSON is about 900 bytes with the attributes of an order.
constexpr std::size_t kActivityBytes = 1024;

// {"timestamp": T, "data": {activity}} with the given status.
Response ActivityResponse(int status, const Activity& activity) {
  std::string body;
  body.reserve(kActivityBytes);
  JsonWriter writer(body);
  StartItemBody(writer, CurrentUnixTime());
  WriteActivity(writer, activity);
  writer.EndObject();
  return JsonResponse(status, std::move(body));
}

Response ListActivities(const Request& request, HandlerContext& context) {
  Status problems;
  ActivityQuery query;
  query.page = ParsePaging(request.query, context.config, problems);
  query.modified_since = ParseTimestampParam(request.query, "modifiedSinceTimestamp", problems);
  query.customer_id = ParseIdParam(request.query, "customerId", problems);
  for (const std::string_view type : ListParam(request.query, "type", problems)) {
    if (CheckTextParam("type", type, problems)) query.types.emplace_back(type);
  }
  if (!problems.ok()) return ErrorResponse(problems);

  std::string data;
  JsonWriter writer(data);
  writer.StartArray();
  Result<ListInfo> info = context.store.ListActivities(
      query, [&](const Activity& activity) { WriteActivity(writer, activity); });
  writer.EndArray();
  if (!info.ok()) return ErrorResponse(info.status());
  return JsonResponse(200, ListBody(query.page, info.value(), data));
}

Response GetActivity(const Request& request, HandlerContext& context) {
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));
  Result<Activity> activity = context.store.GetActivity(*id);
  if (!activity.ok()) return StoreErrorOnId(activity.status(), kEntity, segment);
  return ActivityResponse(200, activity.value());
}

// Creates an activity, or updates the customer's activity with the same type
// and a_id (200 instead of 201), so that a producer can retry safely. Such an
// update keeps the stored activityDate when the body has none: the current
// time is only the default of a new activity.
Response CreateActivity(const Request& request, HandlerContext& context) {
  Result<ActivityPatch> patch = ParseActivityPatch(request.body, ActivityWrite::kCreate);
  if (!patch.ok()) return ErrorResponse(patch.status());

  Activity activity = NewActivity();
  ApplyActivityPatch(patch.value(), activity);
  Store::ActivityMerge merge;
  if (patch->activity_date_defaulted) merge = KeepStoredActivityDate;
  Result<std::pair<Activity, bool>> stored = context.store.CreateActivity(activity, merge);
  if (!stored.ok()) return ErrorResponse(stored.status());
  const auto& [written, created] = stored.value();
  return ActivityResponse(created ? 201 : 200, written);
}

Response UpdateActivity(const Request& request, HandlerContext& context) {
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));

  Result<ActivityPatch> patch = ParseActivityPatch(request.body, ActivityWrite::kUpdate);
  if (!patch.ok()) {
    return InvalidOnExistingId(patch.status(), context.store.GetActivity(*id).status(), kEntity,
                               segment);
  }

  Result<Activity> updated = context.store.UpdateActivity(*id, [&](Activity& activity) {
    ApplyActivityPatch(patch.value(), activity);
    return Status::Ok();
  });
  if (!updated.ok()) return StoreErrorOnId(updated.status(), kEntity, segment);
  return ActivityResponse(200, updated.value());
}

Response DeleteActivity(const Request& request, HandlerContext& context) {
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));
  const Status deleted = context.store.DeleteActivity(*id);
  if (!deleted.ok()) return StoreErrorOnId(deleted, kEntity, segment);
  return NoContent();
}

}  // namespace

void RegisterActivityRoutes(Router& router) {
  router.Add("GET", "/activities", Access::kRead, ListActivities);
  router.Add("POST", "/activities", Access::kWrite, CreateActivity);
  router.Add("PUT", "/activities", Access::kWrite, CreateActivity);

  router.Add("GET", "/activities/{id}", Access::kRead, GetActivity);
  router.Add("PATCH", "/activities/{id}", Access::kWrite, UpdateActivity);
  router.Add("PUT", "/activities/{id}", Access::kWrite, UpdateActivity);
  router.Add("POST", "/activities/{id}", Access::kWrite, UpdateActivity);
  router.Add("DELETE", "/activities/{id}", Access::kWrite, DeleteActivity);
}

}  // namespace cmfd
