#include "storage/postgres/pg_rows.h"

#include <charconv>

#include "storage/json_text.h"
#include "util/utf8.h"

namespace cmfd::pg {

bool IsStorableText(std::string_view text) {
  return text.find('\0') == std::string_view::npos && IsValidUtf8(text);
}

void RejectNul(std::string_view field, const std::optional<std::string>& value, Status& status) {
  if (!value || value->find('\0') == std::string::npos) return;
  status.Add(Code::kInvalid, std::string(field) +
                                 ": invalid value, contains the character U+0000, which the "
                                 "PostgreSQL database cannot store");
}

std::vector<std::int64_t> ParseIntArray(std::string_view text) {
  std::vector<std::int64_t> ids;
  if (text.size() < 2) return ids;
  const char* pos = text.data() + 1;  // after '{'
  const char* end = text.data() + text.size() - 1;  // before '}'
  while (pos < end) {
    std::int64_t id = 0;
    auto [next, error] = std::from_chars(pos, end, id);
    if (error != std::errc()) break;
    ids.push_back(id);
    pos = next;
    if (pos < end && *pos == ',') ++pos;
  }
  return ids;
}

Status ReadCustomerRow(const PgResult& result, int row, const std::vector<CustomField>& fields,
                       Customer& customer) {
  customer.id = result.Int(row, 0);
  customer.active = result.Bool(row, 1);
  customer.gender = result.OptionalString(row, 2);
  customer.firstname = result.OptionalString(row, 3);
  customer.lastname = result.OptionalString(row, 4);
  customer.birthdate = result.OptionalString(row, 5);
  customer.street = result.OptionalString(row, 6);
  customer.zip = result.OptionalString(row, 7);
  customer.city = result.OptionalString(row, 8);
  customer.phone = result.OptionalString(row, 9);
  Status status = DecodeExtraFields(result.Text(row, 10), fields, customer.extra);
  if (!status.ok()) return status;
  customer.country_code = result.OptionalString(row, 11);
  customer.email = result.OptionalString(row, 12);
  customer.id_encoded = result.String(row, 13);
  customer.profiling_consent = result.Bool(row, 14);
  customer.password_hash = result.OptionalString(row, 15);
  customer.modification_date = result.Int(row, 16);
  customer.creation_date = result.Int(row, 17);
  customer.segments = ParseIntArray(result.Text(row, 18));
  return Status::Ok();
}

Activity ReadActivityRow(const PgResult& result, int row, int first_column) {
  int c = first_column;
  Activity activity;
  activity.id = result.Int(row, c + 0);
  activity.customer_id = result.Int(row, c + 1);
  activity.activity_date = result.Int(row, c + 2);
  activity.type = result.String(row, c + 3);
  activity.implementation_class = result.String(row, c + 4);
  activity.o_id = result.OptionalInt(row, c + 5);
  activity.a_id = result.OptionalString(row, c + 6);
  activity.md5 = result.String(row, c + 7);
  activity.attributes_json = result.String(row, c + 8);
  activity.modification_date = result.Int(row, c + 9);
  activity.creation_date = result.Int(row, c + 10);
  return activity;
}

void SqlFilter::Add(std::string_view condition, Params params) {
  where_ += where_.empty() ? " WHERE " : " AND ";
  for (std::size_t i = 0; i < condition.size(); ++i) {
    if (condition[i] == '$' && i + 1 < condition.size() && condition[i + 1] == '?') {
      params_.push_back(std::move(params.front()));
      params.erase(params.begin());
      where_ += "$" + std::to_string(params_.size());
      ++i;
    } else {
      where_ += condition[i];
    }
  }
}

}  // namespace cmfd::pg
