// The records cmfd stores: customers, activities, deletions, segments,
// segment groups and API keys, as plain structs.
//
// Times are Unix epoch seconds. Ids are positive and assigned by the store;
// 0 means "not stored yet". Optional fields use std::nullopt for JSON null.
// Validation and JSON mapping live beside each type in this folder; the store
// only ever receives records that passed validation.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace cmfd {

struct Activity {
  std::int64_t id = 0;
  std::int64_t customer_id = 0;
  std::int64_t activity_date = 0;
  std::string type;
  std::string implementation_class;
  std::optional<std::int64_t> o_id;
  std::optional<std::string> a_id;
  std::string md5;                   // content hash, set by the domain layer
  std::string attributes_json = "{}";  // compact JSON object, exactly as sent
  std::int64_t modification_date = 0;
  std::int64_t creation_date = 0;
};

struct Customer {
  std::int64_t id = 0;
  bool active = true;
  std::optional<std::string> gender;
  std::optional<std::string> firstname;
  std::optional<std::string> lastname;
  std::optional<std::string> birthdate;  // "YYYY-MM-DD"
  std::optional<std::string> street;
  std::optional<std::string> zip;
  std::optional<std::string> city;
  std::optional<std::string> phone;
  // Values of the configured extra fields (CustomerSchema::fields), one per
  // field in declaration order, each as a compact JSON literal ("\"gold\"",
  // "12", "true"); nullopt is null.
  std::vector<std::optional<std::string>> extra;
  // The stored JSON object of every extra field, declared in the current
  // configuration or not. Set only by Store::ExportAll, so that a copy
  // keeps fields its configuration does not declare; a CopyTarget writes it
  // as is when it is not empty. Everything else uses `extra`.
  std::string stored_extra;
  std::optional<std::string> country_code;  // upper-case ISO 3166-1 alpha-2
  std::optional<std::string> email;
  std::string id_encoded;  // set by the store at creation when empty
  bool profiling_consent = false;
  std::optional<std::string> password_hash;  // never written to any output
  std::int64_t modification_date = 0;
  std::int64_t creation_date = 0;
  std::vector<std::int64_t> segments;  // ascending; read-only for clients
  // Filled only when a read asks for activities; ordered by activity_date, id.
  std::optional<std::vector<Activity>> activities;
};

struct Deletion {
  std::int64_t id = 0;           // id of the deleted customer or activity
  std::string entity_type;       // "customers" or "activities"
  std::string type;              // "" for customers, the activity type otherwise
  std::int64_t creation_date = 0;  // when it was deleted
};

struct SegmentGroup {
  std::int64_t id = 0;
  std::string name;
  std::optional<std::string> reference;
  bool calculated = false;
  bool show_as_filter = false;
  std::optional<std::int64_t> filter_sort_order;
  bool export_newsletter_provider = false;
  std::int64_t modification_date = 0;
  std::int64_t creation_date = 0;
};

struct Segment {
  std::int64_t id = 0;
  std::string name;
  std::int64_t group = 0;
  std::optional<std::string> reference;
  bool calculated = false;
  bool use_as_target_group = false;
  std::int64_t modification_date = 0;
  std::int64_t creation_date = 0;
};

// Changes to a segment group: each present member is set. Used for create
// (absent members take their defaults) and for partial update.
struct SegmentGroupPatch {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> reference;
  std::optional<bool> calculated;
  std::optional<bool> show_as_filter;
  std::optional<std::optional<std::int64_t>> filter_sort_order;
  std::optional<bool> export_newsletter_provider;
};

// Changes to a segment, as SegmentGroupPatch. An absent `calculated` takes
// the (new) group's flag; a present one must equal it.
struct SegmentPatch {
  std::optional<std::string> name;
  std::optional<std::int64_t> group;
  std::optional<std::optional<std::string>> reference;
  std::optional<bool> calculated;
  std::optional<bool> use_as_target_group;
};

struct ApiKey {
  std::int64_t id = 0;
  std::string name;
  bool read_only = false;
  std::string hash;  // hex SHA-256 of the key; the key itself is never stored
  std::int64_t creation_date = 0;
  std::optional<std::int64_t> last_used;
};

}  // namespace cmfd
