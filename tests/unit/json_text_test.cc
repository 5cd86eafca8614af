#include "storage/json_text.h"

#include <gtest/gtest.h>

namespace cmfd {
namespace {

std::vector<CustomField> Fields(std::initializer_list<const char*> names) {
  std::vector<CustomField> fields;
  for (const char* name : names) {
    CustomField field;
    field.name = name;
    fields.push_back(field);
  }
  return fields;
}

TEST(JsonTextTest, AppendJsonStringEscapes) {
  std::string out;
  AppendJsonString(out, "a\"b\\c\nd\x01" "é");
  EXPECT_EQ(out, "\"a\\\"b\\\\c\\nd\\u0001é\"");
}

TEST(JsonTextTest, EncodeLeavesOutNulls) {
  std::vector<CustomField> fields = Fields({"customerNumber", "tier", "score"});
  EXPECT_EQ(EncodeExtraFields(fields, {"\"12\"", std::nullopt, "1.50"}),
            R"({"customerNumber":"12","score":1.50})");
  EXPECT_EQ(EncodeExtraFields(fields, {}), "{}");
}

TEST(JsonTextTest, DecodeRoundTripsLiteralsVerbatim) {
  std::vector<CustomField> fields = Fields({"a", "b", "c", "d"});
  std::vector<std::optional<std::string>> values = {"\"x, \\\"y\\\" }\"", "1.0", std::nullopt,
                                                    "true"};
  std::vector<std::optional<std::string>> decoded;
  ASSERT_TRUE(DecodeExtraFields(EncodeExtraFields(fields, values), fields, decoded).ok());
  EXPECT_EQ(decoded, values);
}

TEST(JsonTextTest, DecodeSkipsUnknownKeysAndAcceptsSpace) {
  std::vector<CustomField> fields = Fields({"kept", "new"});
  std::vector<std::optional<std::string>> decoded;
  ASSERT_TRUE(DecodeExtraFields(R"( { "gone" : {"x":[1,2]} , "kept" : 12 , "n\u0065w": null } )",
                                fields, decoded)
                  .ok());
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0], "12");
  EXPECT_EQ(decoded[1], std::nullopt);
}

TEST(JsonTextTest, DecodeMatchesEscapedKeys) {
  std::vector<CustomField> fields = Fields({"new", "a\"b"});
  std::vector<std::optional<std::string>> decoded;
  ASSERT_TRUE(DecodeExtraFields(R"({"n\u0065w":5,"a\"b":"x"})", fields, decoded).ok());
  ASSERT_EQ(decoded.size(), 2u);
  EXPECT_EQ(decoded[0], "5");
  EXPECT_EQ(decoded[1], "\"x\"");
}

TEST(JsonTextTest, DecodeRejectsDamagedText) {
  std::vector<CustomField> fields = Fields({"a"});
  std::vector<std::optional<std::string>> decoded;
  for (const char* text : {"", "[]", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1} x",
                           "{\"a\":\"open}"}) {
    Status status = DecodeExtraFields(text, fields, decoded);
    EXPECT_EQ(status.code(), Code::kInternal) << text;
  }
}

TEST(JsonTextTest, Arrays) {
  EXPECT_EQ(JsonIntArray({}), "[]");
  EXPECT_EQ(JsonIntArray({3, -1, 9}), "[3,-1,9]");
  EXPECT_EQ(JsonStringArray({"a", "b\"c"}), R"(["a","b\"c"])");
}

}  // namespace
}  // namespace cmfd
