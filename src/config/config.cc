// LoadConfigFile: the TOML configuration file, checked key by key.
//
// Every table has a list of known keys (kRootKeys, kLimitsKeys, ...); each
// entry names a key and the function that reads its value into Config. To add
// a setting, add a Config member and one entry to the right list (or a new
// list for a new table, referenced from kRootKeys). Every problem in the file
// is reported at once, each message naming the file, line, key and rule.
#include "config/config.h"

#include <toml++/toml.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <limits>
#include <optional>
#include <span>
#include <sstream>
#include <string_view>

namespace cmfd {

namespace {

// The keys of the customer representation. Extra fields may not reuse them.
constexpr std::string_view kBuiltinCustomerKeys[] = {
    "id",          "active",    "gender",     "firstname",        "lastname",
    "birthdate",   "street",    "zip",        "city",             "phone",
    "countryCode", "email",     "idEncoded",  "profilingConsent", "password",
    "modificationDate", "creationDate", "segments", "activities", "_links",
};

// Built-in keys that hold no customer data a client fills in, so they cannot
// be required or compared by the duplicate check.
constexpr std::string_view kNonDataCustomerKeys[] = {
    "id", "password", "modificationDate", "creationDate", "segments", "activities", "_links",
};

// Query parameters of GET /customers. A unique extra field is a list filter
// under its own name, so it must not shadow one of these.
constexpr std::string_view kCustomerListParameters[] = {
    "page", "pageSize", "modificationTimestamp", "segments", "email", "includeActivities",
    "apikey", "apiKey",
};

constexpr std::size_t kMaxFieldNameLength = 64;

struct FieldTypeName {
  std::string_view name;
  FieldType type;
};
constexpr FieldTypeName kFieldTypes[] = {
    {"string", FieldType::kString}, {"int", FieldType::kInt},     {"number", FieldType::kNumber},
    {"bool", FieldType::kBool},     {"date", FieldType::kDate},   {"email", FieldType::kEmail},
    {"country", FieldType::kCountry}, {"select", FieldType::kSelect},
};

bool EqualsIgnoringCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

bool IsIdentifier(std::string_view name) {
  if (name.empty()) return false;
  auto letter = [](char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (!letter(name.front())) return false;
  for (char c : name) {
    if (!letter(c) && !digit(c)) return false;
  }
  return true;
}

std::string_view TypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string: return "a string";
    case toml::node_type::integer: return "an integer";
    case toml::node_type::floating_point: return "a floating-point number";
    case toml::node_type::boolean: return "a boolean";
    case toml::node_type::date: return "a date";
    case toml::node_type::time: return "a time";
    case toml::node_type::date_time: return "a date-time";
    case toml::node_type::array: return "an array";
    case toml::node_type::table: return "a table";
    case toml::node_type::none: break;
  }
  return "nothing";
}

// The value as it would be written in TOML, shortened for a message.
std::string Render(const toml::node& node) {
  // toml++ prints strings in single quotes; messages quote as JSON does.
  if (const auto* text = node.as_string()) return "\"" + text->get() + "\"";
  std::ostringstream out;
  node.visit([&out](const auto& value) { out << value; });
  std::string text = out.str();
  for (char& c : text) {
    if (c == '\n') c = ' ';
  }
  constexpr std::size_t kMaxLength = 60;
  if (text.size() > kMaxLength) text = text.substr(0, kMaxLength - 3) + "...";
  return text;
}

// Collects the problems of one file. `path` arguments are dotted key paths
// such as "limits.max_body_bytes" or "customer.fields[1].name".
class Reader {
 public:
  explicit Reader(std::string file) : file_(std::move(file)) {}

  void Fail(const toml::node& node, std::string_view path, std::string_view problem) {
    std::string message = file_;
    if (node.source().begin.line > 0) message += ":" + std::to_string(node.source().begin.line);
    message += ": ";
    message += path;
    message += ": ";
    message += problem;
    errors_.Add(Code::kInvalid, std::move(message));
  }

  void WrongType(const toml::node& node, std::string_view path, std::string_view expected) {
    Fail(node, path,
         "invalid value " + Render(node) + " (" + std::string(TypeName(node)) + "), expected " +
             std::string(expected));
  }

  std::optional<std::string> String(const toml::node& node, std::string_view path) {
    if (const auto* value = node.as_string()) return value->get();
    WrongType(node, path, "a string");
    return std::nullopt;
  }

  std::optional<std::string> NonEmptyString(const toml::node& node, std::string_view path) {
    std::optional<std::string> value = String(node, path);
    if (value && value->empty()) {
      Fail(node, path, "invalid value \"\", must not be empty");
      return std::nullopt;
    }
    return value;
  }

