// Segment groups, segments and segment assignments as JSON.
//
// Body rules for groups: name a string, reference a string or null ("" is
// null, so an empty reference never clashes), calculated, showAsFilter and
// exportNewsletterProvider true or false, filterSortOrder an integer or
// null. For segments: name, reference and calculated as for groups, group a
// positive id (a JSON integer or a string of digits), useAsTargetGroup true
// or false. A name sent on an update must be non-empty. No name or
// reference may contain U+0000 (see kNulNotAllowed). The read-only keys
// id, creationDate, modificationDate, _links and success are ignored. So are
// the CMF's segment keys subFolder and targetGroup, which cmfd has no use
// for. Any other unknown key is a 400 naming it. The store enforces the
// rules that involve other rows (required name and group, the group's
// calculated flag, unique references).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "domain/json_writer.h"
#include "domain/model.h"
#include "util/status.h"

namespace cmfd {

enum class SegmentWrite { kCreate, kUpdate };

Result<SegmentGroupPatch> ParseSegmentGroupPatch(std::string_view body, SegmentWrite write);
Result<SegmentPatch> ParseSegmentPatch(std::string_view body, SegmentWrite write);

// Writes a group: id, name, reference, calculated, showAsFilter,
// filterSortOrder, exportNewsletterProvider, modificationDate, creationDate,
// _links, and "success": true last when `with_success` (the response to a
// create or update).
void WriteSegmentGroup(JsonWriter& writer, const SegmentGroup& group, bool with_success);

// Writes a segment: id, name, group, reference, calculated,
// useAsTargetGroup, modificationDate, creationDate, _links, and
// "success": true last when `with_success`.
void WriteSegment(JsonWriter& writer, const Segment& segment, bool with_success);

// The body of POST /segments-of-customers:
// {"customerId": 5, "addSegments": [1, 2], "removeSegments": [3]}.
struct SegmentsOfCustomerRequest {
  std::int64_t customer_id = 0;
  std::vector<std::int64_t> add;
  std::vector<std::int64_t> remove;
};

// Parses that body. customerId is required ("customerId required" when
// absent or null). The lists are optional, null is an empty list, and their
// ids are JSON integers or strings of digits. Unknown keys are a 400 naming
// each.
Result<SegmentsOfCustomerRequest> ParseSegmentsOfCustomerRequest(std::string_view body);

}  // namespace cmfd
