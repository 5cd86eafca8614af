// JSON text that stores keep in columns: the object of a customer's extra
// field values, and arrays of ids or strings bound as one query parameter.
//
// The extra fields of a customer are stored as one JSON object keyed by field
// name, e.g. {"customerNumber":"12346","loyaltyTier":"gold"}. Null values are
// left out, so a field added to the configuration later reads as null on old
// rows, and a field removed from it is ignored. Values are the compact JSON
// literals of Customer::extra, copied verbatim in both directions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.h"
#include "util/status.h"

namespace cmfd {

// Appends `text` as a quoted JSON string, escaping quotes, backslashes and
// control characters. `text` must be valid UTF-8; other bytes are copied.
void AppendJsonString(std::string& out, std::string_view text);

// Builds the stored object from the values of `fields`, in the same order.
// `values` may be shorter than `fields`; missing values are null.
std::string EncodeExtraFields(const std::vector<CustomField>& fields,
                              const std::vector<std::optional<std::string>>& values);

// Splits a stored object into one value per entry of `fields`. Keys that
// name no field are skipped. Internal error when `object` is not a JSON
// object (the store wrote it, so that means damaged data).
Status DecodeExtraFields(std::string_view object, const std::vector<CustomField>& fields,
                         std::vector<std::optional<std::string>>& values);

// "[1,2,3]", for binding a list of ids to json_each().
std::string JsonIntArray(const std::vector<std::int64_t>& values);

// "[\"a\",\"b\"]", for binding a list of strings to json_each().
std::string JsonStringArray(const std::vector<std::string>& values);

}  // namespace cmfd
