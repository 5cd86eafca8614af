#include "handlers/common.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>

#include "domain/json_writer.h"
#include "domain/validation.h"
#include "util/utf8.h"

namespace cmfd {

namespace {

constexpr std::int64_t kDefaultPageSize = 100;

Status InvalidParam(std::string_view name, std::string_view value, std::string_view rule) {
  return Status::Invalid(
      fmt::format("{}: invalid value {}, must be {}", name, QuoteParamForMessage(value), rule));
}

// Reads an optional integer parameter in [min, max].
std::optional<std::int64_t> ParseRangeParam(const QueryParams& query, std::string_view name,
                                            std::int64_t min, std::int64_t max,
                                            Status& problems) {
  const auto text = query.Get(name);
  if (!text) return std::nullopt;
  const auto value = ParseUnsignedInt64(*text);
  if (!value || *value < min || *value > max) {
    AddProblems(problems, InvalidParam(name, *text,
                                       fmt::format("an integer from {} to {}", min, max)));
    return std::nullopt;
  }
  return value;
}

}  // namespace

std::optional<std::int64_t> ParsePathId(std::string_view segment) {
  const auto id = ParseUnsignedInt64(segment);
  if (!id || *id <= 0) return std::nullopt;
  return id;
}

Status IdNotFound(std::string_view entity, std::string_view segment) {
  return Status::NotFound(fmt::format("{} with ID {} was not found", entity, segment));
}

Response InvalidOnExistingId(const Status& invalid, const Status& lookup, std::string_view entity,
                             std::string_view segment) {
  if (lookup.code() == Code::kNotFound) return ErrorResponse(IdNotFound(entity, segment));
  if (!lookup.ok()) return ErrorResponse(lookup);
  return ErrorResponse(invalid);
}

Response StoreErrorOnId(const Status& status, std::string_view entity, std::string_view segment) {
  if (status.code() == Code::kNotFound) return ErrorResponse(IdNotFound(entity, segment));
  return ErrorResponse(status);
}

void AddProblems(Status& into, const Status& from) {
  for (const std::string& message : from.messages()) into.Add(from.code(), message);
}

PageRequest ParsePaging(const QueryParams& query, const Config& config, Status& problems) {
  const std::int64_t max_page_size = std::max<std::int64_t>(1, config.max_page_size);
  PageRequest page;
  page.page = ParseRangeParam(query, "page", 1, std::numeric_limits<std::int64_t>::max(),
                              problems)
                  .value_or(1);
  page.page_size = ParseRangeParam(query, "pageSize", 1, max_page_size, problems)
                       .value_or(std::min(kDefaultPageSize, max_page_size));
  return page;
}

bool HasPaging(const QueryParams& query) {
  return query.Get("page").has_value() || query.Get("pageSize").has_value();
}

std::optional<std::int64_t> ParseTimestampParam(const QueryParams& query, std::string_view name,
                                                Status& problems) {
  const auto text = query.Get(name);
  if (!text) return std::nullopt;
  const auto value = ParseUnsignedInt64(*text);
  if (!value) {
    AddProblems(problems, InvalidParam(name, *text,
                                       "a Unix timestamp in seconds, an integer from 0 to "
                                       "9223372036854775807"));
  }
  return value;
}

std::optional<std::int64_t> ParseIdParam(const QueryParams& query, std::string_view name,
                                         Status& problems) {
  const auto text = query.Get(name);
  if (!text) return std::nullopt;
  const auto value = ParseUnsignedInt64(*text);
  if (!value || *value <= 0) {
    AddProblems(problems, InvalidParam(name, *text, "a positive 64-bit integer"));
    return std::nullopt;
  }
  return value;
}

std::string QuoteParamForMessage(std::string_view value) {
  if (IsValidUtf8(value) && value.find('\0') == std::string_view::npos) {
    return QuoteForMessage(value);
  }

  // The value as sent on the wire, so that the message shows the bytes that
  // broke the rule instead of replacement characters.
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string encoded;
  for (const char c : value) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte > 0x20 && byte < 0x7F && byte != '%') {
      encoded.push_back(c);
    } else {
      encoded += {'%', kHex[byte >> 4], kHex[byte & 15]};
    }
  }
  return QuoteForMessage(encoded) + " (percent-encoded)";
}

