#include "domain/json_reader.h"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace cmfd {
namespace {

std::string ValidationMessage(std::string_view text) { return ValidateJson(text).message(); }

TEST(ValidateJson, AcceptsValidDocuments) {
  for (const char* text :
       {"{}", "[]", " {\"a\": [1, -2.5e+3, 0, true, false, null, \"x\"]} ", "\"\\u00fc\"",
        "\"\\ud83d\\ude00\"", "0", "-0.0E-1", "{\"a\":{\"b\":{\"c\":[[]]}}}"}) {
    EXPECT_TRUE(ValidateJson(text).ok()) << text << ": " << ValidationMessage(text);
  }
}

TEST(ValidateJson, ReportsReasonAndOffset) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"", "the body is empty at byte 0"},
      {"   ", "the body is empty at byte 3"},
      {"{\"a\": 1", "unexpected end of input, expected ',' or '}' at byte 7"},
      {"{\"a\": 1} x", "unexpected character 'x' after the end of the JSON value at byte 9"},
      {"{\"a\": 1}{}", "unexpected character '{' after the end of the JSON value at byte 8"},
      {"{\"a\": tru}", "unexpected character 't', expected a value at byte 6"},
      {"{\"a\" 1}", "unexpected character '1', expected ':' at byte 5"},
      {"{\"a\": 1,}", "unexpected character '}', expected a key in double quotes at byte 8"},
      {"[1, 2.]", "invalid number at byte 4"},
      {"[01]", "invalid number at byte 1"},
      {"{\"a\": \"b}", "unterminated string at byte 6"},
      {"[\"\\x\"]", "invalid escape sequence in a string at byte 2"},
      {"[\"\\ud800\"]", "invalid \\u escape, a high surrogate without a low surrogate at byte 2"},
      {"[\"a\xff\"]", "invalid UTF-8 byte 0xFF at byte 3"},
      {"[\"a\tb\"]", "control character 0x09 in a string, it must be escaped at byte 3"},
      {"[1, 2}", "unexpected character '}', expected ',' or ']' at byte 5"},
  };
  for (const auto& [text, reason] : cases) {
    EXPECT_EQ(ValidationMessage(text), "Request body is no valid JSON: " + reason) << text;
  }
}

TEST(ValidateJson, LimitsNesting) {
  EXPECT_TRUE(ValidateJson(std::string(512, '[') + std::string(512, ']')).ok());
  const std::string deep = std::string(513, '[') + std::string(513, ']');
  EXPECT_EQ(ValidationMessage(deep),
            "Request body is no valid JSON: objects and arrays nested deeper than 512 levels "
            "at byte 512");
  // A deep document must not exhaust the stack either.
  EXPECT_FALSE(ValidateJson(std::string(1000000, '[')).ok());
}

TEST(MinifyJson, RemovesOnlyWhitespaceOutsideStrings) {
  EXPECT_EQ(MinifyJson(" { \"a b\" : [ 1 , \"x \\\" y\" ] ,\n\t\"c\":{} } "),
            "{\"a b\":[1,\"x \\\" y\"],\"c\":{}}");
}

TEST(MinifyJson, EndsAStringOnlyAtAnUnescapedQuote) {
  // An escaped backslash right before the quote: the quote ends the string,
  // so the whitespace after it goes. Spaces inside strings stay.
  EXPECT_EQ(MinifyJson("{ \"a\\\\\" : \"\\\"  \\\"\" ,\r\n\t\"\u00e9 \": [ ] }"),
            "{\"a\\\\\":\"\\\"  \\\"\",\"\u00e9 \":[]}");
}

TEST(ForEachMember, VisitsMembersInOrder) {
  std::vector<std::string> keys;
  Status status = ForEachMember("{\"b\": 1, \"a\": {\"x\": [1], \"x\": 2}, \"\\u0063\": null}",
                                [&](std::string_view key, JsonValue&) { keys.emplace_back(key); });
  ASSERT_TRUE(status.ok()) << status.message();
  EXPECT_EQ(keys, (std::vector<std::string>{"b", "a", "c"}));
}

