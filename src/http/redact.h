// Redaction of secrets in text that goes to the log.
//
// API keys may travel in the query string and database passwords in the
// database URL; neither may ever reach a log line.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace cmfd {

// Returns true when a decoded query parameter name calls for a secret value:
// lower-cased, without '-', '_' and a trailing "[]", it contains "key",
// "token", "secret" or "password" ("apikey", "api_key", "access_token").
bool IsSecretParameterName(std::string_view decoded_name);

// Returns the request target ("/path?query") with the value of every query
// parameter whose name IsSecretParameterName() accepts replaced by REDACTED.
// Parameters are separated by '&' or ';' and names are percent-decoded first.
// A parameter whose decoded text has an '=' before the raw one (or has no raw
// '=', as in "apikey%3Ds3cret") is split at the first decoded '=' too, so
// that no encoding hides a secret. Everything else, including the fragment,
// is kept byte for byte.
std::string RedactRequestTarget(std::string_view target);

// The maximum size of a request target in the access log, in bytes.
inline constexpr std::size_t kMaxLoggedTargetBytes = 2048;

// Returns RedactRequestTarget(target) cut to kMaxLoggedTargetBytes, followed
// by "...(N bytes)" with the target's full size when it was cut.
std::string RequestTargetForLog(std::string_view target);

// Returns a database name with every password replaced by REDACTED: the one
// in the user info of a URL ("postgresql://user:secret@host/db") and every
// `password=` value, both as a URL query parameter ("?password=secret") and
// as a libpq keyword ("host=db password='se cret'"). A file path without such
// parts comes back unchanged.
std::string RedactDatabase(std::string_view database);

}  // namespace cmfd