  std::optional<std::int64_t> Integer(const toml::node& node, std::string_view path,
                                      std::int64_t min, std::int64_t max) {
    const auto* value = node.as_integer();
    if (value == nullptr) {
      WrongType(node, path, "an integer");
      return std::nullopt;
    }
    const std::int64_t number = value->get();
    if (number < min || number > max) {
      Fail(node, path,
           "invalid value " + std::to_string(number) + ", must be between " + std::to_string(min) +
               " and " + std::to_string(max));
      return std::nullopt;
    }
    return number;
  }

  std::optional<bool> Boolean(const toml::node& node, std::string_view path) {
    if (const auto* value = node.as_boolean()) return value->get();
    WrongType(node, path, "true or false");
    return std::nullopt;
  }

  // An array whose every element is a non-empty string.
  std::optional<std::vector<std::string>> StringArray(const toml::node& node,
                                                      std::string_view path) {
    const auto* array = node.as_array();
    if (array == nullptr) {
      WrongType(node, path, "an array of strings");
      return std::nullopt;
    }
    std::vector<std::string> values;
    bool ok = true;
    for (std::size_t i = 0; i < array->size(); ++i) {
      const std::string element_path = std::string(path) + "[" + std::to_string(i) + "]";
      std::optional<std::string> value = NonEmptyString(*array->get(i), element_path);
      if (value) {
        values.push_back(std::move(*value));
      } else {
        ok = false;
      }
    }
    if (!ok) return std::nullopt;
    return values;
  }

  Status TakeErrors() { return std::move(errors_); }

 private:
  std::string file_;
  Status errors_;
};

// A name that `customer.required` or `customer.duplicate_check` refers to,
// checked once the whole file (and so every declared field) has been read.
struct FieldReference {
  std::string name;
  std::string path;
  const toml::node* node;
};

// State shared by the readers, besides Config.
struct LoadState {
  Reader reader;
  Config& config;
  std::vector<FieldReference> references;
};

// One known key of a table and the function that reads its value.
struct Key {
  std::string_view name;
  void (*read)(LoadState& state, const toml::node& node, const std::string& path);
};

void ReadTable(LoadState& state, const toml::node& node, const std::string& path,
               std::span<const Key> keys) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    state.reader.WrongType(node, path, "a table");
    return;
  }

  for (const auto& [name, value] : *table) {
    const std::string key_path = path.empty() ? std::string(name.str())
                                              : path + "." + std::string(name.str());
    const Key* known = nullptr;
    for (const Key& key : keys) {
      if (key.name == name.str()) known = &key;
    }
    if (known == nullptr) {
      std::string list;
      for (const Key& key : keys) {
        if (!list.empty()) list += ", ";
        list += key.name;
      }
      state.reader.Fail(value, key_path,
                        "unknown key; the known keys " +
                            (path.empty() ? std::string("at the top level")
                                          : "in [" + path + "]") +
                            " are " + list);
      continue;
    }
    known->read(state, value, key_path);
  }
}

// ---- [limits] ----

constexpr Key kLimitsKeys[] = {
    {"max_body_bytes",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       // The upper bound keeps the HTTP layer's own, larger transport limit
       // far from overflow.
       constexpr std::int64_t kMaxBodyLimit = std::int64_t{1} << 30;
       if (auto value = state.reader.Integer(node, path, 1024, kMaxBodyLimit)) {
         state.config.max_body_bytes = static_cast<std::uint64_t>(*value);
       }
     }},
    {"max_page_size",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       if (auto value = state.reader.Integer(node, path, 1, 1000000)) {
         state.config.max_page_size = *value;
       }
     }},
};

// ---- [postgres] ----

constexpr Key kPostgresKeys[] = {
    {"pool_size",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       if (auto value = state.reader.Integer(node, path, 1, 1000)) {
         state.config.pool_size = static_cast<int>(*value);
       }
     }},
};

// ---- [api_keys] ----

constexpr Key kApiKeysKeys[] = {
    {"cache_seconds",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       // A revoked key works for up to this long, so the bound stays short.
       if (auto value = state.reader.Integer(node, path, 0, 300)) {
         state.config.api_key_cache_seconds = static_cast<int>(*value);
       }
     }},
};

// ---- [[customer.fields]] ----

