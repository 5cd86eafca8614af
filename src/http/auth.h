// API key checks: which key a request presents and whether it may use a
// route. Decided after 404 and 405, before the handler runs.
#pragma once

#include <optional>
#include <string_view>

#include "domain/model.h"
#include "http/api_key_cache.h"
#include "http/message.h"
#include "http/router.h"
#include "storage/store.h"
#include "util/status.h"

namespace cmfd {

// The message of every 403 for a missing, unknown or revoked key; CMF
// clients know it from the original.
inline constexpr std::string_view kInvalidKeyMessage =
    "API request needs either a valid API key or a valid session.";

// Returns the key the request presents: the X-API-Key header, without the
// spaces and tabs around it, when that leaves it non-empty; else the query parameter apikey, else apiKey. Empty when none is present.
std::string_view PresentedApiKey(std::string_view header_value, const QueryParams& query);

// Decides whether a request with `method` and the presented key `key` may use
// a route with `access`. Returns the stored key (nullopt on a public route,
// whatever key was sent), or:
//   Forbidden with kInvalidKeyMessage for a missing, unknown or revoked key,
//   Forbidden naming the key and the method for a read-only key on a write
//   route, or the store's Status when the lookup fails (Unavailable: 503).
// A key found in `cache` is taken from there; a key the store finds is added
// to it. So a key revoked in the store is still accepted until its entry
// expires (api_key_cache.h has the lifetime and what the cache keeps).
Result<std::optional<ApiKey>> Authorize(Store& store, ApiKeyCache& cache, Access access,
                                        std::string_view method, std::string_view key);

}  // namespace cmfd
