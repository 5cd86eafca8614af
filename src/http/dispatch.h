// Dispatcher: the HTTP-library-independent half of request handling, from a
// raw method, path, query and body to a Response.
//
// The statuses are decided in the API's order: an unknown route is 404, a
// known route with another method 405 (with Allow), then the API key (403),
// then the body size (413), then the handler. The server adapter calls
// Route() on its event-loop thread, because routing never blocks, and
// Execute() wherever NeedsWorker() says.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "config/config.h"
#include "http/api_key_cache.h"
#include "http/message.h"
#include "http/router.h"
#include "storage/store.h"

namespace cmfd {

// The API prefixes; every route is served under each of them.
inline constexpr std::string_view kApiPrefixes[] = {
    "/webservice/cmf",
    "/__customermanagementframework/webservice",
};

// Returns the routing path for a raw request path: the API prefix removed and
// one trailing slash dropped ("/webservice/cmf/customers/" is "/customers").
// "/health" is also served at the root. Any other path outside the prefixes
// returns nullopt (a 404).
std::optional<std::string_view> RoutingPath(std::string_view raw_path);

// Request fields the server adapter copies from the library's request.
struct RawRequest {
  std::string method;
  std::string path;            // as sent, without the query
  std::string query;           // as sent, without the '?'
  std::string api_key_header;  // X-API-Key; empty when absent
  std::string body;
};

// A request whose route was found.
struct RoutedRequest {
  const Route* route = nullptr;
  Request request;
  std::string presented_key;  // from the header or the query; empty if none
};

class Dispatcher {
 public:
  // A body of config.max_body_bytes is accepted; one byte more is a 413.
  // Keys found in the store are kept for config.api_key_cache_seconds,
  // measured by `now` (empty: the steady clock).
  Dispatcher(const Router& router, Store& store, const Config& config,
             ApiKeyCache::NowFunction now = {});

  // Finds the route: a 404 or 405 Response, or the routed request.
  std::variant<Response, RoutedRequest> Route(RawRequest raw) const;

  // True when `routed` must run on a worker thread: every method but GET
  // (writes, and HEAD, whose streamed body is counted in one go), and every
  // request when the store's calls may block.
  bool NeedsWorker(const RoutedRequest& routed) const;

  // Checks the key and the body size, then runs the handler. Never throws:
  // an exception becomes a 500 "internal error". For every 5xx, `cause` is
  // set to a description for the error log.
  Response Execute(RoutedRequest& routed, std::string& cause);

  Store& store() { return store_; }

 private:
  const Router& router_;
  Store& store_;
  const Config& config_;
  bool store_may_block_;
  ApiKeyCache api_keys_;
};

}  // namespace cmfd
