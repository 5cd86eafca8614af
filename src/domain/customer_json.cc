#include "domain/customer_json.h"

#include <algorithm>
#include <array>
#include <charconv>
#include <cmath>

#include <fmt/format.h>
#include <sodium.h>

#include "domain/activity_json.h"
#include "domain/json_reader.h"
#include "domain/password.h"
#include "domain/validation.h"

namespace cmfd {

namespace {

constexpr std::size_t kMaxTextLength = 255;
constexpr std::size_t kMaxEmailLength = 254;

constexpr std::string_view kTextRule = "a string of at most 255 characters, or null";
constexpr std::string_view kGenderRule = "one of male, female, other, or null";
constexpr std::string_view kDateRule = "a date \"YYYY-MM-DD\" that exists in the calendar, or null";
constexpr std::string_view kCountryRule =
    "an assigned ISO 3166-1 alpha-2 country code such as \"DE\", or null";
constexpr std::string_view kEmailRule =
    "a valid email address of at most 254 characters, or null";

constexpr std::array<std::string_view, 6> kReadOnlyKeys = {
    "id", "creationDate", "modificationDate", "segments", "activities", "_links"};

using OptionalText = std::optional<std::string>;

// Adds "<field>: invalid value "<text>", must be <rule>" for a decoded string.
void AddInvalidText(Status& problems, std::string_view field, std::string_view text,
                    std::string_view rule) {
  problems.Add(Code::kInvalid, fmt::format("{}: invalid value {}, must be {}", field,
                                           QuoteForMessage(text), rule));
}

// Reads a string or null. Returns nullopt after recording a problem when the
// value is neither; otherwise the string (a nullopt inside for null).
std::optional<std::optional<std::string_view>> ReadStringOrNull(JsonValue& value,
                                                                std::string_view field,
                                                                std::string_view rule,
                                                                Status& problems) {
  if (TypeOf(value) == JsonType::null) return std::optional<std::string_view>();
  const auto text = ReadString(value, field, rule, problems);
  if (!text) return std::nullopt;
  return std::optional<std::string_view>(*text);
}

// Checks a plain text value: at most 255 code points.
bool CheckTextLength(std::string_view field, std::string_view text, Status& problems) {
  const std::size_t length = CountCodePoints(text);
  if (length <= kMaxTextLength) return true;
  problems.Add(Code::kInvalid,
               fmt::format("{}: invalid value {} ({} characters), must be at most {} characters",
                           field, QuoteForMessage(text), length, kMaxTextLength));
  return false;
}

// A plain text field: "" is kept.
std::optional<OptionalText> ReadText(JsonValue& value, std::string_view field, Status& problems) {
  const auto text = ReadStringOrNull(value, field, kTextRule, problems);
  if (!text) return std::nullopt;
  if (!*text) return OptionalText();
  if (!CheckTextLength(field, **text, problems)) return std::nullopt;
  return OptionalText(std::string(**text));
}

// The typed string fields below treat "" as null.

std::optional<OptionalText> ReadGender(JsonValue& value, Status& problems) {
  const auto text = ReadStringOrNull(value, "gender", kGenderRule, problems);
  if (!text) return std::nullopt;
  if (!*text || (*text)->empty()) return OptionalText();
  const std::string_view gender = **text;
  if (gender != "male" && gender != "female" && gender != "other") {
    AddInvalidText(problems, "gender", gender, kGenderRule);
    return std::nullopt;
  }
  return OptionalText(std::string(gender));
}

// A date; `past_only` rejects dates after today (UTC).
std::optional<OptionalText> ReadDate(JsonValue& value, std::string_view field, bool past_only,
                                     Status& problems) {
  const auto text = ReadStringOrNull(value, field, kDateRule, problems);
  if (!text) return std::nullopt;
  if (!*text || (*text)->empty()) return OptionalText();
  const std::string_view date = **text;
  const auto day = ParseDate(date);
  if (!day) {
    AddInvalidText(problems, field, date, kDateRule);
    return std::nullopt;
  }
  if (past_only && *day > TodayUtc()) {
    AddInvalidText(problems, field, date, "a date that is not after today (UTC)");
    return std::nullopt;
  }
  return OptionalText(std::string(date));
}

std::optional<OptionalText> ReadCountry(JsonValue& value, std::string_view field,
                                        Status& problems) {
  const auto text = ReadStringOrNull(value, field, kCountryRule, problems);
  if (!text) return std::nullopt;
  if (!*text || (*text)->empty()) return OptionalText();
  std::string code = ToUpperAscii(**text);
  if (!IsAssignedCountryCode(code)) {
    AddInvalidText(problems, field, **text, kCountryRule);
    return std::nullopt;
  }
  return OptionalText(std::move(code));
}

std::optional<OptionalText> ReadEmail(JsonValue& value, std::string_view field,
                                      Status& problems) {
  const auto text = ReadStringOrNull(value, field, kEmailRule, problems);
  if (!text) return std::nullopt;
  if (!*text || (*text)->empty()) return OptionalText();
  const std::string_view email = **text;
  if (CountCodePoints(email) > kMaxEmailLength || !IsValidEmail(email)) {
    AddInvalidText(problems, field, email, kEmailRule);
    return std::nullopt;
  }
  return OptionalText(std::string(email));
}

// A string as a JSON string literal.
std::string StringLiteral(std::string_view text) {
  std::string literal;
  JsonWriter writer(literal);
  writer.String(text);
  return literal;
}

// The canonical literal of a number, so that equal numbers compare equal in
// unique checks and filters: an integer that fits 64 bits as such, any
// other number as the shortest text that reads back as the same double.
std::optional<std::string> CanonicalNumber(std::string_view token) {
  if (token.find_first_of(".eE") == std::string_view::npos) {
    if (const auto integer = ParseInt64(token)) return std::to_string(*integer);
  }
  double number = 0;
  const auto [end, error] = std::from_chars(token.data(), token.data() + token.size(), number);
  if (error != std::errc() || end != token.data() + token.size() || !std::isfinite(number)) {
    return std::nullopt;
  }
  return fmt::format("{}", number);
}

std::string RuleOf(const CustomField& field) {
  switch (field.type) {
    case FieldType::kString: return std::string(kTextRule);
    case FieldType::kInt: return "a 64-bit integer, or null";
    case FieldType::kNumber: return "a number, or null";
    case FieldType::kBool: return "true, false or null";
    case FieldType::kDate: return std::string(kDateRule);
    case FieldType::kEmail: return std::string(kEmailRule);
    case FieldType::kCountry: return std::string(kCountryRule);
    case FieldType::kSelect: {
      std::string rule = "one of ";
      for (std::size_t i = 0; i < field.options.size(); ++i) {
        if (i > 0) rule += ", ";
        rule += field.options[i];
      }
      return rule + ", or null";
    }
  }
  return "a valid value";
}

// Reads the value of an extra field into its compact JSON literal.
std::optional<OptionalText> ReadExtra(JsonValue& value, const CustomField& field,
                                      Status& problems) {
  const JsonType type = TypeOf(value);
  if (type == JsonType::null) return OptionalText();

  // "" on a typed field is null, as for the built-in fields.
  if (field.type != FieldType::kString && type == JsonType::string) {
    std::string_view text;
    if (!value.get_string().get(text) && text.empty()) return OptionalText();
  }

  switch (field.type) {
    case FieldType::kString: {
      auto text = ReadText(value, field.name, problems);
      if (!text || !*text) return text;
      // "" on a unique field is stored as null: an empty value identifies no
      // customer, so any number of customers may leave the field empty
      // instead of the second one getting a conflict.
      if (field.unique && (*text)->empty()) return OptionalText();
      return OptionalText(StringLiteral(**text));
    }
    case FieldType::kInt: {
      const auto number = ReadInt(value, field.name, RuleOf(field), problems);
      if (!number) return std::nullopt;
      return OptionalText(std::to_string(*number));
    }
    case FieldType::kNumber: {
      std::optional<std::string> literal;
      if (type == JsonType::number) {
        std::string_view token = value.raw_json_token();
        while (!token.empty() && std::string_view(" \t\r\n").find(token.back()) !=
                                     std::string_view::npos) {
          token.remove_suffix(1);
        }
        literal = CanonicalNumber(token);
      }
      if (!literal) {
        AddInvalidValue(problems, field.name, value, "a number within the range of a double, "
                                                     "or null");
        return std::nullopt;
      }
      return OptionalText(std::move(*literal));
    }
    case FieldType::kBool: {
      bool flag = false;
      if (type != JsonType::boolean || value.get_bool().get(flag)) {
        AddInvalidValue(problems, field.name, value, RuleOf(field));
        return std::nullopt;
      }
      return OptionalText(flag ? "true" : "false");
    }
    case FieldType::kDate:
    case FieldType::kEmail:
    case FieldType::kCountry: {
      std::optional<OptionalText> text;
      if (field.type == FieldType::kDate) text = ReadDate(value, field.name, false, problems);
      if (field.type == FieldType::kEmail) text = ReadEmail(value, field.name, problems);
      if (field.type == FieldType::kCountry) text = ReadCountry(value, field.name, problems);
      if (!text || !*text) return text;
      return OptionalText(StringLiteral(**text));
    }
    case FieldType::kSelect: {
      const std::string rule = RuleOf(field);
      const auto text = ReadString(value, field.name, rule, problems);
      if (!text) return std::nullopt;
      if (std::find(field.options.begin(), field.options.end(), *text) == field.options.end()) {
        AddInvalidText(problems, field.name, *text, rule);
        return std::nullopt;
      }
      return OptionalText(StringLiteral(*text));
    }
  }
  return std::nullopt;
}

// Stores `read` into `member` when it succeeded.
void Set(std::optional<OptionalText>&& read, std::optional<OptionalText>& member) {
  if (read) member = std::move(*read);
}

// True when the customer field `name` contains a value that counts as filled.
bool IsFilled(const Customer& customer, const CustomerSchema& schema, std::string_view name) {
  auto filled = [](const OptionalText& text) { return text && !text->empty(); };
  if (name == "gender") return filled(customer.gender);
  if (name == "firstname") return filled(customer.firstname);
  if (name == "lastname") return filled(customer.lastname);
  if (name == "birthdate") return filled(customer.birthdate);
  if (name == "street") return filled(customer.street);
  if (name == "zip") return filled(customer.zip);
  if (name == "city") return filled(customer.city);
  if (name == "phone") return filled(customer.phone);
  if (name == "countryCode") return filled(customer.country_code);
  if (name == "email") return filled(customer.email);
  if (name == "idEncoded") return !customer.id_encoded.empty();
  if (name == "password") return customer.password_hash.has_value();
  if (name == "active" || name == "profilingConsent") return true;
  for (std::size_t i = 0; i < schema.fields.size(); ++i) {
    if (schema.fields[i].name != name) continue;
    return i < customer.extra.size() && customer.extra[i] && *customer.extra[i] != "\"\"";
  }
  return false;  // an unknown name is never filled
}

}  // namespace

Result<CustomerPatch> ParseCustomerPatch(std::string_view body, const CustomerSchema& schema) {
  CustomerPatch patch;
  Status problems;
  std::optional<std::string> password;  // plain text, hashed after validation

  Status parsed = ForEachMember(body, [&](std::string_view key, JsonValue& value) {
    if (key == "active") {
      if (const auto flag = ReadBool(value, key, problems)) patch.active = *flag;
    } else if (key == "gender") {
      Set(ReadGender(value, problems), patch.gender);
    } else if (key == "firstname") {
      Set(ReadText(value, key, problems), patch.firstname);
    } else if (key == "lastname") {
      Set(ReadText(value, key, problems), patch.lastname);
    } else if (key == "birthdate") {
      Set(ReadDate(value, key, true, problems), patch.birthdate);
    } else if (key == "street") {
      Set(ReadText(value, key, problems), patch.street);
    } else if (key == "zip") {
      Set(ReadText(value, key, problems), patch.zip);
    } else if (key == "city") {
      Set(ReadText(value, key, problems), patch.city);
    } else if (key == "phone") {
      Set(ReadText(value, key, problems), patch.phone);
    } else if (key == "countryCode") {
      Set(ReadCountry(value, key, problems), patch.country_code);
    } else if (key == "email") {
      Set(ReadEmail(value, key, problems), patch.email);
    } else if (key == "idEncoded") {
      // null keeps the stored token, so a client can send back what it read.
      if (TypeOf(value) == JsonType::null) return;
      static constexpr std::string_view kRule = "a non-empty string of at most 255 characters";
      const auto text = ReadString(value, key, kRule, problems);
      if (!text) return;
      if (text->empty() || CountCodePoints(*text) > kMaxTextLength) {
        AddInvalidText(problems, key, *text, kRule);
        return;
      }
      patch.id_encoded = std::string(*text);
    } else if (key == "profilingConsent") {
      if (const auto flag = ReadBool(value, key, problems)) patch.profiling_consent = *flag;
    } else if (key == "password") {
      // null is ignored: the representation always shows null here. The
      // messages never quote the value, because it may be a real password.
      if (TypeOf(value) == JsonType::null) return;
      std::string_view text;
      if (TypeOf(value) != JsonType::string || value.get_string().get(text)) {
        problems.Add(Code::kInvalid, "password: invalid value, must be a string or null");
        return;
      }
      if (text.find('\0') != std::string_view::npos) {
        problems.Add(Code::kInvalid, "password: invalid value, " + std::string(kNulNotAllowed));
        return;
      }
      password = std::string(text);
    } else if (std::find(kReadOnlyKeys.begin(), kReadOnlyKeys.end(), key) !=
               kReadOnlyKeys.end()) {
      return;
    } else {
      for (std::size_t i = 0; i < schema.fields.size(); ++i) {
        if (schema.fields[i].name != key) continue;
        if (auto literal = ReadExtra(value, schema.fields[i], problems)) {
          patch.extra.emplace_back(i, std::move(*literal));
        }
        return;
      }
      problems.Add(Code::kInvalid, "unknown field " + QuoteForMessage(key));
    }
  });
  if (!parsed.ok()) return parsed;
  if (!problems.ok()) return problems;

  if (password) {
    if (password->empty()) {
      patch.password_hash = OptionalText();
    } else {
      Result<std::string> hash = HashPassword(*password);
      sodium_memzero(password->data(), password->size());
      if (!hash.ok()) return hash.status();
      patch.password_hash = OptionalText(std::move(hash.value()));
    }
  }
  return patch;
}

Customer NewCustomer(const CustomerSchema& schema) {
  Customer customer;
  customer.extra.resize(schema.fields.size());
  return customer;
}

void ApplyCustomerPatch(const CustomerPatch& patch, Customer& customer) {
  if (patch.active) customer.active = *patch.active;
  if (patch.gender) customer.gender = *patch.gender;
  if (patch.firstname) customer.firstname = *patch.firstname;
  if (patch.lastname) customer.lastname = *patch.lastname;
  if (patch.birthdate) customer.birthdate = *patch.birthdate;
  if (patch.street) customer.street = *patch.street;
  if (patch.zip) customer.zip = *patch.zip;
  if (patch.city) customer.city = *patch.city;
  if (patch.phone) customer.phone = *patch.phone;
  for (const auto& [index, literal] : patch.extra) {
    if (customer.extra.size() <= index) customer.extra.resize(index + 1);
    customer.extra[index] = literal;
  }
  if (patch.country_code) customer.country_code = *patch.country_code;
  if (patch.email) customer.email = *patch.email;
  if (patch.id_encoded) customer.id_encoded = *patch.id_encoded;
  if (patch.profiling_consent) customer.profiling_consent = *patch.profiling_consent;
  if (patch.password_hash) customer.password_hash = *patch.password_hash;
}

Status CheckRequiredFields(const Customer& customer, const CustomerSchema& schema) {
  if (schema.required.empty()) return Status::Ok();
  for (const auto& combination : schema.required) {
    const bool all_filled = std::all_of(
        combination.begin(), combination.end(),
        [&](const std::string& name) { return IsFilled(customer, schema, name); });
    if (all_filled) return Status::Ok();
  }

  std::string message =
      "Not all required fields are set. Please fill-up one of the following field combinations: ";
  for (std::size_t i = 0; i < schema.required.size(); ++i) {
    if (i > 0) message += " or ";
    message += '[';
    for (std::size_t j = 0; j < schema.required[i].size(); ++j) {
      if (j > 0) message += " + ";
      message += schema.required[i][j];
    }
    message += ']';
  }
  return Status::Invalid(std::move(message));
}

Result<std::string> ParseExtraFieldFilter(const CustomField& field, std::string_view text) {
  auto invalid = [&](std::string_view rule) {
    return Status::Invalid(fmt::format("{}: invalid value {}, must be {}", field.name,
                                       QuoteForMessage(text), rule));
  };

  switch (field.type) {
    case FieldType::kString:
      if (CountCodePoints(text) > kMaxTextLength) return invalid("at most 255 characters");
      return StringLiteral(text);
    case FieldType::kInt: {
      const auto number = ParseInt64(text);
      if (!number) return invalid("a 64-bit integer");
      return std::to_string(*number);
    }
    case FieldType::kNumber: {
      // Only the JSON number syntax: from_chars alone would also take "inf".
      const bool json_number = !text.empty() && ValidateJson(text).ok() &&
                               (text.front() == '-' || (text.front() >= '0' && text.front() <= '9'));
      const auto literal = json_number ? CanonicalNumber(text) : std::nullopt;
      if (!literal) return invalid("a number");
      return *literal;
    }
    case FieldType::kBool:
      if (text == "true" || text == "1") return std::string("true");
      if (text == "false" || text == "0") return std::string("false");
      return invalid("true, false, 1 or 0");
    case FieldType::kDate:
      if (!ParseDate(text)) return invalid("a date YYYY-MM-DD that exists in the calendar");
      return StringLiteral(text);
    case FieldType::kEmail:
      if (CountCodePoints(text) > kMaxEmailLength || !IsValidEmail(text)) {
        return invalid("a valid email address of at most 254 characters");
      }
      return StringLiteral(text);
    case FieldType::kCountry: {
      const std::string code = ToUpperAscii(text);
      if (!IsAssignedCountryCode(code)) {
        return invalid("an assigned ISO 3166-1 alpha-2 country code such as DE");
      }
      return StringLiteral(code);
    }
    case FieldType::kSelect:
      if (std::find(field.options.begin(), field.options.end(), text) == field.options.end()) {
        std::string rule = RuleOf(field);
        rule.resize(rule.size() - std::string_view(", or null").size());
        return invalid(rule);
      }
      return StringLiteral(text);
  }
  return invalid("a valid value");
}

void WriteCustomer(JsonWriter& writer, const Customer& customer, const CustomerSchema& schema) {
  writer.StartObject();
  writer.Key("id");
  writer.Int(customer.id);
  writer.Key("active");
  writer.Bool(customer.active);
  writer.Key("gender");
  writer.OptionalString(customer.gender);
  writer.Key("firstname");
  writer.OptionalString(customer.firstname);
  writer.Key("lastname");
  writer.OptionalString(customer.lastname);
  writer.Key("birthdate");
  writer.OptionalString(customer.birthdate);
  writer.Key("street");
  writer.OptionalString(customer.street);
  writer.Key("zip");
  writer.OptionalString(customer.zip);
  writer.Key("city");
  writer.OptionalString(customer.city);
  writer.Key("phone");
  writer.OptionalString(customer.phone);

  for (std::size_t i = 0; i < schema.fields.size(); ++i) {
    writer.Key(schema.fields[i].name);
    if (i < customer.extra.size() && customer.extra[i]) {
      writer.Raw(RawValue{*customer.extra[i]});
    } else {
      writer.Null();
    }
  }

  writer.Key("countryCode");
  writer.OptionalString(customer.country_code);
  writer.Key("email");
  writer.OptionalString(customer.email);
  writer.Key("idEncoded");
  writer.String(customer.id_encoded);
  writer.Key("profilingConsent");
  writer.Bool(customer.profiling_consent);
  writer.Key("password");
  writer.Null();  // the hash never leaves the server
  writer.Key("modificationDate");
  writer.Int(customer.modification_date);
  writer.Key("creationDate");
  writer.Int(customer.creation_date);

  writer.Key("segments");
  writer.StartArray();
  for (const std::int64_t segment : customer.segments) writer.Int(segment);
  writer.EndArray();

  if (customer.activities) {
    writer.Key("activities");
    writer.StartArray();
    for (const Activity& activity : *customer.activities) WriteActivity(writer, activity);
    writer.EndArray();
  }

  writer.Key("_links");
  writer.SelfLinks("customers", customer.id);
  writer.EndObject();
}

}  // namespace cmfd
