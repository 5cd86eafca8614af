// Activities as JSON: reading a write body into a patch, the content hash
// and the activity representation.
//
// Body keys:
//   customerId    a positive id, as a JSON integer or a string of digits;
//                 required on create. `customer` is accepted as its alias
//                 (the CMF 2.x key); both with different values is a 400
//   activityDate  a JSON integer, a string of digits, an ISO 8601 date-time
//                 ("Z", "+hh:mm" or "-hh:mm" offset, none means UTC;
//                 fractions of a second dropped) or "YYYY-MM-DD" (midnight
//                 UTC). Absent or null on create means now (an upsert
//                 keeps the stored date instead); null on update is a 400,
//                 because an activity always has a date
//   type          a string of 1 to 255 characters; required on create
//   implementationClass  a non-empty string, stored as sent
//   o_id          the id of a Pimcore object or null: any 64-bit integer
//                 (the server does not interpret it), as a JSON integer or a
//                 string with optional '-' and digits
//   a_id          the client's external id, a string or null; "" is null,
//                 so that an empty id never joins the a_id upsert
//   attributes    a JSON object (null is a 400), stored as the compact form
//                 of exactly what was sent: key order, duplicate keys, the
//                 text of every number and every escape (\u0000 included,
//                 which stays six ASCII characters) are kept
// The string fields type, implementationClass and a_id must not contain
// U+0000 (see kNulNotAllowed).
// The read-only keys id, md5, creationDate, modificationDate and _links are
// ignored; any other unknown key is a 400 naming it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "domain/json_writer.h"
#include "domain/model.h"
#include "util/status.h"

namespace cmfd {

// The implementation class of an activity that names none.
inline constexpr std::string_view kGenericActivityClass =
    "CustomerManagementFrameworkBundle\\Model\\Activity\\GenericActivity";

// The changes a write body makes to an activity; a set member was present.
struct ActivityPatch {
  std::optional<std::int64_t> customer_id;
  std::optional<std::int64_t> activity_date;
  std::optional<std::string> type;
  std::optional<std::string> implementation_class;
  std::optional<std::optional<std::int64_t>> o_id;
  std::optional<std::optional<std::string>> a_id;
  std::optional<std::string> attributes_json;
  // Create only: the body had no activityDate (absent or null), so
  // activity_date contains the current time. An upsert then keeps the stored
  // date instead (KeepStoredActivityDate).
  bool activity_date_defaulted = false;
};

enum class ActivityWrite { kCreate, kUpdate };

// Parses and validates an activity write body by the rules above. On create
// it also checks the required keys and fills an absent activityDate with
// the current time. Reports every problem; the first is the message.
Result<ActivityPatch> ParseActivityPatch(std::string_view body, ActivityWrite write);

// An activity before its first write: the generic implementation class and
// empty attributes.
Activity NewActivity();

// Sets every field the patch names, then recomputes the md5.
void ApplyActivityPatch(const ActivityPatch& patch, Activity& activity);

// Merges a create whose body had no activityDate into the stored activity
// with the same customer, type and a_id (a Store::ActivityMerge): keeps the
// stored activity_date, so that a retried request does not move the date,
// and recomputes the md5.
void KeepStoredActivityDate(const Activity& stored, Activity& activity);

// The content hash of an activity: 32 lower-case hex digits of a 16-byte
// BLAKE2b hash (libsodium crypto_generichash) over customer_id, type,
// implementation_class, o_id, a_id, activity_date and attributes_json. It
// changes whenever any of them does, and only then. The key name md5 is
// kept for CMF compatibility; clients treat it as opaque.
std::string ComputeActivityMd5(const Activity& activity);

// Writes the activity representation. Keys in this order: id, customerId,
// activityDate, type, implementationClass, o_id, a_id, md5, attributes,
// modificationDate, creationDate, _links.
void WriteActivity(JsonWriter& writer, const Activity& activity);

}  // namespace cmfd
