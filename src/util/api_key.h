// API keys: generation, hashing and constant-time comparison, on libsodium.
//
// A key is 32 bytes from the operating system's CSPRNG (256 bits), written
// as 64 lower-case hex digits. It is shown once, when created; the store only
// ever sees its SHA-256 hash, also as lower-case hex.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace cmfd {

// Initializes libsodium. Every function below calls it too, so calling it
// first only moves a failure (no usable randomness source) to start-up.
Status InitCrypto();

// Returns a new random key of 64 hex digits.
std::string GenerateApiKey();

// Returns the lower-case hex SHA-256 of `key`: the form in which keys are
// stored and looked up.
std::string HashApiKey(std::string_view key);

// Compares in time that depends only on the lengths, so that a stored hash
// cannot be guessed byte by byte from response times. Strings of different
// lengths are unequal.
bool ConstantTimeEquals(std::string_view a, std::string_view b);

}  // namespace cmfd
