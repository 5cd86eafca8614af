// POST and PUT /segments-of-customers: add and remove segments of one
// customer.
#include <string>

#include "domain/json_writer.h"
#include "domain/segment_json.h"
#include "handlers/common.h"
#include "handlers/handlers.h"

namespace cmfd {

namespace {

// Unknown segment ids are a 400 naming each, and then nothing is applied
// (the store checks and writes in one transaction). The response lists the
// customer's segments afterwards: {"success": true, "segments": [1, 2]}.
Response ChangeSegments(const Request& request, HandlerContext& context) {
  Result<SegmentsOfCustomerRequest> change = ParseSegmentsOfCustomerRequest(request.body);
  if (!change.ok()) return ErrorResponse(change.status());

  Result<std::vector<std::int64_t>> segments = context.store.ChangeCustomerSegments(
      change->customer_id, change->add, change->remove);
  if (!segments.ok()) return ErrorResponse(segments.status());

  std::string body;
  JsonWriter writer(body);
  writer.StartObject();
  writer.Key("success");
  writer.Bool(true);
  writer.Key("segments");
  writer.StartArray();
  for (const std::int64_t id : segments.value()) writer.Int(id);
  writer.EndArray();
  writer.EndObject();
  return JsonResponse(200, std::move(body));
}

}  // namespace

void RegisterSegmentsOfCustomersRoutes(Router& router) {
  router.Add("POST", "/segments-of-customers", Access::kWrite, ChangeSegments);
  router.Add("PUT", "/segments-of-customers", Access::kWrite, ChangeSegments);
}

}  // namespace cmfd
