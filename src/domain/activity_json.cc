#include "domain/activity_json.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>
#include <sodium.h>

#include "domain/json_reader.h"
#include "domain/validation.h"

namespace cmfd {

namespace {

constexpr std::size_t kMaxTypeLength = 255;

constexpr std::string_view kDateRule =
    "a Unix timestamp in seconds, an ISO 8601 date-time such as \"2024-05-01T12:00:00Z\" or a "
    "date \"YYYY-MM-DD\"";

constexpr std::array<std::string_view, 5> kReadOnlyKeys = {"id", "md5", "creationDate",
                                                           "modificationDate", "_links"};

// Reads activityDate: an integer, or a string in one of ParseActivityDate's
// forms. The caller handles null.
std::optional<std::int64_t> ReadActivityDate(JsonValue& value, Status& problems) {
  std::optional<std::int64_t> seconds;
  const JsonType type = TypeOf(value);
  if (type == JsonType::number) {
    Status not_integer;
    seconds = ReadInt(value, "activityDate", kDateRule, not_integer);
    if (seconds && (*seconds < kMinActivityDate || *seconds > kMaxActivityDate)) {
      seconds.reset();
    }
  } else if (type == JsonType::string) {
    std::string_view text;
    if (!value.get_string().get(text)) seconds = ParseActivityDate(text);
  }
  if (!seconds) AddInvalidValue(problems, "activityDate", value, kDateRule);
  return seconds;
}

// Reads o_id: any 64-bit integer, as a number or a string, or null.
std::optional<std::optional<std::int64_t>> ReadObjectId(JsonValue& value, Status& problems) {
  static constexpr std::string_view kRule =
      "a 64-bit integer, as a JSON number or a string of digits, or null";
  const JsonType type = TypeOf(value);
  if (type == JsonType::null) return std::optional<std::int64_t>();
  std::optional<std::int64_t> id;
  if (type == JsonType::number) {
    Status not_integer;
    id = ReadInt(value, "o_id", kRule, not_integer);
  } else if (type == JsonType::string) {
    std::string_view text;
    if (!value.get_string().get(text)) id = ParseInt64(text);
  }
  if (!id) {
    AddInvalidValue(problems, "o_id", value, kRule);
    return std::nullopt;
  }
  return std::optional<std::int64_t>(*id);
}

void AppendHashed(crypto_generichash_state& state, std::string_view text) {
  // Each part is preceded by its length, so that no two different activities
  // feed the same bytes ("ab" + "c" versus "a" + "bc").
  const std::string length = std::to_string(text.size()) + ":";
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(length.data()),
                            length.size());
  crypto_generichash_update(&state, reinterpret_cast<const unsigned char*>(text.data()),
                            text.size());
}

}  // namespace

Result<ActivityPatch> ParseActivityPatch(std::string_view body, ActivityWrite write) {
  ActivityPatch patch;
  Status problems;
  std::optional<std::int64_t> customer_alias;  // the `customer` key
  bool date_null = false;
  bool has_customer = false;  // customerId or customer was sent, valid or not
  bool has_type = false;

  Status parsed = ForEachMember(body, [&](std::string_view key, JsonValue& value) {
    // On create a null customerId or type counts as absent and is reported
    // as required below.
    const bool null_on_create = write == ActivityWrite::kCreate && TypeOf(value) == JsonType::null;
    if (key == "customerId" || key == "customer") {
      if (null_on_create) return;
      has_customer = true;
      const auto id = ReadId(value, key, problems);
      if (!id) return;
      if (key == "customerId") {
        patch.customer_id = *id;
      } else {
        customer_alias = *id;
      }
    } else if (key == "activityDate") {
      if (TypeOf(value) == JsonType::null) {
        date_null = true;
        patch.activity_date.reset();
      } else if (const auto seconds = ReadActivityDate(value, problems)) {
        date_null = false;
        patch.activity_date = *seconds;
      }
    } else if (key == "type") {
      if (null_on_create) return;
      has_type = true;
      static constexpr std::string_view kRule = "a string of 1 to 255 characters";
      const auto text = ReadString(value, key, kRule, problems);
      if (!text) return;
      if (text->empty() || CountCodePoints(*text) > kMaxTypeLength) {
        problems.Add(Code::kInvalid, fmt::format("type: invalid value {}, must be {}",
                                                 QuoteForMessage(*text), kRule));
        return;
      }
      patch.type = std::string(*text);
    } else if (key == "implementationClass") {
      static constexpr std::string_view kRule = "a non-empty string";
      const auto text = ReadString(value, key, kRule, problems);
      if (!text) return;
      if (text->empty()) {
        problems.Add(Code::kInvalid, fmt::format("implementationClass: invalid value \"\", must "
                                                 "be {}",
                                                 kRule));
        return;
      }
      patch.implementation_class = std::string(*text);
    } else if (key == "o_id") {
      if (auto id = ReadObjectId(value, problems)) patch.o_id = *id;
    } else if (key == "a_id") {
      if (TypeOf(value) == JsonType::null) {
        patch.a_id = std::optional<std::string>();
        return;
      }
      const auto text = ReadString(value, key, "a string or null", problems);
      if (!text) return;
      patch.a_id = text->empty() ? std::optional<std::string>() : std::string(*text);
    } else if (key == "attributes") {
      if (auto text = ReadObjectText(value, key, problems)) patch.attributes_json = std::move(*text);
    } else if (std::find(kReadOnlyKeys.begin(), kReadOnlyKeys.end(), key) !=
               kReadOnlyKeys.end()) {
      return;
    } else {
      problems.Add(Code::kInvalid, "unknown field " + QuoteForMessage(key));
    }
  });
  if (!parsed.ok()) return parsed;

  // Checks across keys, after every key was read.
  if (customer_alias) {
    if (patch.customer_id && *patch.customer_id != *customer_alias) {
      problems.Add(Code::kInvalid,
                   fmt::format("customer and customerId differ ({} and {}); customer is an alias "
                               "of customerId, send one of them",
                               *customer_alias, *patch.customer_id));
    } else {
      patch.customer_id = customer_alias;
    }
  }
  if (write == ActivityWrite::kUpdate && date_null) {
    problems.Add(Code::kInvalid,
                 "activityDate: invalid value null, an activity always has a date; must be " +
                     std::string(kDateRule));
  }
  if (write == ActivityWrite::kCreate) {
    // A key that was sent but invalid has its own message already.
    if (!has_customer) problems.Add(Code::kInvalid, "customerId required");
    if (!has_type) problems.Add(Code::kInvalid, "type required");
    if (!patch.activity_date) {
      patch.activity_date = CurrentUnixTime();
      patch.activity_date_defaulted = true;
    }
  }
  if (!problems.ok()) return problems;
  return patch;
}

