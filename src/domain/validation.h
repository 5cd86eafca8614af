// Validation rules shared by the JSON readers and the request handlers:
// text length in characters, email syntax, ISO 3166-1 country codes,
// calendar dates, timestamps and decimal integers.
//
// The functions here only decide; the callers write the messages, because
// only they know the field name.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cmfd {

// The current time in Unix epoch seconds.
std::int64_t CurrentUnixTime();

// The number of Unicode code points in valid UTF-8 `text`.
std::size_t CountCodePoints(std::string_view text);

// `text` cut to at most `max_bytes` at a UTF-8 character boundary, with
// "..." appended when it was cut.
std::string ShortenForMessage(std::string_view text, std::size_t max_bytes = 80);

// `text` as a shortened JSON string literal for a message: "abc".
std::string QuoteForMessage(std::string_view text);

// The rule that messages state for text containing U+0000. cmfd rejects
// that character in every string a client sends, on every backend, because
// PostgreSQL text cannot store it.
inline constexpr std::string_view kNulNotAllowed = "the NUL character (U+0000) is not allowed";

// ASCII letters upper-cased, every other byte kept.
std::string ToUpperAscii(std::string_view text);

// True for an assigned ISO 3166-1 alpha-2 code in upper case ("DE"); false
// for user-assigned codes such as "XX" and for lower case.
bool IsAssignedCountryCode(std::string_view code);

// True for a syntactically valid address: a dot-atom local part of at most
// 64 bytes, "@", and a domain of at least two dot-separated labels of
// letters, digits and inner hyphens, each at most 63 bytes. Non-ASCII UTF-8
// is allowed in both parts (internationalised addresses). The overall limit
// of 254 characters is the caller's check.
bool IsValidEmail(std::string_view address);

// The day number (days since 1970-01-01) of a "YYYY-MM-DD" date that exists
// in the Gregorian calendar, years 0001 to 9999; nullopt otherwise.
std::optional<std::int64_t> ParseDate(std::string_view text);

// Days since 1970-01-01 of today's date in UTC.
std::int64_t TodayUtc();

// The earliest and latest activity date accepted: 0001-01-01T00:00:00Z and
// 9999-12-31T23:59:59Z, so that every date can be written as ISO 8601.
inline constexpr std::int64_t kMinActivityDate = -62135596800;
inline constexpr std::int64_t kMaxActivityDate = 253402300799;

// Parses the text forms of an activity date into Unix seconds:
//   "1700000000", "-86400"         a signed integer (Unix seconds)
//   "2023-11-14T22:13:20Z"         ISO 8601 date-time; the offset is "Z",
//   "2023-11-14T23:13:20+01:00"    "+hh:mm" or "-hh:mm", none means UTC;
//   "2023-11-14T22:13:20.5Z"       fractions of a second are dropped
//   "2023-11-14"                   a date, midnight UTC
// Returns nullopt for anything else or a result outside
// [kMinActivityDate, kMaxActivityDate].
std::optional<std::int64_t> ParseActivityDate(std::string_view text);

// A decimal integer of digits only (no sign, no spaces) that fits a signed
// 64-bit integer; nullopt otherwise. Leading zeros are allowed.
std::optional<std::int64_t> ParseUnsignedInt64(std::string_view text);

// As ParseUnsignedInt64, with an optional leading '-'.
std::optional<std::int64_t> ParseInt64(std::string_view text);

}  // namespace cmfd
