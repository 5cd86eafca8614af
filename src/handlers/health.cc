// GET /health: whether the server and its database answer. Public, so that a
// load balancer or orchestrator can probe it without an API key.
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "handlers/handlers.h"
#include "util/utf8.h"

namespace cmfd {

namespace {

Response HealthResponse(int status, std::string_view overall, std::string_view database) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.StartObject();
  writer.Key("status");
  writer.String(overall.data(), static_cast<rapidjson::SizeType>(overall.size()));
  writer.Key("database");
  const std::string text = ToValidUtf8(database);
  writer.String(text);
  writer.EndObject();
  return JsonResponse(status, std::string(buffer.GetString(), buffer.GetSize()));
}

Response GetHealth(const Request&, HandlerContext& context) {
  const Status ping = context.store.Ping();
  if (ping.ok()) return HealthResponse(200, "ok", "ok");
  return HealthResponse(503, "unavailable", ping.message());
}

}  // namespace

void RegisterHealthRoutes(Router& router) {
  router.Add("GET", "/health", Access::kPublic, GetHealth);
}

}  // namespace cmfd
