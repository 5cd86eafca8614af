#include "domain/password.h"

#include <sodium.h>

#include <semaphore>

namespace cmfd {

namespace {

// sodium_init is safe to call from several threads and more than once; a
// negative result means the library cannot be used at all.
bool SodiumReady() {
  static const bool ready = sodium_init() >= 0;
  return ready;
}

// Each hash takes crypto_pwhash_MEMLIMIT_INTERACTIVE (64 MiB) while it
// runs. Capping the hashes in flight caps that memory at 256 MiB, however
// many requests with a password arrive at once; the others wait their turn.
constexpr std::ptrdiff_t kMaxConcurrentHashes = 4;
std::counting_semaphore<kMaxConcurrentHashes> hash_slots(kMaxConcurrentHashes);

}  // namespace

Result<std::string> HashPassword(std::string_view password) {
  if (!SodiumReady()) return Status::Internal("libsodium failed to initialise");
  char hash[crypto_pwhash_STRBYTES];
  hash_slots.acquire();
  const int failed = crypto_pwhash_str(hash, password.data(), password.size(),
                                       crypto_pwhash_OPSLIMIT_INTERACTIVE,
                                       crypto_pwhash_MEMLIMIT_INTERACTIVE);
  hash_slots.release();
  if (failed != 0) return Status::Internal("hashing the password failed: out of memory");
  return std::string(hash);
}

bool VerifyPassword(std::string_view password, const std::string& hash) {
  if (!SodiumReady()) return false;
  return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
}

}  // namespace cmfd
