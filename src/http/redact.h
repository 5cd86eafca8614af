// Redaction of secrets in text that goes to the log.
//
// API keys may travel in the query string and database passwords in the
// database URL; neither may ever reach a log line.
#pragma once

#include <string>
#include <string_view>

namespace cmfd {

// Returns the request target ("/path?query") with the value of every query
// parameter named apikey (in any letter case, percent-encoded or not, with or
// without a trailing "[]") replaced by REDACTED. Everything else, including
// the fragment, is kept byte for byte.
std::string RedactRequestTarget(std::string_view target);

// Returns a database name with every password replaced by REDACTED: the one
// in the user info of a URL ("postgresql://user:secret@host/db") and every
// `password=` value, both as a URL query parameter ("?password=secret") and
// as a libpq keyword ("host=db password='se cret'"). A file path without such
// parts comes back unchanged.
std::string RedactDatabase(std::string_view database);

}  // namespace cmfd
