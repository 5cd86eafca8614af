// /segments and /segments/{id}.
#include <string>

#include "domain/json_writer.h"
#include "domain/segment_json.h"
#include "domain/validation.h"
#include "handlers/common.h"
#include "handlers/handlers.h"

namespace cmfd {

namespace {

constexpr std::string_view kEntity = "Segment";

// The flat segment plus "success": true, the CMF's response to a write.
Response WrittenSegment(const Segment& segment) {
  std::string body;
  JsonWriter writer(body);
  WriteSegment(writer, segment, true);
  return JsonResponse(200, std::move(body));
}

Response ListSegments(const Request& request, HandlerContext& context) {
  Status problems;
  SegmentQuery query;
  query.page = ParsePaging(request.query, context.config, problems);
  query.group = ParseIdParam(request.query, "group", problems);
  if (!problems.ok()) return ErrorResponse(problems);

  std::string data;
  JsonWriter writer(data);
  writer.StartArray();
  Result<ListInfo> info = context.store.ListSegments(
      query, [&](const Segment& segment) { WriteSegment(writer, segment, false); });
  writer.EndArray();
  if (!info.ok()) return ErrorResponse(info.status());
  return JsonResponse(200, ListBody(query.page, info.value(), data));
}

Response GetSegment(const Request& request, HandlerContext& context) {
  const std::string& path_id = request.params.at(0);
  const auto id = ParsePathId(path_id);
  if (!id) return ErrorResponse(IdNotFound(kEntity, path_id));
  Result<Segment> segment = context.store.GetSegment(*id);
  if (!segment.ok()) return StoreErrorOnId(segment.status(), kEntity, path_id);

  std::string data;
  JsonWriter writer(data);
  WriteSegment(writer, segment.value(), false);
  return JsonResponse(200, ItemBody(CurrentUnixTime(), data));
}

Response CreateSegment(const Request& request, HandlerContext& context) {
  Result<SegmentPatch> patch = ParseSegmentPatch(request.body, SegmentWrite::kCreate);
  if (!patch.ok()) return ErrorResponse(patch.status());
  Result<Segment> segment = context.store.CreateSegment(patch.value());
  if (!segment.ok()) return ErrorResponse(segment.status());
  return WrittenSegment(segment.value());
}

Response UpdateSegment(const Request& request, HandlerContext& context) {
  const std::string& path_id = request.params.at(0);
  const auto id = ParsePathId(path_id);
  if (!id) return ErrorResponse(IdNotFound(kEntity, path_id));

  Result<SegmentPatch> patch = ParseSegmentPatch(request.body, SegmentWrite::kUpdate);
  if (!patch.ok()) {
    return InvalidOnExistingId(patch.status(), context.store.GetSegment(*id).status(), kEntity,
                               path_id);
  }
  Result<Segment> segment = context.store.UpdateSegment(*id, patch.value());
  if (!segment.ok()) return StoreErrorOnId(segment.status(), kEntity, path_id);
  return WrittenSegment(segment.value());
}

Response DeleteSegment(const Request& request, HandlerContext& context) {
  const std::string& path_id = request.params.at(0);
  const auto id = ParsePathId(path_id);
  if (!id) return ErrorResponse(IdNotFound(kEntity, path_id));
  const Status deleted = context.store.DeleteSegment(*id);
  if (!deleted.ok()) return StoreErrorOnId(deleted, kEntity, path_id);
  return NoContent();
}

}  // namespace

void RegisterSegmentRoutes(Router& router) {
  router.Add("GET", "/segments", Access::kRead, ListSegments);
  router.Add("POST", "/segments", Access::kWrite, CreateSegment);
  router.Add("PUT", "/segments", Access::kWrite, CreateSegment);

  router.Add("GET", "/segments/{id}", Access::kRead, GetSegment);
  router.Add("PATCH", "/segments/{id}", Access::kWrite, UpdateSegment);
  router.Add("PUT", "/segments/{id}", Access::kWrite, UpdateSegment);
  router.Add("POST", "/segments/{id}", Access::kWrite, UpdateSegment);
  router.Add("DELETE", "/segments/{id}", Access::kWrite, DeleteSegment);
}

}  // namespace cmfd
