#include "domain/json_writer.h"

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cstdint>
#include <limits>
#include <random>
#include <string>

namespace cmfd {
namespace {

// The text RapidJSON's Writer produces for one string value: the output
// JsonWriter must match byte for byte.
std::string RapidJsonString(std::string_view text) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  writer.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
  return std::string(buffer.GetString(), buffer.GetSize());
}

std::string WriteString(std::string_view text) {
  std::string out;
  JsonWriter writer(out);
  writer.String(text);
  return out;
}

TEST(JsonWriter, SeparatorsInNestedValues) {
  std::string out;
  JsonWriter writer(out);
  writer.StartObject();
  writer.Key("a");
  writer.Int(1);
  writer.Key("list");
  writer.StartArray();
  writer.Int(-2);
  writer.StartObject();
  writer.EndObject();
  writer.StartArray();
  writer.EndArray();
  writer.Null();
  writer.Bool(true);
  writer.Bool(false);
  writer.EndArray();
  writer.Key(std::string_view("dynamic"));
  writer.String("x");
  writer.Key("raw");
  writer.Raw(RawValue{R"({"k":[1,2]})"});
  writer.Key("absent");
  writer.OptionalString(std::nullopt);
  writer.Key("number");
  writer.OptionalInt(7);
  writer.EndObject();
  EXPECT_EQ(out, R"({"a":1,"list":[-2,{},[],null,true,false],"dynamic":"x",)"
                 R"("raw":{"k":[1,2]},"absent":null,"number":7})");
}

TEST(JsonWriter, IntegerLimits) {
  std::string out;
  JsonWriter writer(out);
  writer.StartArray();
  writer.Int(0);
  writer.Int(std::numeric_limits<std::int64_t>::min());
  writer.Int(std::numeric_limits<std::int64_t>::max());
  writer.EndArray();
  EXPECT_EQ(out, "[0,-9223372036854775808,9223372036854775807]");
}

TEST(JsonWriter, EscapesLikeRapidJson) {
  EXPECT_EQ(WriteString(""), "\"\"");
  EXPECT_EQ(WriteString("a\"b\\c/d"), R"("a\"b\\c/d")");
  EXPECT_EQ(WriteString("\b\f\n\r\t"), R"("\b\f\n\r\t")");
  EXPECT_EQ(WriteString(std::string_view("\0\x01\x1f", 3)), R"("\u0000\u0001\u001F")");
  EXPECT_EQ(WriteString("\x7f \xc3\xa9 \xe2\x80\xa8"), "\"\x7f \xc3\xa9 \xe2\x80\xa8\"");

  // Every single byte, and random mixes of the bytes that matter.
  for (int byte = 0; byte < 256; ++byte) {
    const std::string text(1, static_cast<char>(byte));
    EXPECT_EQ(WriteString(text), RapidJsonString(text)) << "byte " << byte;
  }
  std::mt19937 random(7);
  const std::string alphabet = std::string("ab\"\\/\n\x01\x1f\x7f\xc3\xa9 ") + '\0';
  for (int round = 0; round < 500; ++round) {
    std::string text;
    const std::size_t length = random() % 40;
    for (std::size_t i = 0; i < length; ++i) text += alphabet[random() % alphabet.size()];
    EXPECT_EQ(WriteString(text), RapidJsonString(text));
  }
}

TEST(JsonWriter, LongStringsOfEscapes) {
  // Each escape needs room the first reservation did not make.
  const std::string controls(10000, '\x01');
  EXPECT_EQ(WriteString(controls), RapidJsonString(controls));
  std::string mixed;
  for (int i = 0; i < 5000; ++i) mixed += "ab\"\n\x02";
  EXPECT_EQ(WriteString(mixed), RapidJsonString(mixed));
}

TEST(JsonWriter, LargeArrayGrowsTheString) {
  std::string out = "[";  // text before the writer's value stays
  std::string expected = "[";
  JsonWriter writer(out);
  writer.StartArray();
  expected += '[';
  for (int i = 0; i < 20000; ++i) {
    if (i > 0) expected += ',';
    writer.StartObject();
    writer.Key("n");
    writer.Int(i);
    writer.Key(std::string_view("s"));
    writer.String("x/y");
    writer.EndObject();
    expected += "{\"n\":" + std::to_string(i) + ",\"s\":\"x/y\"}";
  }
  writer.EndArray();
  expected += ']';
  EXPECT_EQ(out.size(), expected.size());
  EXPECT_EQ(out, expected);
}

TEST(JsonWriter, LongRawValueInsideObject) {
  const std::string rows = "[" + std::string(20000, '1') + "]";
  std::string out;
  JsonWriter writer(out);
  writer.StartObject();
  writer.Key("page");
  writer.Int(1);
  writer.Key("data");
  writer.Raw(RawValue{rows});
  writer.Key("more");
  writer.StartArray();
  writer.Raw(RawValue{rows});
  writer.Raw(RawValue{rows});
  writer.Bool(true);
  writer.EndArray();
  writer.EndObject();
  EXPECT_EQ(out, "{\"page\":1,\"data\":" + rows + ",\"more\":[" + rows + "," + rows +
                     ",true]}");

  std::string top;
  JsonWriter top_writer(top);
  top_writer.Raw(RawValue{rows});
  EXPECT_EQ(top, rows);
}

TEST(JsonWriter, DynamicKeysAreEscaped) {
  std::string out;
  JsonWriter writer(out);
  writer.StartObject();
  writer.Key(std::string_view("a\"b"));
  writer.Int(1);
  writer.Key(std::string_view(""));
  writer.Int(2);
  writer.EndObject();
  EXPECT_EQ(out, R"({"a\"b":1,"":2})");
}

TEST(JsonWriter, ResetStartsTopLevelValuesWithoutComma) {
  std::string out;
  JsonWriter writer(out);
  writer.StartObject();
  writer.Key("id");
  writer.Int(1);
  writer.EndObject();
  out.push_back(',');  // the caller's own separator, as in a streamed array
  writer.Reset();
  writer.StartObject();
  writer.Key("id");
  writer.Int(2);
  writer.EndObject();
  EXPECT_EQ(out, R"({"id":1},{"id":2})");
}

TEST(JsonWriter, AppendsToExistingText) {
  std::string out = "prefix ";
  JsonWriter writer(out);
  writer.String("x");
  EXPECT_EQ(out, "prefix \"x\"");
}

TEST(JsonWriter, SelfLinks) {
  std::string out;
  JsonWriter writer(out);
  writer.StartObject();
  writer.Key("id");
  writer.Int(42);
  writer.Key("_links");
  writer.SelfLinks("segment-groups", 42);
  writer.EndObject();
  EXPECT_EQ(out, R"({"id":42,"_links":[{"rel":"self",)"
                 R"("href":"/webservice/cmf/segment-groups/42","method":"GET"}]})");
}

TEST(JsonWriter, NeedsNoJsonEscape) {
  EXPECT_TRUE(NeedsNoJsonEscape("customerNumber"));
  EXPECT_TRUE(NeedsNoJsonEscape("a/b \xc3\xa9"));
  EXPECT_FALSE(NeedsNoJsonEscape("a\"b"));
  EXPECT_FALSE(NeedsNoJsonEscape("a\\b"));
  EXPECT_FALSE(NeedsNoJsonEscape("a\nb"));
}

}  // namespace
}  // namespace cmfd
