// Router: maps (method, path) to a handler, deciding 404 and 405 in the order
// the API defines: unknown path 404, known path with a wrong method 405 (with
// an Allow header), then the API key (403), then the handler.
//
// Patterns are paths relative to the API prefix with `{name}` for one path
// segment: "/customers/{id}". Both API prefixes (/webservice/cmf and
// /__customermanagementframework/webservice) are stripped by the server
// before routing, and a trailing slash is ignored.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "http/message.h"
#include "storage/store.h"

namespace cmfd {

// Access level a route requires.
enum class Access {
  kPublic,  // no key needed (health)
  kRead,    // any valid key
  kWrite,   // a read-write key
};

// Services a handler may use besides the request.
struct HandlerContext {
  Store& store;
  const Config& config;
};

using Handler = std::function<Response(const Request&, HandlerContext&)>;

struct Route {
  std::string method;
  std::string pattern;
  Access access;
  Handler handler;
};

// The outcome of a lookup: a route, or the 404/405 to send.
struct RouteMatch {
  const Route* route = nullptr;       // set when found
  std::vector<std::string> params;    // path parameters, as sent
  int status = 0;                     // 404 or 405 when route is null
  std::string allow;                  // "GET, POST" for a 405
};

class Router {
 public:
  // Registers a route. `pattern` starts with '/' and has no empty segment; a
  // `{name}` segment matches any one non-empty path segment. Throws
  // std::invalid_argument for a malformed pattern or a second route with the
  // same method and pattern shape. Call it before the first Match: Match
  // hands out pointers into the route table.
  void Add(std::string method, std::string pattern, Access access, Handler handler);

  // `path` is relative to the prefix with the trailing slash removed. When
  // several patterns match a path, the most specific one wins: at the first
  // segment where they differ, a literal beats a parameter. 404 and 405 are
  // decided on that pattern alone. HEAD matches the pattern's GET route
  // unless a HEAD route is registered, and the Allow of a 405 lists HEAD
  // wherever GET is allowed; the server sends HEAD responses without a body.
  RouteMatch Match(std::string_view method, std::string_view path) const;

 private:
  struct Segment {
    std::string literal;     // the text to match; empty for a parameter
    bool parameter = false;
  };

  // One pattern shape and the routes (one per method) registered for it.
  struct Pattern {
    std::vector<Segment> segments;
    std::vector<std::size_t> route_indexes;  // into routes_
  };

  std::vector<Route> routes_;
  std::vector<Pattern> patterns_;
};

}  // namespace cmfd
