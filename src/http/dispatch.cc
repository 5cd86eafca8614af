#include "http/dispatch.h"

#include <chrono>
#include <exception>
#include <utility>

#include "http/auth.h"

namespace cmfd {

namespace {

std::string_view DropTrailingSlash(std::string_view path) {
  if (path.size() > 1 && path.back() == '/') path.remove_suffix(1);
  return path;
}

}  // namespace

std::optional<std::string_view> RoutingPath(std::string_view raw_path) {
  for (std::string_view prefix : kApiPrefixes) {
    if (raw_path.substr(0, prefix.size()) != prefix) continue;
    std::string_view rest = raw_path.substr(prefix.size());
    if (!rest.empty() && rest.front() != '/') continue;  // "/webservice/cmfx"
    return DropTrailingSlash(rest);
  }

  std::string_view root = DropTrailingSlash(raw_path);
  if (root == "/health") return root;
  return std::nullopt;
}

Dispatcher::Dispatcher(const Router& router, Store& store, const Config& config,
                       ApiKeyCache::NowFunction now)
    : router_(router),
      store_(store),
      config_(config),
      store_may_block_(store.CallsMayBlock()),
      api_keys_(std::chrono::seconds(config.api_key_cache_seconds), std::move(now)) {}

std::variant<Response, RoutedRequest> Dispatcher::Route(RawRequest raw) const {
  const std::optional<std::string_view> path = RoutingPath(raw.path);
  RouteMatch match;
  if (path) {
    match = router_.Match(raw.method, *path);
  } else {
    match.status = 404;
  }

  if (match.route == nullptr) {
    const std::string request_line = raw.method + " " + raw.path;
    if (match.status == 405) {
      Response response = ErrorResponse(
          Status(Code::kInvalid, "No route found for \"" + request_line +
                                     "\": Method Not Allowed (Allow: " + match.allow + ")"));
      response.status = 405;
      response.headers.emplace_back("Allow", match.allow);
      return response;
    }
    return ErrorResponse(Status::NotFound("No route found for \"" + request_line + "\""));
  }

  RoutedRequest routed;
  routed.route = match.route;
  routed.request.method = std::move(raw.method);
  routed.request.path = std::string(*path);
  routed.request.params = std::move(match.params);
  routed.request.query = QueryParams::Parse(raw.query);
  routed.request.body = std::move(raw.body);
  routed.presented_key =
      std::string(PresentedApiKey(raw.api_key_header, routed.request.query));
  return routed;
}

bool Dispatcher::NeedsWorker(const RoutedRequest& routed) const {
  return store_may_block_ || routed.request.method != "GET";
}

Response Dispatcher::Execute(RoutedRequest& routed, std::string& cause) {
  Response response;
  try {
    Result<std::optional<ApiKey>> key = Authorize(store_, api_keys_, routed.route->access,
                                                  routed.request.method, routed.presented_key);
    if (!key.ok()) {
      response = ErrorResponse(key.status());
      if (response.status >= 500) cause = "API key lookup failed: " + key.status().message();
      return response;
    }
    routed.request.key = std::move(key.value());

    const std::uint64_t size = routed.request.body.size();
    if (size > config_.max_body_bytes) {
      return ErrorResponse(Status::TooLarge(
          "Request body is too large: " + std::to_string(size) + " bytes, the limit is " +
          std::to_string(config_.max_body_bytes) + " bytes"));
    }

    HandlerContext context{store_, config_};
    response = routed.route->handler(routed.request, context);
    if (response.status >= 500) cause = "handler returned " + response.body;
    return response;
  } catch (const std::exception& error) {
    cause = std::string("uncaught exception: ") + error.what();
  } catch (...) {
    cause = "uncaught exception of a type not derived from std::exception";
  }
  return ErrorResponse(Status::Internal("internal error"));
}

}  // namespace cmfd