TEST(ForEachMember, RejectsDuplicateKeysBeforeVisiting) {
  for (const char* body : {"{\"b\": 1, \"a\": 2, \"b\": \"two\"}", "{\"b\": 1, \"\\u0062\": 2}"}) {
    int visited = 0;
    Status status = ForEachMember(body, [&](std::string_view, JsonValue&) { ++visited; });
    EXPECT_EQ(status.code(), Code::kInvalid) << body;
    EXPECT_EQ(status.message().rfind("duplicate key \"b\"", 0), 0u) << status.message();
    EXPECT_EQ(visited, 0) << body;
  }
}

TEST(ForEachMember, RejectsNonObjects) {
  auto visit = [](std::string_view, JsonValue&) {};
  EXPECT_EQ(ForEachMember("[1]", visit).message(),
            "Request body is no valid JSON: expected a JSON object, got an array at byte 0");
  EXPECT_EQ(ForEachMember(" null", visit).message(),
            "Request body is no valid JSON: expected a JSON object, got null at byte 1");
  EXPECT_EQ(ForEachMember("\"x\"", visit).message(),
            "Request body is no valid JSON: expected a JSON object, got a string at byte 0");
  EXPECT_EQ(ForEachMember("", visit).code(), Code::kInvalid);
}

TEST(ForEachMember, ValidatesSkippedValues) {
  // On-Demand alone never looks inside a value that no reader requests.
  auto visit = [](std::string_view, JsonValue&) {};
  EXPECT_FALSE(ForEachMember("{\"id\": [1, tru]}", visit).ok());
  EXPECT_FALSE(ForEachMember("{\"id\": {\"x\": [1, 2}}", visit).ok());
}

TEST(ReadId, AcceptsIntegersAndDigitStrings) {
  std::vector<std::int64_t> ids;
  Status problems;
  Status status = ForEachMember(
      "{\"a\": 5, \"b\": \"7\", \"c\": \"007\", \"d\": 9223372036854775807}",
      [&](std::string_view key, JsonValue& value) {
        if (auto id = ReadId(value, key, problems)) ids.push_back(*id);
      });
  ASSERT_TRUE(status.ok());
  EXPECT_TRUE(problems.ok()) << problems.message();
  EXPECT_EQ(ids, (std::vector<std::int64_t>{5, 7, 7, INT64_MAX}));
}

TEST(ReadId, RejectsEverythingElse) {
  Status problems;
  Status status = ForEachMember(
      "{\"a\": 0, \"b\": -1, \"c\": \"x1\", \"d\": 1.0, \"e\": 9223372036854775808, "
      "\"f\": \"\", \"g\": [1], \"h\": null, \"i\": true, \"j\": \"-3\"}",
      [&](std::string_view key, JsonValue& value) { ReadId(value, key, problems); });
  ASSERT_TRUE(status.ok());
  ASSERT_EQ(problems.messages().size(), 10u);
  const std::string rule = ", must be a positive 64-bit integer, as a JSON number or a string of digits";
  EXPECT_EQ(problems.messages()[0], "a: invalid value 0" + rule);
  EXPECT_EQ(problems.messages()[2], "c: invalid value \"x1\"" + rule);
  EXPECT_EQ(problems.messages()[4], "e: invalid value 9223372036854775808" + rule);
  EXPECT_EQ(problems.messages()[6], "g: invalid value [1]" + rule);
}

TEST(ReadString, RejectsTheNulCharacter) {
  std::vector<std::string> texts;
  Status problems;
  Status status = ForEachMember(
      R"({"a": "x\u0000y", "b": "\u0000", "c": "ok \u0001", "d": "\\u0000"})",
      [&](std::string_view key, JsonValue& value) {
        if (auto text = ReadString(value, key, "a string", problems)) texts.emplace_back(*text);
      });
  ASSERT_TRUE(status.ok()) << status.message();
  ASSERT_EQ(problems.messages().size(), 2u);
  EXPECT_EQ(problems.messages()[0],
            R"(a: invalid value "x\u0000y", the NUL character (U+0000) is not allowed)");
  EXPECT_EQ(problems.messages()[1],
            R"(b: invalid value "\u0000", the NUL character (U+0000) is not allowed)");
  // Other control characters and an escaped backslash followed by "u0000" are fine.
  EXPECT_EQ(texts, (std::vector<std::string>{"ok \x01", "\\u0000"}));
}

}  // namespace
}  // namespace cmfd
