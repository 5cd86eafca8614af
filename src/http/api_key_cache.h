// ApiKeyCache: API keys the store found recently, so that a request with a
// known key skips the store's lookup (a read transaction of its own, or a
// round trip to PostgreSQL) and the SHA-256 of the key.
//
// Lifetime. cmfd runs as many stateless processes on one database, and
// `cmfd apikey revoke` runs in another process still, so no process learns
// that a key was revoked. An entry therefore lives for a fixed lifetime from
// the lookup that stored it, and is then looked up again: a revoked key keeps
// working in a process for at most that long. A lifetime of zero turns the
// cache off.
//
// What is kept. Only keys the store found, each under a keyed hash of the
// key as presented: SipHash-2-4 with a 128-bit output, under a random key
// drawn per cache. The key itself is never kept, and without the random key
// the hashes reveal nothing about it. Finding a collision, which would let
// one key pass for another, takes about 2^128 guesses. An unknown key is
// looked up on every request, so a key created meanwhile works at once, a
// guessing client pays a store lookup for every guess, and guesses fill no
// memory. A failed lookup is not kept either.
//
// Thread-safe: the event-loop threads and the workers share one cache.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstring>
#include <functional>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>

#include "domain/model.h"

namespace cmfd {

class ApiKeyCache {
 public:
  using Clock = std::chrono::steady_clock;
  // Returns the current time. Tests pass a clock that they advance by hand.
  using NowFunction = std::function<Clock::time_point()>;

  // The maximum number of keys kept. An installation has a few.
  static constexpr std::size_t kMaxEntries = 4096;

  // `now` empty: the steady clock.
  explicit ApiKeyCache(std::chrono::milliseconds lifetime, NowFunction now = {});

  ApiKeyCache(const ApiKeyCache&) = delete;
  ApiKeyCache& operator=(const ApiKeyCache&) = delete;

  bool enabled() const { return lifetime_.count() > 0; }

  // Returns the stored key that `presented_key`, as the client sent it,
  // matched in a store lookup less than the lifetime ago, or nullopt.
  std::optional<ApiKey> Find(std::string_view presented_key);

  // Remembers for the lifetime, from now, that `presented_key` is `key`.
  // Call it only after the store found `key` by the hash of `presented_key`.
  // Does nothing when the cache is off.
  void Insert(std::string_view presented_key, const ApiKey& key);

 private:
  using Digest = std::array<unsigned char, 16>;

  struct DigestHash {
    std::size_t operator()(const Digest& digest) const {
      // The digest is already uniformly distributed.
      std::size_t value;
      std::memcpy(&value, digest.data(), sizeof(value));
      return value;
    }
  };

  struct Entry {
    ApiKey key;
    Clock::time_point expires;
  };

  Clock::time_point Now() const { return now_ ? now_() : Clock::now(); }
  Digest DigestOf(std::string_view presented_key) const;

  const std::chrono::milliseconds lifetime_;
  const NowFunction now_;
  std::array<unsigned char, 16> digest_key_;
  std::mutex mutex_;
  std::unordered_map<Digest, Entry, DigestHash> entries_;  // guarded by mutex_
};

}  // namespace cmfd
