#include "util/api_key.h"

#include <sodium.h>

#include <array>
#include <stdexcept>

namespace cmfd {

namespace {

// sodium_init() may be called many times and from many threads; a function
// static makes the first call happen once and remembers its outcome.
bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

std::string ToHex(const unsigned char* bytes, std::size_t size) {
  std::string hex(size * 2 + 1, '\0');
  sodium_bin2hex(hex.data(), hex.size(), bytes, size);
  hex.resize(size * 2);
  return hex;
}

void RequireSodium() {
  if (!SodiumReady()) throw std::runtime_error("libsodium could not be initialized");
}

}  // namespace

Status InitCrypto() {
  if (!SodiumReady()) {
    return Status::Internal("libsodium could not be initialized (no usable randomness source)");
  }
  return Status::Ok();
}

std::string GenerateApiKey() {
  RequireSodium();
  std::array<unsigned char, 32> bytes;
  randombytes_buf(bytes.data(), bytes.size());
  std::string key = ToHex(bytes.data(), bytes.size());
  sodium_memzero(bytes.data(), bytes.size());
  return key;
}

std::string HashApiKey(std::string_view key) {
  RequireSodium();
  std::array<unsigned char, crypto_hash_sha256_BYTES> digest;
  crypto_hash_sha256(digest.data(), reinterpret_cast<const unsigned char*>(key.data()),
                     key.size());
  return ToHex(digest.data(), digest.size());
}

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace cmfd
