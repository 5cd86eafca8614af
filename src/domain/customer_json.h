// Customers as JSON: reading a write body into a patch, the optional
// required-field check, and the customer representation.
//
// Field rules (a value that breaks one is a 400 naming field, value and rule):
//   active, profilingConsent   true or false
//   gender                     "male", "female", "other" or null
//   firstname, lastname,       a string of at most 255 characters (Unicode
//   street, zip, city, phone   code points) or null; "" is kept
//   birthdate                  "YYYY-MM-DD", a real date not after today (UTC)
//   countryCode                an assigned ISO 3166-1 alpha-2 code in any
//                              case; stored upper-case
//   email                      a valid address of at most 254 characters,
//                              stored as sent
//   idEncoded                  a non-empty string of at most 255 characters;
//                              null keeps the stored value
//   password                   a non-empty string is stored as an Argon2id
//                              hash, "" removes the password, null is ignored
// No string may contain U+0000 (see kNulNotAllowed). A message about the
// password never quotes it. An empty string sent for gender, birthdate,
// countryCode, email or a typed extra field is null. The extra fields of the CustomerSchema follow their
// declared type; a date field may lie in the future. The read-only keys id,
// creationDate, modificationDate, segments, activities and _links are
// ignored; any other unknown key is a 400 naming it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "config/config.h"
#include "domain/json_writer.h"
#include "domain/model.h"
#include "util/status.h"

namespace cmfd {

// The changes a write body makes to a customer. A member that is set was
// present in the body; a set member holding nullopt clears the field.
struct CustomerPatch {
  std::optional<bool> active;
  std::optional<std::optional<std::string>> gender;
  std::optional<std::optional<std::string>> firstname;
  std::optional<std::optional<std::string>> lastname;
  std::optional<std::optional<std::string>> birthdate;
  std::optional<std::optional<std::string>> street;
  std::optional<std::optional<std::string>> zip;
  std::optional<std::optional<std::string>> city;
  std::optional<std::optional<std::string>> phone;
  // (index into CustomerSchema::fields, compact JSON literal or null)
  std::vector<std::pair<std::size_t, std::optional<std::string>>> extra;
  std::optional<std::optional<std::string>> country_code;
  std::optional<std::optional<std::string>> email;
  std::optional<std::string> id_encoded;
  std::optional<bool> profiling_consent;
  // Set to a hash to store a new password, set to nullopt to remove it.
  std::optional<std::optional<std::string>> password_hash;
};

// Parses and validates a customer write body against the field rules above.
// Reports every problem; the first is the message. The password, if any, is
// hashed only once everything else is valid, because hashing is slow on
// purpose.
Result<CustomerPatch> ParseCustomerPatch(std::string_view body, const CustomerSchema& schema);

// A customer before its first write: active, no profiling consent, every
// field null, one null slot per extra field.
Customer NewCustomer(const CustomerSchema& schema);

// Sets every field the patch names.
void ApplyCustomerPatch(const CustomerPatch& patch, Customer& customer);

// Checks CustomerSchema::required: at least one combination of fields must
// all be filled (not null and not ""; active and profilingConsent always
// count as filled). Invalid, when none is:
//   Not all required fields are set. Please fill-up one of the following
//   field combinations: [email] or [firstname + lastname]
Status CheckRequiredFields(const Customer& customer, const CustomerSchema& schema);

// Parses the query value of a filter on the extra field `field`
// (`?customerNumber=12346`) by the field's type, into the compact JSON
// literal of Customer::extra. Invalid names the parameter, the value and the
// rule.
Result<std::string> ParseExtraFieldFilter(const CustomField& field, std::string_view text);

// Writes the customer representation. Keys in this order: id, active,
// gender, firstname, lastname, birthdate, street, zip, city, phone, the extra
// fields, countryCode, email, idEncoded, profilingConsent, password (always
// null), modificationDate, creationDate, segments, activities (only when
// loaded), _links.
void WriteCustomer(JsonWriter& writer, const Customer& customer, const CustomerSchema& schema);

}  // namespace cmfd
