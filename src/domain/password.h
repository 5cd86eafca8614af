// Customer passwords, stored only as Argon2id hashes (libsodium).
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace cmfd {

// Hashes `password` with Argon2id at libsodium's interactive limits (about
// 64 MiB of memory and a noticeable fraction of a second of CPU per call, on
// purpose); at most four hashes run at once and further calls wait. Returns
// the self-describing hash string that crypto_pwhash_str produces, or
// Internal when memory runs out.
Result<std::string> HashPassword(std::string_view password);

// True when `password` matches a hash from HashPassword.
bool VerifyPassword(std::string_view password, const std::string& hash);

}  // namespace cmfd
