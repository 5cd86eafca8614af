#include "domain/segment_json.h"

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "domain/json_reader.h"
#include "domain/validation.h"

namespace cmfd {

namespace {

constexpr std::array<std::string_view, 5> kReadOnlyKeys = {"id", "creationDate",
                                                           "modificationDate", "_links", "success"};

// CMF segment keys without a meaning in cmfd: subFolder placed the segment
// object in Pimcore's tree, targetGroup linked a Pimcore targeting group.
constexpr std::array<std::string_view, 2> kIgnoredSegmentKeys = {"subFolder", "targetGroup"};

template <std::size_t N>
bool Contains(const std::array<std::string_view, N>& keys, std::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Reads a name, which must be non-empty on update. On create an empty or
// null name is left to the store: it returns "name required" after its own
// checks of the group, which keeps the CMF's order of messages.
void ReadName(JsonValue& value, SegmentWrite write, std::optional<std::string>& name,
              Status& problems) {
  if (TypeOf(value) == JsonType::null) {
    if (write == SegmentWrite::kUpdate) problems.Add(Code::kInvalid, "name required");
    return;
  }
  const auto text = ReadString(value, "name", "a non-empty string", problems);
  if (!text) return;
  if (text->empty()) {
    if (write == SegmentWrite::kUpdate) problems.Add(Code::kInvalid, "name required");
    return;
  }
  name = std::string(*text);
}

// Reads a reference: a string or null, "" meaning null.
void ReadReference(JsonValue& value, std::optional<std::optional<std::string>>& reference,
                   Status& problems) {
  if (TypeOf(value) == JsonType::null) {
    reference = std::optional<std::string>();
    return;
  }
  const auto text = ReadString(value, "reference", "a string or null", problems);
  if (!text) return;
  reference = text->empty() ? std::optional<std::string>() : std::string(*text);
}

void ReadFlag(JsonValue& value, std::string_view key, std::optional<bool>& flag,
              Status& problems) {
  if (const auto read = ReadBool(value, key, problems)) flag = *read;
}

// Reads a list of ids; null is an empty list.
void ReadIdList(JsonValue& value, std::string_view key, std::vector<std::int64_t>& ids,
                Status& problems) {
  const JsonType type = TypeOf(value);
  if (type == JsonType::null) return;
  if (type != JsonType::array) {
    AddInvalidValue(problems, key, value, "an array of segment ids");
    return;
  }
  simdjson::ondemand::array array;
  if (value.get_array().get(array)) {
    AddInvalidValue(problems, key, value, "an array of segment ids");
    return;
  }
  std::size_t index = 0;
  for (auto element : array) {
    JsonValue item;
    if (std::move(element).get(item)) break;  // cannot happen: the body was validated
    const std::string name = std::string(key) + "[" + std::to_string(index++) + "]";
    if (const auto id = ReadId(item, name, problems)) ids.push_back(*id);
  }
}

void WriteDates(JsonWriter& writer, std::int64_t modification_date, std::int64_t creation_date) {
  writer.Key("modificationDate");
  writer.Int(modification_date);
  writer.Key("creationDate");
  writer.Int(creation_date);
}

}  // namespace

Result<SegmentGroupPatch> ParseSegmentGroupPatch(std::string_view body, SegmentWrite write) {
  SegmentGroupPatch patch;
  Status problems;
  Status parsed = ForEachMember(body, [&](std::string_view key, JsonValue& value) {
    if (key == "name") {
      ReadName(value, write, patch.name, problems);
    } else if (key == "reference") {
      ReadReference(value, patch.reference, problems);
    } else if (key == "calculated") {
      ReadFlag(value, key, patch.calculated, problems);
    } else if (key == "showAsFilter") {
      ReadFlag(value, key, patch.show_as_filter, problems);
    } else if (key == "filterSortOrder") {
      if (TypeOf(value) == JsonType::null) {
        patch.filter_sort_order = std::optional<std::int64_t>();
      } else if (const auto order = ReadInt(value, key, "a 64-bit integer or null", problems)) {
        patch.filter_sort_order = std::optional<std::int64_t>(*order);
      }
    } else if (key == "exportNewsletterProvider") {
      ReadFlag(value, key, patch.export_newsletter_provider, problems);
    } else if (!Contains(kReadOnlyKeys, key)) {
      problems.Add(Code::kInvalid, "unknown field " + QuoteForMessage(key));
    }
  });
  if (!parsed.ok()) return parsed;
  if (!problems.ok()) return problems;
  return patch;
}

Result<SegmentPatch> ParseSegmentPatch(std::string_view body, SegmentWrite write) {
  SegmentPatch patch;
  Status problems;
  Status parsed = ForEachMember(body, [&](std::string_view key, JsonValue& value) {
    if (key == "name") {
      ReadName(value, write, patch.name, problems);
    } else if (key == "group") {
      // A null group on create is an absent one, for which the store returns
      // "group required". A segment cannot lose its group on update.
      if (TypeOf(value) == JsonType::null) {
        if (write == SegmentWrite::kUpdate) problems.Add(Code::kInvalid, "group required");
        return;
      }
      if (const auto id = ReadId(value, key, problems)) patch.group = *id;
    } else if (key == "reference") {
      ReadReference(value, patch.reference, problems);
    } else if (key == "calculated") {
      ReadFlag(value, key, patch.calculated, problems);
    } else if (key == "useAsTargetGroup") {
      ReadFlag(value, key, patch.use_as_target_group, problems);
    } else if (!Contains(kReadOnlyKeys, key) && !Contains(kIgnoredSegmentKeys, key)) {
      problems.Add(Code::kInvalid, "unknown field " + QuoteForMessage(key));
    }
  });
  if (!parsed.ok()) return parsed;
  if (!problems.ok()) return problems;
  return patch;
}

Result<SegmentsOfCustomerRequest> ParseSegmentsOfCustomerRequest(std::string_view body) {
  SegmentsOfCustomerRequest assignment;
  Status problems;
  bool has_customer = false;
  Status parsed = ForEachMember(body, [&](std::string_view key, JsonValue& value) {
    if (key == "customerId") {
      if (TypeOf(value) == JsonType::null) return;  // reported as required below
      has_customer = true;
      if (const auto id = ReadId(value, key, problems)) assignment.customer_id = *id;
    } else if (key == "addSegments") {
      ReadIdList(value, key, assignment.add, problems);
    } else if (key == "removeSegments") {
      ReadIdList(value, key, assignment.remove, problems);
    } else {
      problems.Add(Code::kInvalid, "unknown field " + QuoteForMessage(key));
    }
  });
  if (!parsed.ok()) return parsed;
  if (!has_customer) {
    // The CMF's message; it comes first because without a customer nothing
    // else matters.
    Status required = Status::Invalid("customerId required");
    for (const std::string& message : problems.messages()) {
      required.Add(Code::kInvalid, message);
    }
    return required;
  }
  if (!problems.ok()) return problems;
  return assignment;
}

void WriteSegmentGroup(JsonWriter& writer, const SegmentGroup& group, bool with_success) {
  writer.StartObject();
  writer.Key("id");
  writer.Int(group.id);
  writer.Key("name");
  writer.String(group.name);
  writer.Key("reference");
  writer.OptionalString(group.reference);
  writer.Key("calculated");
  writer.Bool(group.calculated);
  writer.Key("showAsFilter");
  writer.Bool(group.show_as_filter);
  writer.Key("filterSortOrder");
  writer.OptionalInt(group.filter_sort_order);
  writer.Key("exportNewsletterProvider");
  writer.Bool(group.export_newsletter_provider);
  WriteDates(writer, group.modification_date, group.creation_date);
  writer.Key("_links");
  writer.SelfLinks("segment-groups", group.id);
  if (with_success) {
    writer.Key("success");
    writer.Bool(true);
  }
  writer.EndObject();
}

void WriteSegment(JsonWriter& writer, const Segment& segment, bool with_success) {
  writer.StartObject();
  writer.Key("id");
  writer.Int(segment.id);
  writer.Key("name");
  writer.String(segment.name);
  writer.Key("group");
  writer.Int(segment.group);
  writer.Key("reference");
  writer.OptionalString(segment.reference);
  writer.Key("calculated");
  writer.Bool(segment.calculated);
  writer.Key("useAsTargetGroup");
  writer.Bool(segment.use_as_target_group);
  WriteDates(writer, segment.modification_date, segment.creation_date);
  writer.Key("_links");
  writer.SelfLinks("segments", segment.id);
  if (with_success) {
    writer.Key("success");
    writer.Bool(true);
  }
  writer.EndObject();
}

}  // namespace cmfd
