// Config: every setting of cmfd, from defaults, a TOML file and the command
// line, in that order of precedence (the command line wins).
//
// The TOML layout (every key optional):
//   listen = "127.0.0.1:8080"      database = "cmf.db"      threads = 2
//   durability = "full"
//   [limits]   max_body_bytes = 1048576   max_page_size = 1000
//   [api_keys] cache_seconds = 0
//   [customer] required = [["email"], ["firstname", "lastname"]]
//              duplicate_check = ["email"]
//   [[customer.fields]] name = "customerNumber"  type = "string"  unique = true
//   [[customer.fields]] name = "loyaltyTier"  type = "select"  options = [...]
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "util/status.h"

namespace cmfd {

// The value type of a configured extra customer field.
enum class FieldType { kString, kInt, kNumber, kBool, kDate, kEmail, kCountry, kSelect };

// An extra customer field declared in the configuration. Its values appear in
// the customer representation after `phone`, in declaration order.
struct CustomField {
  std::string name;
  FieldType type = FieldType::kString;
  std::vector<std::string> options;  // allowed values of a kSelect field
  // Unique among customers, and a list filter. Null is not a value here, so
  // many customers may have none; "" on a unique string field is stored as
  // null for the same reason.
  bool unique = false;
};

// The customer class of this installation: the extra fields and the optional
// save checks, which are off by default for compatibility with the CMF.
struct CustomerSchema {
  std::vector<CustomField> fields;
  // Any one of these combinations of field names must all be non-empty.
  // Empty: no requirement.
  std::vector<std::vector<std::string>> required;
  // A second customer whose values of all these fields equal (strings compared
  // case-insensitively) an existing customer's is a 409. Empty: no check.
  std::vector<std::string> duplicate_check;
};

// The durability level: what an acknowledged write survives
// (docs/durability.md). With SQLite:
// kFull syncs the write-ahead log on every commit (synchronous=FULL) and
// survives a crash of the operating system or a power loss; kNormal
// (synchronous=NORMAL) survives a crash of cmfd but can lose the last
// commits on power loss; kOff (synchronous=OFF) never syncs, and power loss
// can also corrupt the database.
enum class Durability { kFull, kNormal, kOff };

// The configuration spelling of `durability`: "full", "normal" or "off".
const char* DurabilityName(Durability durability);

struct Config {
  std::string listen = "127.0.0.1:8080";
  std::string database = "cmf.db";
  int threads = 2;  // event-loop threads
  Durability durability = Durability::kFull;  // `durability`, `--durability` on serve

  std::uint64_t max_body_bytes = 1048576;  // a body of exactly this size is accepted
  std::int64_t max_page_size = 1000;

  // Connections of the PostgreSQL store's pool; 0 = the store's default.
  // `[postgres] pool_size` in the file, `--pool-size` on serve.
  int pool_size = 0;

  // Seconds a server process keeps an API key it found before it looks the
  // key up again, which is also how long a revoked key may still work there.
  // 0 (the default) looks the key up on every request, so a revocation takes
  // effect from the next request. `[api_keys] cache_seconds` in the file.
  int api_key_cache_seconds = 0;

  CustomerSchema customer;
};

// Reads a TOML configuration file over `config`. Unknown keys and values of
// the wrong type are errors that name the key, the value and the rule.
Status LoadConfigFile(const std::string& path, Config& config);

}  // namespace cmfd