void ReadFieldName(LoadState& state, const toml::node& node, const std::string& path,
                   CustomField& field) {
  std::optional<std::string> name = state.reader.NonEmptyString(node, path);
  if (!name) return;

  if (!IsIdentifier(*name) || name->size() > kMaxFieldNameLength) {
    state.reader.Fail(node, path,
                      "invalid name \"" + *name + "\", must be an identifier (a letter or '_', "
                      "then letters, digits or '_') of at most " +
                          std::to_string(kMaxFieldNameLength) + " characters");
    return;
  }
  // Case is ignored because a store may keep each field in a column, and SQL
  // column names do not distinguish case.
  for (std::string_view builtin : kBuiltinCustomerKeys) {
    if (EqualsIgnoringCase(*name, builtin)) {
      state.reader.Fail(node, path,
                        "invalid name \"" + *name + "\", clashes with the built-in customer key \"" +
                            std::string(builtin) + "\" (names are compared ignoring case)");
      return;
    }
  }
  for (std::string_view parameter : kCustomerListParameters) {
    if (EqualsIgnoringCase(*name, parameter)) {
      state.reader.Fail(node, path,
                        "invalid name \"" + *name +
                            "\", clashes with the customer list query parameter \"" +
                            std::string(parameter) + "\"");
      return;
    }
  }
  for (const CustomField& other : state.config.customer.fields) {
    if (EqualsIgnoringCase(*name, other.name)) {
      state.reader.Fail(node, path,
                        "invalid name \"" + *name + "\", another field is already named \"" +
                            other.name + "\" (names are compared ignoring case)");
      return;
    }
  }
  field.name = std::move(*name);
}

void ReadField(LoadState& state, const toml::node& node, const std::string& path) {
  const toml::table* table = node.as_table();
  if (table == nullptr) {
    state.reader.WrongType(node, path, "a table with name, type, options and unique");
    return;
  }

  CustomField field;
  const toml::node* options_node = nullptr;
  for (const auto& [key, value] : *table) {
    const std::string key_path = path + "." + std::string(key.str());
    if (key == "name") {
      ReadFieldName(state, value, key_path, field);
    } else if (key == "type") {
      std::optional<std::string> type = state.reader.String(value, key_path);
      if (!type) continue;
      const FieldTypeName* found = nullptr;
      for (const FieldTypeName& candidate : kFieldTypes) {
        if (candidate.name == *type) found = &candidate;
      }
      if (found == nullptr) {
        state.reader.Fail(value, key_path,
                          "invalid value \"" + *type + "\", must be one of string, int, number, "
                          "bool, date, email, country, select");
        continue;
      }
      field.type = found->type;
    } else if (key == "options") {
      options_node = &value;
      if (auto options = state.reader.StringArray(value, key_path)) field.options = *options;
    } else if (key == "unique") {
      if (auto unique = state.reader.Boolean(value, key_path)) field.unique = *unique;
    } else {
      state.reader.Fail(value, key_path,
                        "unknown key; the known keys of a customer field are name, type, "
                        "options, unique");
    }
  }

  if (table->get("name") == nullptr) {
    state.reader.Fail(node, path + ".name", "missing; every customer field needs a name");
  }
  // Messages below name the field too, when its name is usable.
  const std::string quoted_name = field.name.empty() ? "" : " \"" + field.name + "\"";
  if (field.type == FieldType::kSelect) {
    if (options_node == nullptr) {
      state.reader.Fail(node, path + ".options",
                        "missing; the select field" + quoted_name +
                            " needs a non-empty list of options");
    } else if (field.options.empty() && options_node->as_array() != nullptr &&
               options_node->as_array()->empty()) {
      state.reader.Fail(*options_node, path + ".options",
                        "invalid value [], the select field" + quoted_name +
                            " needs at least one option");
    }
    for (std::size_t i = 0; i < field.options.size(); ++i) {
      for (std::size_t j = 0; j < i; ++j) {
        if (field.options[i] == field.options[j]) {
          state.reader.Fail(*options_node, path + ".options",
                            "invalid value, the option \"" + field.options[i] +
                                "\" of the field" + quoted_name + " is listed twice");
        }
      }
    }
  } else if (options_node != nullptr) {
    state.reader.Fail(*options_node, path + ".options",
                      "options are only allowed on a field of type select, and the field" +
                          quoted_name + " has another type");
  }

  // Only a complete field is kept, so that one mistake gives one message and
  // not a second one about a reference to the field.
  if (!field.name.empty()) state.config.customer.fields.push_back(std::move(field));
}

void ReadFields(LoadState& state, const toml::node& node, const std::string& path) {
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    state.reader.WrongType(node, path, "an array of tables ([[customer.fields]])");
    return;
  }
  state.config.customer.fields.clear();
  for (std::size_t i = 0; i < array->size(); ++i) {
    ReadField(state, *array->get(i), path + "[" + std::to_string(i) + "]");
  }
}

// ---- [customer] ----

