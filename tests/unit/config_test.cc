#include "config/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <unistd.h>

namespace cmfd {
namespace {

// Writes `text` to a fresh file and loads it over `config`.
Status LoadText(const std::string& text, Config& config) {
  static int counter = 0;
  const std::string path = testing::TempDir() + "cmfd_config_test_" +
                           std::to_string(getpid()) + "_" + std::to_string(counter++) + ".toml";
  {
    std::ofstream file(path);
    file << text;
  }
  Status status = LoadConfigFile(path, config);
  std::remove(path.c_str());
  return status;
}

// Loads `text` into a default Config and returns the first error message.
std::string FirstError(const std::string& text) {
  Config config;
  Status status = LoadText(text, config);
  EXPECT_FALSE(status.ok()) << text;
  EXPECT_EQ(status.code(), Code::kInvalid);
  return status.message();
}

bool Contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(ConfigTest, DefaultsWithEmptyFile) {
  Config config;
  ASSERT_TRUE(LoadText("", config).ok());
  EXPECT_EQ(config.listen, "127.0.0.1:8080");
  EXPECT_EQ(config.database, "cmf.db");
  EXPECT_EQ(config.threads, 2);
  EXPECT_EQ(config.max_body_bytes, 1048576u);
  EXPECT_EQ(config.max_page_size, 1000);
  EXPECT_TRUE(config.customer.fields.empty());
  EXPECT_TRUE(config.customer.required.empty());
  EXPECT_TRUE(config.customer.duplicate_check.empty());
}

TEST(ConfigTest, DurabilityLevels) {
  Config config;
  EXPECT_EQ(config.durability, Durability::kFull);
  ASSERT_TRUE(LoadText("durability = \"normal\"", config).ok());
  EXPECT_EQ(config.durability, Durability::kNormal);
  ASSERT_TRUE(LoadText("durability = \"off\"", config).ok());
  EXPECT_EQ(config.durability, Durability::kOff);
  ASSERT_TRUE(LoadText("durability = \"full\"", config).ok());
  EXPECT_EQ(config.durability, Durability::kFull);
}

TEST(ConfigTest, DurabilityRejectsUnknownLevel) {
  const std::string message = FirstError("durability = \"fast\"");
  EXPECT_TRUE(Contains(message, "durability")) << message;
  EXPECT_TRUE(Contains(message, "\"fast\"")) << message;
  EXPECT_TRUE(Contains(message, "full, normal, off")) << message;
  EXPECT_TRUE(Contains(FirstError("durability = 1"), "a string"));
}

TEST(ConfigTest, ReadsFullLayout) {
  Config config;
  Status status = LoadText(R"(
listen = "0.0.0.0:9000"
database = "postgresql://cmf@localhost/cmf"
threads = 4

[limits]
max_body_bytes = 2048
max_page_size = 50

[customer]
required = [["email"], ["firstname", "lastname"]]
duplicate_check = ["email", "customerNumber"]

[[customer.fields]]
name = "customerNumber"
type = "string"
unique = true

[[customer.fields]]
name = "loyaltyTier"
type = "select"
options = ["bronze", "silver", "gold"]

[[customer.fields]]
name = "points"
type = "int"
)",
                           config);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(config.listen, "0.0.0.0:9000");
  EXPECT_EQ(config.database, "postgresql://cmf@localhost/cmf");
  EXPECT_EQ(config.threads, 4);
  EXPECT_EQ(config.max_body_bytes, 2048u);
  EXPECT_EQ(config.max_page_size, 50);

  ASSERT_EQ(config.customer.required.size(), 2u);
  EXPECT_EQ(config.customer.required[0], std::vector<std::string>{"email"});
  EXPECT_EQ(config.customer.required[1], (std::vector<std::string>{"firstname", "lastname"}));
  EXPECT_EQ(config.customer.duplicate_check,
            (std::vector<std::string>{"email", "customerNumber"}));

