// /segment-groups and /segment-groups/{id}.
#include <string>

#include "domain/json_writer.h"
#include "domain/segment_json.h"
#include "domain/validation.h"
#include "handlers/common.h"
#include "handlers/handlers.h"

namespace cmfd {

namespace {

constexpr std::string_view kEntity = "Segment group";

// The flat group plus "success": true, the CMF's response to a write.
Response WrittenGroup(const SegmentGroup& group) {
  std::string body;
  JsonWriter writer(body);
  WriteSegmentGroup(writer, group, true);
  return JsonResponse(200, std::move(body));
}

Response ListGroups(const Request& request, HandlerContext& context) {
  Status problems;
  const PageRequest page = ParsePaging(request.query, context.config, problems);
  if (!problems.ok()) return ErrorResponse(problems);

  std::string data;
  JsonWriter writer(data);
  writer.StartArray();
  Result<ListInfo> info = context.store.ListSegmentGroups(
      page, [&](const SegmentGroup& group) { WriteSegmentGroup(writer, group, false); });
  writer.EndArray();
  if (!info.ok()) return ErrorResponse(info.status());
  return JsonResponse(200, ListBody(page, info.value(), data));
}

Response GetGroup(const Request& request, HandlerContext& context) {
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));
  Result<SegmentGroup> group = context.store.GetSegmentGroup(*id);
  if (!group.ok()) return StoreErrorOnId(group.status(), kEntity, segment);

  std::string data;
  JsonWriter writer(data);
  WriteSegmentGroup(writer, group.value(), false);
  return JsonResponse(200, ItemBody(CurrentUnixTime(), data));
}

Response CreateGroup(const Request& request, HandlerContext& context) {
  Result<SegmentGroupPatch> patch = ParseSegmentGroupPatch(request.body, SegmentWrite::kCreate);
  if (!patch.ok()) return ErrorResponse(patch.status());
  Result<SegmentGroup> group = context.store.CreateSegmentGroup(patch.value());
  if (!group.ok()) return ErrorResponse(group.status());
  return WrittenGroup(group.value());
}

Response UpdateGroup(const Request& request, HandlerContext& context) {
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));

  Result<SegmentGroupPatch> patch = ParseSegmentGroupPatch(request.body, SegmentWrite::kUpdate);
  if (!patch.ok()) {
    return InvalidOnExistingId(patch.status(), context.store.GetSegmentGroup(*id).status(),
                               kEntity, segment);
  }
  Result<SegmentGroup> group = context.store.UpdateSegmentGroup(*id, patch.value());
  if (!group.ok()) return StoreErrorOnId(group.status(), kEntity, segment);
  return WrittenGroup(group.value());
}

Response DeleteGroup(const Request& request, HandlerContext& context) {
  const std::string& segment = request.params.at(0);
  const auto id = ParsePathId(segment);
  if (!id) return ErrorResponse(IdNotFound(kEntity, segment));
  const Status deleted = context.store.DeleteSegmentGroup(*id);
  if (!deleted.ok()) return StoreErrorOnId(deleted, kEntity, segment);
  return NoContent();
}

}  // namespace

void RegisterSegmentGroupRoutes(Router& router) {
  router.Add("GET", "/segment-groups", Access::kRead, ListGroups);
  router.Add("POST", "/segment-groups", Access::kWrite, CreateGroup);
  router.Add("PUT", "/segment-groups", Access::kWrite, CreateGroup);

  router.Add("GET", "/segment-groups/{id}", Access::kRead, GetGroup);
  router.Add("PATCH", "/segment-groups/{id}", Access::kWrite, UpdateGroup);
  router.Add("PUT", "/segment-groups/{id}", Access::kWrite, UpdateGroup);
  router.Add("POST", "/segment-groups/{id}", Access::kWrite, UpdateGroup);
  router.Add("DELETE", "/segment-groups/{id}", Access::kWrite, DeleteGroup);
}

}  // namespace cmfd