Activity NewActivity() {
  Activity activity;
  activity.implementation_class = std::string(kGenericActivityClass);
  activity.attributes_json = "{}";
  return activity;
}

void ApplyActivityPatch(const ActivityPatch& patch, Activity& activity) {
  if (patch.customer_id) activity.customer_id = *patch.customer_id;
  if (patch.activity_date) activity.activity_date = *patch.activity_date;
  if (patch.type) activity.type = *patch.type;
  if (patch.implementation_class) activity.implementation_class = *patch.implementation_class;
  if (patch.o_id) activity.o_id = *patch.o_id;
  if (patch.a_id) activity.a_id = *patch.a_id;
  if (patch.attributes_json) activity.attributes_json = *patch.attributes_json;
  activity.md5 = ComputeActivityMd5(activity);
}

void KeepStoredActivityDate(const Activity& stored, Activity& activity) {
  activity.activity_date = stored.activity_date;
  activity.md5 = ComputeActivityMd5(activity);
}

std::string ComputeActivityMd5(const Activity& activity) {
  // sodium_init picks the fastest BLAKE2b code for this CPU; it is safe to
  // call from several threads.
  static const bool sodium_ready = sodium_init() >= 0;
  (void)sodium_ready;

  constexpr std::size_t kHashBytes = 16;
  crypto_generichash_state state;
  crypto_generichash_init(&state, nullptr, 0, kHashBytes);
  AppendHashed(state, std::to_string(activity.customer_id));
  AppendHashed(state, activity.type);
  AppendHashed(state, activity.implementation_class);
  AppendHashed(state, activity.o_id ? std::to_string(*activity.o_id) : std::string());
  AppendHashed(state, activity.o_id ? "o" : "-");  // distinguishes null from a value
  AppendHashed(state, activity.a_id ? *activity.a_id : std::string());
  AppendHashed(state, activity.a_id ? "a" : "-");
  AppendHashed(state, std::to_string(activity.activity_date));
  AppendHashed(state, activity.attributes_json);

  unsigned char hash[kHashBytes];
  crypto_generichash_final(&state, hash, kHashBytes);
  char hex[kHashBytes * 2 + 1];
  sodium_bin2hex(hex, sizeof(hex), hash, kHashBytes);
  return std::string(hex, kHashBytes * 2);
}

void WriteActivity(JsonWriter& writer, const Activity& activity) {
  writer.StartObject();
  writer.Key("id");
  writer.Int(activity.id);
  writer.Key("customerId");
  writer.Int(activity.customer_id);
  writer.Key("activityDate");
  writer.Int(activity.activity_date);
  writer.Key("type");
  writer.String(activity.type);
  writer.Key("implementationClass");
  writer.String(activity.implementation_class);
  writer.Key("o_id");
  writer.OptionalInt(activity.o_id);
  writer.Key("a_id");
  writer.OptionalString(activity.a_id);
  writer.Key("md5");
  writer.String(activity.md5);
  writer.Key("attributes");
  const std::string_view attributes = activity.attributes_json;
  writer.Raw(RawValue{attributes.empty() ? std::string_view("{}") : attributes});
  writer.Key("modificationDate");
  writer.Int(activity.modification_date);
  writer.Key("creationDate");
  writer.Int(activity.creation_date);
  writer.Key("_links");
  writer.SelfLinks("activities", activity.id);
  writer.EndObject();
}

}  // namespace cmfd