  ASSERT_EQ(config.customer.fields.size(), 3u);
  EXPECT_EQ(config.customer.fields[0].name, "customerNumber");
  EXPECT_EQ(config.customer.fields[0].type, FieldType::kString);
  EXPECT_TRUE(config.customer.fields[0].unique);
  EXPECT_EQ(config.customer.fields[1].name, "loyaltyTier");
  EXPECT_EQ(config.customer.fields[1].type, FieldType::kSelect);
  EXPECT_EQ(config.customer.fields[1].options,
            (std::vector<std::string>{"bronze", "silver", "gold"}));
  EXPECT_FALSE(config.customer.fields[1].unique);
  EXPECT_EQ(config.customer.fields[2].type, FieldType::kInt);
}

TEST(ConfigTest, ReadsEveryFieldType) {
  const std::pair<const char*, FieldType> types[] = {
      {"string", FieldType::kString}, {"int", FieldType::kInt},     {"number", FieldType::kNumber},
      {"bool", FieldType::kBool},     {"date", FieldType::kDate},   {"email", FieldType::kEmail},
      {"country", FieldType::kCountry},
  };
  for (const auto& [name, type] : types) {
    Config config;
    Status status =
        LoadText(std::string("[[customer.fields]]\nname = \"f\"\ntype = \"") + name + "\"\n",
                 config);
    ASSERT_TRUE(status.ok()) << name << ": " << status.message();
    ASSERT_EQ(config.customer.fields.size(), 1u);
    EXPECT_EQ(config.customer.fields[0].type, type) << name;
  }
}

TEST(ConfigTest, TypeDefaultsToString) {
  Config config;
  ASSERT_TRUE(LoadText("[[customer.fields]]\nname = \"note\"\n", config).ok());
  EXPECT_EQ(config.customer.fields[0].type, FieldType::kString);
}

TEST(ConfigTest, AbsentKeysKeepValues) {
  Config config;
  config.database = "other.db";
  config.threads = 7;
  ASSERT_TRUE(LoadText("listen = \"127.0.0.1:1\"\n", config).ok());
  EXPECT_EQ(config.database, "other.db");
  EXPECT_EQ(config.threads, 7);
  EXPECT_EQ(config.listen, "127.0.0.1:1");
}

TEST(ConfigTest, FailedLoadLeavesConfigUnchanged) {
  Config config;
  EXPECT_FALSE(LoadText("listen = \"0.0.0.0:1\"\nthreads = 0\n", config).ok());
  EXPECT_EQ(config.listen, "127.0.0.1:8080");
}

TEST(ConfigTest, MissingFile) {
  Config config;
  Status status = LoadConfigFile("/nonexistent/cmfd.toml", config);
  ASSERT_FALSE(status.ok());
  EXPECT_TRUE(Contains(status.message(), "/nonexistent/cmfd.toml")) << status.message();
  EXPECT_TRUE(Contains(status.message(), "No such file")) << status.message();
}

TEST(ConfigTest, SyntaxErrorNamesLine) {
  std::string message = FirstError("listen = \"a\"\nthreads = = 3\n");
  EXPECT_TRUE(Contains(message, ":2:")) << message;
  EXPECT_TRUE(Contains(message, "invalid TOML")) << message;
}

TEST(ConfigTest, UnknownKeysNamed) {
  std::string top = FirstError("thread = 3\n");
  EXPECT_TRUE(Contains(top, "thread: unknown key")) << top;
  EXPECT_TRUE(Contains(top, "listen, database, threads")) << top;

  std::string limits = FirstError("[limits]\nmax_body = 3\n");
  EXPECT_TRUE(Contains(limits, "limits.max_body: unknown key")) << limits;
  EXPECT_TRUE(Contains(limits, "max_body_bytes")) << limits;

  std::string field = FirstError("[[customer.fields]]\nname = \"a\"\nuniqe = true\n");
  EXPECT_TRUE(Contains(field, "customer.fields[0].uniqe: unknown key")) << field;
}

TEST(ConfigTest, EveryProblemReported) {
  Config config;
  Status status = LoadText("threads = 0\nlisten = 5\nbogus = 1\n", config);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.messages().size(), 3u);
}

TEST(ConfigTest, WrongTypesNamed) {
  std::string threads = FirstError("threads = \"two\"\n");
  EXPECT_TRUE(Contains(threads, "threads: invalid value \"two\" (a string), expected an integer"))
      << threads;
  EXPECT_TRUE(Contains(threads, ":1:")) << threads;

  std::string listen = FirstError("listen = 8080\n");
  EXPECT_TRUE(Contains(listen, "listen: invalid value 8080 (an integer), expected a string"))
      << listen;

  std::string limits = FirstError("limits = 3\n");
  EXPECT_TRUE(Contains(limits, "limits: invalid value 3 (an integer), expected a table"))
      << limits;

  std::string unique = FirstError("[[customer.fields]]\nname = \"a\"\nunique = \"yes\"\n");
  EXPECT_TRUE(Contains(unique, "customer.fields[0].unique: invalid value \"yes\"")) << unique;

  std::string fields = FirstError("[customer]\nfields = \"x\"\n");
  EXPECT_TRUE(Contains(fields, "customer.fields: invalid value")) << fields;
}

