#include "http/api_key_cache.h"

#include <sodium.h>

#include <utility>

#include "util/api_key.h"

namespace cmfd {

namespace {

static_assert(crypto_shorthash_siphashx24_BYTES == 16);
static_assert(crypto_shorthash_siphashx24_KEYBYTES == 16);

// Without a working randomness source the digest key would be predictable,
// so the cache stays off.
std::chrono::milliseconds UsableLifetime(std::chrono::milliseconds lifetime) {
  if (!InitCrypto().ok()) return std::chrono::milliseconds(0);
  return lifetime;
}

}  // namespace

ApiKeyCache::ApiKeyCache(std::chrono::milliseconds lifetime, NowFunction now)
    : lifetime_(UsableLifetime(lifetime)), now_(std::move(now)) {
  if (enabled()) randombytes_buf(digest_key_.data(), digest_key_.size());
}

ApiKeyCache::Digest ApiKeyCache::DigestOf(std::string_view presented_key) const {
  Digest digest;
  crypto_shorthash_siphashx24(digest.data(),
                              reinterpret_cast<const unsigned char*>(presented_key.data()),
                              presented_key.size(), digest_key_.data());
  return digest;
}

std::optional<ApiKey> ApiKeyCache::Find(std::string_view presented_key) {
  if (!enabled()) return std::nullopt;
  const Digest digest = DigestOf(presented_key);
  const Clock::time_point now = Now();
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = entries_.find(digest);
  if (found == entries_.end()) return std::nullopt;
  if (now >= found->second.expires) {
    entries_.erase(found);
    return std::nullopt;
  }
  return found->second.key;
}

void ApiKeyCache::Insert(std::string_view presented_key, const ApiKey& key) {
  if (!enabled()) return;
  const Digest digest = DigestOf(presented_key);
  const Clock::time_point now = Now();
  std::lock_guard<std::mutex> lock(mutex_);
  if (entries_.size() >= kMaxEntries && entries_.find(digest) == entries_.end()) {
    // Only keys that exist get here, so the cache fills up only when more
    // keys are in use within one lifetime than installations have. Dropping
    // them all then keeps the bound without bookkeeping, at the cost of one
    // store lookup per key.
    std::erase_if(entries_, [&](const auto& entry) { return now >= entry.second.expires; });
    if (entries_.size() >= kMaxEntries) entries_.clear();
  }
  entries_.insert_or_assign(digest, Entry{key, now + lifetime_});
}

}  // namespace cmfd
