#include "http/auth.h"

#include <string>
#include <utility>

#include "util/api_key.h"

namespace cmfd {

std::string_view PresentedApiKey(std::string_view header_value, const QueryParams& query) {
  // HTTP field values exclude the spaces and tabs around them; the parser
  // does not strip the trailing ones.
  const std::size_t first = header_value.find_first_not_of(" \t");
  if (first != std::string_view::npos) {
    const std::size_t last = header_value.find_last_not_of(" \t");
    return header_value.substr(first, last - first + 1);
  }
  if (auto key = query.Get("apikey")) return *key;
  if (auto key = query.Get("apiKey")) return *key;
  return {};
}

Result<std::optional<ApiKey>> Authorize(Store& store, ApiKeyCache& cache, Access access,
                                        std::string_view method, std::string_view key) {
  if (access == Access::kPublic) return std::optional<ApiKey>();
  if (key.empty()) return Status::Forbidden(std::string(kInvalidKeyMessage));

  std::optional<ApiKey> stored = cache.Find(key);
  if (!stored) {
    const std::string hash = HashApiKey(key);
    Result<std::optional<ApiKey>> found = store.FindApiKey(hash);
    if (!found.ok()) return found.status();

    // The store found the row by its hash; comparing again in constant time
    // keeps the decision itself free of a data-dependent early exit.
    stored = std::move(found.value());
    if (!stored || !ConstantTimeEquals(stored->hash, hash)) {
      return Status::Forbidden(std::string(kInvalidKeyMessage));
    }
    cache.Insert(key, *stored);
  }

  if (access == Access::kWrite && stored->read_only) {
    return Status::Forbidden("API key \"" + stored->name +
                             "\" is read-only and cannot be used for " + std::string(method) +
                             " requests");
  }
  return stored;
}

}  // namespace cmfd