TEST(ConfigTest, RangesChecked) {
  EXPECT_TRUE(Contains(FirstError("threads = 0\n"), "must be between 1 and"));
  EXPECT_TRUE(Contains(FirstError("threads = -3\n"), "threads: invalid value -3"));
  EXPECT_TRUE(Contains(FirstError("[limits]\nmax_page_size = 0\n"),
                       "limits.max_page_size: invalid value 0, must be between 1 and"));
  EXPECT_TRUE(Contains(FirstError("[limits]\nmax_body_bytes = 1023\n"),
                       "limits.max_body_bytes: invalid value 1023, must be between 1024 and"));

  Config config;
  ASSERT_TRUE(LoadText("[limits]\nmax_body_bytes = 1024\nmax_page_size = 1\n", config).ok());
  EXPECT_EQ(config.max_body_bytes, 1024u);
  EXPECT_EQ(config.max_page_size, 1);
}

TEST(ConfigTest, ApiKeyCacheSeconds) {
  Config config;
  EXPECT_EQ(config.api_key_cache_seconds, 0);
  ASSERT_TRUE(LoadText("[api_keys]\ncache_seconds = 5\n", config).ok());
  EXPECT_EQ(config.api_key_cache_seconds, 5);
  ASSERT_TRUE(LoadText("[api_keys]\ncache_seconds = 300\n", config).ok());
  EXPECT_EQ(config.api_key_cache_seconds, 300);

  const std::string over = FirstError("[api_keys]\ncache_seconds = 301\n");
  EXPECT_TRUE(
      Contains(over, "api_keys.cache_seconds: invalid value 301, must be between 0 and 300"))
      << over;
  const std::string negative = FirstError("[api_keys]\ncache_seconds = -1\n");
  EXPECT_TRUE(Contains(negative, "api_keys.cache_seconds: invalid value -1")) << negative;
  const std::string unknown = FirstError("[api_keys]\nlifetime = 5\n");
  EXPECT_TRUE(Contains(unknown, "api_keys.lifetime: unknown key")) << unknown;
  EXPECT_TRUE(Contains(unknown, "cache_seconds")) << unknown;
}

TEST(ConfigTest, EmptyStringsRejected) {
  EXPECT_TRUE(Contains(FirstError("database = \"\"\n"), "database: invalid value \"\""));
  EXPECT_TRUE(Contains(FirstError("listen = \"\"\n"), "listen: invalid value \"\""));
}

TEST(ConfigTest, FieldNameMustBeIdentifier) {
  for (const char* name : {"1abc", "a-b", "a b", "é", "a.b"}) {
    std::string message =
        FirstError(std::string("[[customer.fields]]\nname = \"") + name + "\"\n");
    EXPECT_TRUE(Contains(message, "customer.fields[0].name: invalid name")) << message;
    EXPECT_TRUE(Contains(message, "identifier")) << message;
  }
  Config config;
  EXPECT_TRUE(LoadText("[[customer.fields]]\nname = \"_a1_B\"\n", config).ok());
}

TEST(ConfigTest, FieldNameMissing) {
  std::string message = FirstError("[[customer.fields]]\ntype = \"int\"\n");
  EXPECT_TRUE(Contains(message, "customer.fields[0].name: missing")) << message;
}

TEST(ConfigTest, FieldNameMustNotClashWithBuiltins) {
  for (const char* name : {"id", "email", "countryCode", "_links", "segments", "Email",
                           "idencoded", "password", "creationDate"}) {
    std::string message =
        FirstError(std::string("[[customer.fields]]\nname = \"") + name + "\"\n");
    EXPECT_TRUE(Contains(message, "clashes with the built-in customer key")) << message;
  }
}

