// Request and Response: the HTTP messages as request handlers see them.
//
// Handlers are independent of the HTTP library: the server adapter turns a
// library request into a Request (prefix removed, trailing slash dropped,
// query decoded, API key checked) and a Response back into bytes.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "domain/model.h"
#include "util/status.h"

namespace cmfd {

// The decoded query string, in the order sent.
class QueryParams {
 public:
  QueryParams() = default;
  explicit QueryParams(std::vector<std::pair<std::string, std::string>> items)
      : items_(std::move(items)) {}

  // Parses "a=1&b=x%20y" (percent-decoding, '+' as space).
  static QueryParams Parse(std::string_view query_string);

  // The first value of `name`; nullopt when absent or empty ("page=" counts
  // as absent).
  std::optional<std::string_view> Get(std::string_view name) const;

  // Every non-empty value of `name` and of `name[]`, in the order sent.
  std::vector<std::string_view> GetAll(std::string_view name) const;

  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct Request {
  std::string method;                // "GET", "POST", ...
  std::string path;                  // without the prefix and trailing slash: "/customers/7"
  std::vector<std::string> params;   // path parameters as sent: {"7"}
  QueryParams query;
  std::string body;
  std::optional<ApiKey> key;         // the authenticated key; empty on public routes
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;  // Content-Type: application/json is added unless set
  std::string body;

  // When set, the body is streamed with chunked transfer encoding: `body`
  // goes first, then `next_chunk` is called repeatedly; each call appends the
  // next piece to `out` and returns false after the last piece. The server
  // calls it again only after the previous piece was written to the socket,
  // so memory stays bounded by one piece. A non-ok Status aborts the
  // connection (the client sees a truncated body).
  std::function<Status(std::string& out, bool& more)> next_chunk;
};

// A JSON response with this status and body.
Response JsonResponse(int status, std::string body);

// The error body {"success": false, "msg": first, "errors": [all]} with the
// status's HTTP code.
Response ErrorResponse(const Status& status);

}  // namespace cmfd
