// Reading JSON request bodies.
//
// A body is first checked by a strict RFC 8259 validator, which is what
// produces the client's error message with a reason and a byte offset. Only
// a valid body is then read with simdjson On-Demand. The validation pass is
// needed because On-Demand is lazy: it never looks inside values that a
// reader skips (ignored read-only keys) and does not check the brackets of
// an object whose raw text is taken (activity attributes).
//
// Values are described in messages by their JSON text as sent, shortened to
// about 80 bytes, so a message names the field, the value and the rule:
//   active: invalid value "yes", must be true or false
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include <simdjson.h>

#include "util/status.h"

namespace cmfd {

using JsonValue = simdjson::ondemand::value;
using JsonType = simdjson::ondemand::json_type;

// Checks that `text` is exactly one JSON value with nothing but whitespace
// around it, strings are valid UTF-8 and no nesting is deeper than 512
// levels. Invalid: "Request body is no valid JSON: <reason> at byte <offset>".
Status ValidateJson(std::string_view text);

// Returns valid JSON `json` with all whitespace outside strings removed; the
// text of every string and number is kept byte for byte.
std::string MinifyJson(std::string_view json);

// Validates `body`, which must be a JSON object, and calls `visit` with each
// member's unescaped key and value, in the order sent. A key sent twice
// (compared unescaped) is Invalid: "duplicate key "<key>", ...", and then no
// member is visited. The visitor may read or ignore the value. Returns the
// validation error; problems with single members are the visitor's to
// record.
Status ForEachMember(std::string_view body,
                     const std::function<void(std::string_view key, JsonValue& value)>& visit);

// The JSON type of `value`; null when simdjson cannot tell, which cannot
// happen for a validated body.
JsonType TypeOf(JsonValue& value);

// The JSON text of `value` as sent, for messages. Consumes an array or object.
std::string DescribeValue(JsonValue& value);

// Adds "<field>: invalid value <value as sent>, must be <rule>".
void AddInvalidValue(Status& problems, std::string_view field, JsonValue& value,
                     std::string_view rule);

// Each Read function returns the value when it has the right type. Otherwise
// it adds "<field>: invalid value ..., must be <rule>" to `problems` and
// returns nullopt. A string_view stays valid until the next body is parsed on
// this thread. ReadString also rejects a string that contains U+0000, with
// kNulNotAllowed as the rule.
std::optional<std::string_view> ReadString(JsonValue& value, std::string_view field,
                                           std::string_view rule, Status& problems);
std::optional<bool> ReadBool(JsonValue& value, std::string_view field, Status& problems);

// A signed 64-bit JSON integer (no fraction, no exponent).
std::optional<std::int64_t> ReadInt(JsonValue& value, std::string_view field,
                                    std::string_view rule, Status& problems);

// An id: a positive 64-bit integer, sent as a JSON integer or as a string of
// digits, because PHP clients often send ids as strings.
std::optional<std::int64_t> ReadId(JsonValue& value, std::string_view field, Status& problems);

// The compact text of a JSON object value, exactly as sent but for the
// whitespace between tokens. Adds a problem for anything but an object.
std::optional<std::string> ReadObjectText(JsonValue& value, std::string_view field,
                                          Status& problems);

}  // namespace cmfd
