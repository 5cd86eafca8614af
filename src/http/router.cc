#include "http/router.h"

#include <algorithm>
#include <stdexcept>

namespace cmfd {

namespace {

// Splits "/a/b/c" into {"a", "b", "c"}. "" and "/" have no segments; an empty
// segment ("/a//b") is kept, so that it can match nothing.
std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> segments;
  if (!path.empty() && path.front() == '/') path.remove_prefix(1);
  if (path.empty()) return segments;
  while (true) {
    const std::size_t slash = path.find('/');
    segments.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return segments;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Access access, Handler handler) {
  if (pattern.size() < 2 || pattern.front() != '/') {
    throw std::invalid_argument("route pattern \"" + pattern +
                                "\" must start with '/' and name at least one segment");
  }

  std::vector<Segment> segments;
  for (std::string_view text : SplitPath(pattern)) {
    Segment segment;
    const bool braced = text.size() >= 3 && text.front() == '{' && text.back() == '}';
    if (braced && text.substr(1, text.size() - 2).find_first_of("{}/") == std::string_view::npos) {
      segment.parameter = true;
    } else if (text.empty() || text.find_first_of("{}") != std::string_view::npos) {
      throw std::invalid_argument("route pattern \"" + pattern +
                                  "\" has an empty or malformed segment");
    } else {
      segment.literal = std::string(text);
    }
    segments.push_back(std::move(segment));
  }

  // Routes with the same shape ("/a/{id}" and "/a/{x}") share one Pattern.
  auto same_shape = [&](const Pattern& candidate) {
    if (candidate.segments.size() != segments.size()) return false;
    for (std::size_t i = 0; i < segments.size(); ++i) {
      if (candidate.segments[i].parameter != segments[i].parameter) return false;
      if (candidate.segments[i].literal != segments[i].literal) return false;
    }
    return true;
  };
  auto found = std::find_if(patterns_.begin(), patterns_.end(), same_shape);
  if (found == patterns_.end()) {
    patterns_.push_back(Pattern{std::move(segments), {}});
    found = patterns_.end() - 1;
  }
  for (std::size_t index : found->route_indexes) {
    if (routes_[index].method == method) {
      throw std::invalid_argument("route " + method + " " + pattern + " is registered twice");
    }
  }

  found->route_indexes.push_back(routes_.size());
  routes_.push_back(Route{std::move(method), std::move(pattern), access, std::move(handler)});
}

RouteMatch Router::Match(std::string_view method, std::string_view path) const {
  const std::vector<std::string_view> parts = SplitPath(path);

  auto matches = [&](const Pattern& pattern) {
    if (pattern.segments.size() != parts.size()) return false;
    for (std::size_t i = 0; i < parts.size(); ++i) {
      const Segment& segment = pattern.segments[i];
      if (segment.parameter ? parts[i].empty() : parts[i] != segment.literal) return false;
    }
    return true;
  };
  // True when `a` is more specific than `b`; both match the same path.
  auto more_specific = [](const Pattern& a, const Pattern& b) {
    for (std::size_t i = 0; i < a.segments.size(); ++i) {
      if (a.segments[i].parameter != b.segments[i].parameter) return !a.segments[i].parameter;
    }
    return false;
  };

  const Pattern* best = nullptr;
  for (const Pattern& pattern : patterns_) {
    if (matches(pattern) && (best == nullptr || more_specific(pattern, *best))) best = &pattern;
  }

  RouteMatch match;
  if (best == nullptr) {
    match.status = 404;
    return match;
  }

  // HEAD is GET without the body (RFC 9110, 9.3.2), so a pattern with a GET
  // route and no HEAD route of its own serves HEAD with the GET route.
  const Route* get_route = nullptr;
  bool has_head = false;
  std::vector<std::string_view> allowed;
  for (std::size_t index : best->route_indexes) {
    const Route& route = routes_[index];
    if (route.method == method) {
      match.route = &route;
      break;
    }
    if (route.method == "GET") get_route = &route;
    if (route.method == "HEAD") has_head = true;
    allowed.push_back(route.method);
  }
  if (match.route == nullptr && method == "HEAD") match.route = get_route;

  if (match.route != nullptr) {
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (best->segments[i].parameter) match.params.emplace_back(parts[i]);
    }
    return match;
  }

  if (get_route != nullptr && !has_head) allowed.push_back("HEAD");
  std::sort(allowed.begin(), allowed.end());
  match.status = 405;
  for (std::string_view allowed_method : allowed) {
    if (!match.allow.empty()) match.allow += ", ";
    match.allow += allowed_method;
  }
  return match;
}

}  // namespace cmfd