TEST(ConfigTest, FieldNameMustNotClashWithListParameters) {
  for (const char* name : {"page", "pageSize", "includeActivities", "modificationTimestamp",
                           "apikey"}) {
    std::string message =
        FirstError(std::string("[[customer.fields]]\nname = \"") + name + "\"\n");
    EXPECT_TRUE(Contains(message, "query parameter")) << message;
  }
}

TEST(ConfigTest, FieldNamesUnique) {
  std::string message = FirstError(
      "[[customer.fields]]\nname = \"tier\"\n[[customer.fields]]\nname = \"Tier\"\n");
  EXPECT_TRUE(Contains(message, "customer.fields[1].name")) << message;
  EXPECT_TRUE(Contains(message, "already named \"tier\"")) << message;
}

TEST(ConfigTest, FieldTypeChecked) {
  std::string message = FirstError("[[customer.fields]]\nname = \"a\"\ntype = \"text\"\n");
  EXPECT_TRUE(Contains(message, "customer.fields[0].type: invalid value \"text\", must be one of"))
      << message;
}

TEST(ConfigTest, SelectNeedsOptions) {
  std::string missing = FirstError("[[customer.fields]]\nname = \"a\"\ntype = \"select\"\n");
  EXPECT_TRUE(Contains(missing, "customer.fields[0].options: missing")) << missing;

  std::string empty =
      FirstError("[[customer.fields]]\nname = \"a\"\ntype = \"select\"\noptions = []\n");
  EXPECT_TRUE(Contains(empty, "at least one option")) << empty;

  std::string twice = FirstError(
      "[[customer.fields]]\nname = \"a\"\ntype = \"select\"\noptions = [\"x\", \"x\"]\n");
  EXPECT_TRUE(Contains(twice, "listed twice")) << twice;

  std::string blank = FirstError(
      "[[customer.fields]]\nname = \"a\"\ntype = \"select\"\noptions = [\"x\", \"\"]\n");
  EXPECT_TRUE(Contains(blank, "customer.fields[0].options[1]: invalid value \"\"")) << blank;

  std::string typed = FirstError(
      "[[customer.fields]]\nname = \"a\"\ntype = \"select\"\noptions = [\"x\", 2]\n");
  EXPECT_TRUE(Contains(typed, "customer.fields[0].options[1]: invalid value 2")) << typed;
}

TEST(ConfigTest, OptionsOnlyOnSelect) {
  std::string message = FirstError(
      "[[customer.fields]]\nname = \"a\"\ntype = \"string\"\noptions = [\"x\"]\n");
  EXPECT_TRUE(Contains(message, "only allowed on a field of type select")) << message;
}

TEST(ConfigTest, RequiredNamesChecked) {
  std::string unknown = FirstError("[customer]\nrequired = [[\"email\", \"shoeSize\"]]\n");
  EXPECT_TRUE(Contains(unknown, "customer.required[0][1]: unknown customer field \"shoeSize\""))
      << unknown;

  std::string flat = FirstError("[customer]\nrequired = [\"email\"]\n");
  EXPECT_TRUE(Contains(flat, "customer.required[0]: invalid value \"email\"")) << flat;
  EXPECT_TRUE(Contains(flat, "array of arrays")) << flat;

  std::string empty = FirstError("[customer]\nrequired = [[]]\n");
  EXPECT_TRUE(Contains(empty, "at least one field name")) << empty;

  std::string not_data = FirstError("[customer]\nrequired = [[\"id\"]]\n");
  EXPECT_TRUE(Contains(not_data, "only fields that hold customer data")) << not_data;
}

TEST(ConfigTest, RequiredMayNameDeclaredFieldBeforeDeclaration) {
  Config config;
  Status status = LoadText(R"(
[customer]
required = [["shopId"]]
duplicate_check = ["shopId", "email"]

[[customer.fields]]
name = "shopId"
type = "int"
)",
                           config);
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(config.customer.required[0][0], "shopId");
}

TEST(ConfigTest, DuplicateCheckNamesChecked) {
  std::string unknown = FirstError("[customer]\nduplicate_check = [\"mail\"]\n");
  EXPECT_TRUE(Contains(unknown, "customer.duplicate_check[0]: unknown customer field \"mail\""))
      << unknown;

  std::string wrong = FirstError("[customer]\nduplicate_check = \"email\"\n");
  EXPECT_TRUE(Contains(wrong, "customer.duplicate_check: invalid value \"email\" (a string)"))
      << wrong;
}

}  // namespace
}  // namespace cmfd
