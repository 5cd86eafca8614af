// Helpers shared by the request handlers: path ids, query parameters,
// paging and the response envelopes.
//
// Order of checks on an `/{id}` route: a malformed id is a 404 at once. An
// invalid query or body is a 400 only after a read of the store confirmed
// that the id exists, so an unknown id is always a 404.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "http/message.h"
#include "storage/store.h"
#include "util/status.h"

namespace cmfd {

class JsonWriter;

// The id on an `/{id}` route: decimal digits that make a positive signed
// 64-bit integer. nullopt for anything else (non-numeric, zero, negative,
// overflowing), for which the caller returns a 404.
std::optional<std::int64_t> ParsePathId(std::string_view segment);

// NotFound "<entity> with ID <segment> was not found", with the path segment
// as sent: "Customer with ID abc was not found".
Status IdNotFound(std::string_view entity, std::string_view segment);

// Builds the response to a request on an `/{id}` route whose query or body is
// invalid (`invalid`). `lookup` is the result of reading the id: NotFound
// gives the 404, another failure its own error, success the 400.
Response InvalidOnExistingId(const Status& invalid, const Status& lookup, std::string_view entity,
                             std::string_view segment);

// Builds the error response for a failed store call on an `/{id}` route:
// NotFound becomes the 404 with the segment as sent, anything else passes
// unchanged.
Response StoreErrorOnId(const Status& status, std::string_view entity, std::string_view segment);

// Appends every message of `from` to `into`.
void AddProblems(Status& into, const Status& from);

// Reads `page` (default 1) and `pageSize` (default 100, or the configured
// maximum if that is lower; at most config.max_page_size). Each must be an
// integer in its range; a problem names the parameter, the value sent and
// the allowed range.
PageRequest ParsePaging(const QueryParams& query, const Config& config, Status& problems);

// True when the query sets page or pageSize.
bool HasPaging(const QueryParams& query);

// Reads an optional Unix timestamp parameter: decimal digits, at most 64
// bits.
std::optional<std::int64_t> ParseTimestampParam(const QueryParams& query, std::string_view name,
                                                Status& problems);

// Reads an optional id parameter: a positive 64-bit integer.
std::optional<std::int64_t> ParseIdParam(const QueryParams& query, std::string_view name,
                                         Status& problems);

// A query value quoted for an error message: as sent when it is valid UTF-8
// without U+0000; otherwise with every byte outside printable ASCII (and
// '%') percent-encoded, as a client would write it in a URL, and marked so:
// "\"%FF%FE\" (percent-encoded)". A message never shows replacement
// characters in place of the bytes the client sent.
std::string QuoteParamForMessage(std::string_view value);

// Checks a query value that is used as text (a filter compared with stored
// strings). It must be valid UTF-8 and must not contain U+0000, because
// PostgreSQL rejects the one and cuts text at the other, so both backends
// return the same 400. A problem names the parameter and shows the value
// as QuoteParamForMessage does: "email: invalid value \"%FF%FE\"
// (percent-encoded), ...".
bool CheckTextParam(std::string_view name, std::string_view value, Status& problems);

// Reads an optional text parameter: the first value of `name`, checked by
// CheckTextParam. nullopt when absent or invalid.
std::optional<std::string_view> ParseTextParam(const QueryParams& query, std::string_view name,
                                               Status& problems);

// Reads an optional flag: "true" or "1" is true, "false" or "0" false,
// absent false.
bool ParseFlagParam(const QueryParams& query, std::string_view name, Status& problems);

// The items of every value of `name` and `name[]`, each split at commas,
// with spaces around items removed: "3,9" and "segments[]=3&segments[]=9"
// both give {"3", "9"}. A value that is empty or only spaces counts as
// absent; an empty item in a list (",", "1,", "1,,2") adds an invalid-value
// problem naming `name` and the value, because dropping it would quietly
// change what the client asked for.
std::vector<std::string_view> ListParam(const QueryParams& query, std::string_view name,
                                        Status& problems);

// ceil(rows / page_size); 0 when there are no rows.
std::int64_t TotalPages(std::int64_t rows, std::int64_t page_size);

// {"page": P, "totalPages": N, "timestamp": T, "data": <data>}, where
// `data` is a JSON array.
std::string ListBody(const PageRequest& page, const ListInfo& info, std::string_view data);

// {"timestamp": T, "data": <data>}, where `data` is a JSON object.
std::string ItemBody(std::int64_t timestamp, std::string_view data);

// Writes the start of ItemBody's envelope, `{"timestamp": T, "data": `. The
// caller then writes the object and calls EndObject(), which saves copying
// the object into the body.
void StartItemBody(JsonWriter& writer, std::int64_t timestamp);

// An empty 204 response.
Response NoContent();

}  // namespace cmfd