bool CheckTextParam(std::string_view name, std::string_view value, Status& problems) {
  const bool valid_utf8 = IsValidUtf8(value);
  const bool has_nul = value.find('\0') != std::string_view::npos;
  if (valid_utf8 && !has_nul) return true;

  const std::string_view rule =
      valid_utf8 ? kNulNotAllowed : std::string_view("the value is not valid UTF-8");
  AddProblems(problems, Status::Invalid(fmt::format("{}: invalid value {}, {}", name,
                                                    QuoteParamForMessage(value), rule)));
  return false;
}

std::optional<std::string_view> ParseTextParam(const QueryParams& query, std::string_view name,
                                               Status& problems) {
  const auto text = query.Get(name);
  if (!text || !CheckTextParam(name, *text, problems)) return std::nullopt;
  return text;
}

bool ParseFlagParam(const QueryParams& query, std::string_view name, Status& problems) {
  const auto text = query.Get(name);
  if (!text) return false;
  if (*text == "true" || *text == "1") return true;
  if (*text == "false" || *text == "0") return false;
  AddProblems(problems, InvalidParam(name, *text, "true, 1, false or 0"));
  return false;
}

std::vector<std::string_view> ListParam(const QueryParams& query, std::string_view name,
                                        Status& problems) {
  std::vector<std::string_view> items;
  for (const std::string_view whole : query.GetAll(name)) {
    if (whole.find_first_not_of(' ') == std::string_view::npos) continue;
    std::string_view value = whole;
    bool reported = false;
    while (true) {
      const std::size_t comma = value.find(',');
      std::string_view item = value.substr(0, comma);
      while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
      while (!item.empty() && item.back() == ' ') item.remove_suffix(1);
      if (!item.empty()) {
        items.push_back(item);
      } else if (!reported) {
        problems.Add(Code::kInvalid, std::string(name) + ": invalid value " +
                                         QuoteParamForMessage(whole) +
                                         ", must be a comma-separated list without empty items");
        reported = true;
      }
      if (comma == std::string_view::npos) break;
      value.remove_prefix(comma + 1);
    }
  }
  return items;
}

std::int64_t TotalPages(std::int64_t rows, std::int64_t page_size) {
  if (rows <= 0 || page_size <= 0) return 0;
  return rows / page_size + (rows % page_size != 0 ? 1 : 0);
}

std::string ListBody(const PageRequest& page, const ListInfo& info, std::string_view data) {
  std::string body;
  body.reserve(data.size() + 80);
  JsonWriter writer(body);
  writer.StartObject();
  writer.Key("page");
  writer.Int(page.page);
  writer.Key("totalPages");
  writer.Int(TotalPages(info.total_rows, page.page_size));
  writer.Key("timestamp");
  writer.Int(info.timestamp);
  writer.Key("data");
  writer.Raw(RawValue{data});
  writer.EndObject();
  return body;
}

std::string ItemBody(std::int64_t timestamp, std::string_view data) {
  std::string body;
  body.reserve(data.size() + 40);
  JsonWriter writer(body);
  writer.StartObject();
  writer.Key("timestamp");
  writer.Int(timestamp);
  writer.Key("data");
  writer.Raw(RawValue{data});
  writer.EndObject();
  return body;
}

void StartItemBody(JsonWriter& writer, std::int64_t timestamp) {
  writer.StartObject();
  writer.Key("timestamp");
  writer.Int(timestamp);
  writer.Key("data");
}

Response NoContent() {
  Response response;
  response.status = 204;
  return response;
}

}  // namespace cmfd