void ReadRequired(LoadState& state, const toml::node& node, const std::string& path) {
  constexpr std::string_view kExpected =
      "an array of arrays of field names, such as [[\"email\"], [\"firstname\", \"lastname\"]]";
  const toml::array* array = node.as_array();
  if (array == nullptr) {
    state.reader.WrongType(node, path, kExpected);
    return;
  }

  std::vector<std::vector<std::string>> required;
  for (std::size_t i = 0; i < array->size(); ++i) {
    const std::string element_path = path + "[" + std::to_string(i) + "]";
    const toml::node& element = *array->get(i);
    if (element.as_array() == nullptr) {
      state.reader.WrongType(element, element_path, kExpected);
      continue;
    }
    std::optional<std::vector<std::string>> names = state.reader.StringArray(element, element_path);
    if (!names) continue;
    if (names->empty()) {
      state.reader.Fail(element, element_path,
                        "invalid value [], a combination needs at least one field name");
      continue;
    }
    for (std::size_t j = 0; j < names->size(); ++j) {
      state.references.push_back(
          {(*names)[j], element_path + "[" + std::to_string(j) + "]", &element});
    }
    required.push_back(std::move(*names));
  }
  state.config.customer.required = std::move(required);
}

void ReadDuplicateCheck(LoadState& state, const toml::node& node, const std::string& path) {
  std::optional<std::vector<std::string>> names = state.reader.StringArray(node, path);
  if (!names) return;
  for (std::size_t i = 0; i < names->size(); ++i) {
    state.references.push_back({(*names)[i], path + "[" + std::to_string(i) + "]", &node});
  }
  state.config.customer.duplicate_check = std::move(*names);
}

constexpr Key kCustomerKeys[] = {
    {"required", ReadRequired},
    {"duplicate_check", ReadDuplicateCheck},
    {"fields", ReadFields},
};

// ---- top level ----

constexpr Key kRootKeys[] = {
    {"listen",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       if (auto value = state.reader.NonEmptyString(node, path)) state.config.listen = *value;
     }},
    {"database",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       if (auto value = state.reader.NonEmptyString(node, path)) state.config.database = *value;
     }},
    {"threads",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       if (auto value = state.reader.Integer(node, path, 1, 256)) {
         state.config.threads = static_cast<int>(*value);
       }
     }},
    {"durability",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       std::optional<std::string> value = state.reader.String(node, path);
       if (!value) return;
       for (Durability durability : {Durability::kFull, Durability::kNormal, Durability::kOff}) {
         if (*value == DurabilityName(durability)) {
           state.config.durability = durability;
           return;
         }
       }
       state.reader.Fail(node, path,
                         "invalid value \"" + *value + "\", must be one of full, normal, off");
     }},
    {"limits",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       ReadTable(state, node, path, kLimitsKeys);
     }},
    {"customer",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       ReadTable(state, node, path, kCustomerKeys);
     }},
    {"postgres",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       ReadTable(state, node, path, kPostgresKeys);
     }},
    {"api_keys",
     [](LoadState& state, const toml::node& node, const std::string& path) {
       ReadTable(state, node, path, kApiKeysKeys);
     }},
};

// Checks the names in customer.required and customer.duplicate_check against
// the built-in keys and the declared fields.
void CheckFieldReferences(LoadState& state) {
  for (const FieldReference& reference : state.references) {
    bool known = false;
    for (std::string_view builtin : kBuiltinCustomerKeys) known = known || builtin == reference.name;
    for (const CustomField& field : state.config.customer.fields) {
      known = known || field.name == reference.name;
    }
    bool data = true;
    for (std::string_view key : kNonDataCustomerKeys) data = data && key != reference.name;

    if (!known) {
      state.reader.Fail(*reference.node, reference.path,
                        "unknown customer field \"" + reference.name +
                            "\"; use a built-in key such as email or a field declared in "
                            "[[customer.fields]]");
    } else if (!data) {
      state.reader.Fail(*reference.node, reference.path,
                        "invalid field \"" + reference.name +
                            "\", only fields that hold customer data can be used here");
    }
  }
}

}  // namespace

const char* DurabilityName(Durability durability) {
  switch (durability) {
    case Durability::kFull: return "full";
    case Durability::kNormal: return "normal";
    case Durability::kOff: return "off";
  }
  return "full";
}

Status LoadConfigFile(const std::string& path, Config& config) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::Invalid("cannot open config file \"" + path + "\": " + std::strerror(errno));
  }
  std::ostringstream content;
  content << file.rdbuf();
  if (file.bad()) {
    return Status::Invalid("cannot read config file \"" + path + "\": " + std::strerror(errno));
  }

  toml::table root;
  try {
    root = toml::parse(content.str(), path);
  } catch (const toml::parse_error& error) {
    return Status::Invalid(path + ":" + std::to_string(error.source().begin.line) + ":" +
                           std::to_string(error.source().begin.column) +
                           ": invalid TOML: " + std::string(error.description()));
  }

  // Read into a copy, so that a file with errors leaves `config` unchanged.
  Config loaded = config;
  LoadState state{Reader(path), loaded, {}};
  ReadTable(state, root, "", kRootKeys);
  CheckFieldReferences(state);

  Status errors = state.reader.TakeErrors();
  if (!errors.ok()) return errors;

  config = std::move(loaded);
  return Status::Ok();
}

}  // namespace cmfd
