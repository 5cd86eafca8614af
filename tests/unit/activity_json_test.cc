#include "domain/activity_json.h"

#include <gtest/gtest.h>

#include <string>

#include "domain/validation.h"

namespace cmfd {
namespace {

ActivityPatch Parse(std::string_view body, ActivityWrite write = ActivityWrite::kCreate) {
  Result<ActivityPatch> patch = ParseActivityPatch(body, write);
  EXPECT_TRUE(patch.ok()) << body << ": " << patch.status().message();
  return patch.ok() ? patch.value() : ActivityPatch{};
}

std::vector<std::string> Problems(std::string_view body,
                                  ActivityWrite write = ActivityWrite::kCreate) {
  Result<ActivityPatch> patch = ParseActivityPatch(body, write);
  EXPECT_FALSE(patch.ok()) << body;
  return patch.status().messages();
}

std::string AttributesOf(std::string_view attributes) {
  const ActivityPatch patch =
      Parse(std::string(R"({"customerId": 1, "type": "t", "attributes": )") +
            std::string(attributes) + "}");
  return patch.attributes_json.value_or("<absent>");
}

TEST(ActivityJson, AttributesAreKeptExactlyAsSent) {
  EXPECT_EQ(AttributesOf(R"({ "price" : 1.0, "big": 123456789012345678901234567890,
                              "tiny": -0.000000000000000000001e-300, "exp": 1E+2 })"),
            R"({"price":1.0,"big":123456789012345678901234567890,)"
            R"("tiny":-0.000000000000000000001e-300,"exp":1E+2})");
  EXPECT_EQ(AttributesOf(R"({"b": 1, "a": 2, "b": 3})"), R"({"b":1,"a":2,"b":3})");
  EXPECT_EQ(AttributesOf(R"({"nested": [1, [2, {"x": null, "y": [true, false]}], []], "o": {}})"),
            R"({"nested":[1,[2,{"x":null,"y":[true,false]}],[]],"o":{}})");
  EXPECT_EQ(AttributesOf("{\"text\": \"M\xC3\xBCller \\u00fc \\\"q\\\" a  b\", \"\": \"odd key\"}"),
            "{\"text\":\"M\xC3\xBCller \\u00fc \\\"q\\\" a  b\",\"\":\"odd key\"}");
  EXPECT_EQ(AttributesOf("{}"), "{}");
}

TEST(ActivityJson, AttributesMustBeAnObject) {
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "attributes": [1, 2]})")[0],
            "attributes: invalid value [1,2], must be a JSON object");
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "attributes": null})")[0],
            "attributes: invalid value null, must be a JSON object");
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "attributes": "{}"})")[0],
            R"(attributes: invalid value "{}", must be a JSON object)");
}

TEST(ActivityJson, ActivityDateForms) {
  EXPECT_EQ(Parse(R"({"customerId": 1, "type": "t", "activityDate": 1700000000})").activity_date,
            1700000000);
  EXPECT_EQ(Parse(R"({"customerId": 1, "type": "t", "activityDate": "1700000000"})").activity_date,
            1700000000);
  EXPECT_EQ(Parse(R"({"customerId": 1, "type": "t",
                      "activityDate": "2023-11-14T23:13:20.250+01:00"})")
                .activity_date,
            1700000000);
  EXPECT_EQ(Parse(R"({"customerId": 1, "type": "t", "activityDate": "2023-11-14"})").activity_date,
            1699920000);
}

TEST(ActivityJson, ActivityDateDefaultsToNowOnCreate) {
  const std::int64_t before = CurrentUnixTime();
  const ActivityPatch absent = Parse(R"({"customerId": 1, "type": "t"})");
  const ActivityPatch null = Parse(R"({"customerId": 1, "type": "t", "activityDate": null})");
  const std::int64_t after = CurrentUnixTime();
  ASSERT_TRUE(absent.activity_date);
  ASSERT_TRUE(null.activity_date);
  EXPECT_GE(*absent.activity_date, before);
  EXPECT_LE(*absent.activity_date, after);
  EXPECT_GE(*null.activity_date, before);
}

TEST(ActivityJson, DefaultedActivityDateIsMarked) {
  EXPECT_TRUE(Parse(R"({"customerId": 1, "type": "t"})").activity_date_defaulted);
  EXPECT_TRUE(
      Parse(R"({"customerId": 1, "type": "t", "activityDate": null})").activity_date_defaulted);
  EXPECT_FALSE(
      Parse(R"({"customerId": 1, "type": "t", "activityDate": 5})").activity_date_defaulted);
  EXPECT_FALSE(Parse(R"({"type": "t"})", ActivityWrite::kUpdate).activity_date_defaulted);
}

TEST(ActivityJson, KeepStoredActivityDateRecomputesMd5) {
  Activity stored = NewActivity();
  ApplyActivityPatch(Parse(R"({"customerId": 1, "type": "t", "a_id": "x", "activityDate": 5})"),
                     stored);

  // A retry of the same body without activityDate: only the date differs.
  Activity retry = NewActivity();
  ApplyActivityPatch(Parse(R"({"customerId": 1, "type": "t", "a_id": "x"})"), retry);
  ASSERT_NE(retry.activity_date, 5);
  ASSERT_NE(retry.md5, stored.md5);

  KeepStoredActivityDate(stored, retry);
  EXPECT_EQ(retry.activity_date, 5);
  EXPECT_EQ(retry.md5, stored.md5);
  EXPECT_EQ(retry.md5, ComputeActivityMd5(retry));
}

TEST(ActivityJson, NulRejectedInStrings) {
  const std::string rule = ", the NUL character (U+0000) is not allowed";
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "a\u0000b"})")[0],
            R"(type: invalid value "a\u0000b")" + rule);
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "a_id": "\u0000"})")[0],
            R"(a_id: invalid value "\u0000")" + rule);
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "implementationClass": "C\u0000"})")[0],
            R"(implementationClass: invalid value "C\u0000")" + rule);
  EXPECT_EQ(Problems(R"({"type": "\u0000"})", ActivityWrite::kUpdate)[0],
            R"(type: invalid value "\u0000")" + rule);
}

TEST(ActivityJson, NulEscapeInAttributesKept) {
  EXPECT_EQ(AttributesOf(R"({"k\u0000": ["\u0000", "a\u0000b"]})"),
            R"({"k\u0000":["\u0000","a\u0000b"]})");
}

TEST(ActivityJson, ActivityDateRejectsOtherForms) {
  const std::string rule =
      ", must be a Unix timestamp in seconds, an ISO 8601 date-time such as "
      "\"2024-05-01T12:00:00Z\" or a date \"YYYY-MM-DD\"";
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "activityDate": "yesterday"})")[0],
            "activityDate: invalid value \"yesterday\"" + rule);
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "activityDate": 1.5})")[0],
            "activityDate: invalid value 1.5" + rule);
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "activityDate": true})")[0],
            "activityDate: invalid value true" + rule);
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "activityDate": -1e3})").size(), 1u);
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "activityDate": 99999999999999999999})")
                .size(),
            1u);
}

TEST(ActivityJson, ActivityDateNullOnUpdateIsRejected) {
  const auto problems = Problems(R"({"activityDate": null})", ActivityWrite::kUpdate);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].rfind("activityDate: invalid value null, an activity always has a date",
                              0),
            0u);
  EXPECT_FALSE(Parse(R"({"type": "x"})", ActivityWrite::kUpdate).activity_date);
}

TEST(ActivityJson, CreateRequiresCustomerAndType) {
  const auto problems = Problems(R"({"attributes": {}})");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "customerId required");
  EXPECT_EQ(problems[1], "type required");
  EXPECT_EQ(Problems(R"({"customerId": null, "type": "t"})")[0], "customerId required");

  // An invalid key has its own message instead of "required".
  const auto invalid = Problems(R"({"customerId": "abc", "type": ""})");
  ASSERT_EQ(invalid.size(), 2u);
  EXPECT_EQ(invalid[0], "customerId: invalid value \"abc\", must be a positive 64-bit integer, "
                        "as a JSON number or a string of digits");
  EXPECT_EQ(invalid[1], R"(type: invalid value "", must be a string of 1 to 255 characters)");
}

TEST(ActivityJson, UpdateNeedsNoKeys) {
  const ActivityPatch patch = Parse("{}", ActivityWrite::kUpdate);
  EXPECT_FALSE(patch.customer_id);
  EXPECT_FALSE(patch.type);
  EXPECT_FALSE(patch.activity_date);
  EXPECT_FALSE(patch.attributes_json);
}

TEST(ActivityJson, CustomerIsAnAliasOfCustomerId) {
  EXPECT_EQ(Parse(R"({"customer": "42", "type": "t"})").customer_id, 42);
  EXPECT_EQ(Parse(R"({"customer": 42, "customerId": "42", "type": "t"})").customer_id, 42);
  const auto problems = Problems(R"({"customer": 5, "customerId": 7, "type": "t"})");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0], "customer and customerId differ (5 and 7); customer is an alias of "
                         "customerId, send one of them");
}

TEST(ActivityJson, TypeLengthCountsCodePoints) {
  std::string type;
  for (int i = 0; i < 255; ++i) type += "\xE2\x82\xAC";  // €
  EXPECT_EQ(Parse("{\"customerId\": 1, \"type\": \"" + type + "\"}").type, type);
  EXPECT_EQ(Problems("{\"customerId\": 1, \"type\": \"" + type + "a\"}").size(), 1u);
}

TEST(ActivityJson, ObjectIdAndExternalId) {
  ActivityPatch patch = Parse(R"({"customerId": 1, "type": "t", "o_id": "-5", "a_id": "ext-1"})");
  EXPECT_EQ(patch.o_id, std::optional<std::int64_t>(-5));
  EXPECT_EQ(patch.a_id, std::optional<std::string>("ext-1"));

  patch = Parse(R"({"customerId": 1, "type": "t", "o_id": null, "a_id": ""})");
  ASSERT_TRUE(patch.o_id);
  EXPECT_FALSE(*patch.o_id);
  ASSERT_TRUE(patch.a_id);
  EXPECT_FALSE(*patch.a_id);

  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "o_id": "x"})").size(), 1u);
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "a_id": 12})")[0],
            "a_id: invalid value 12, must be a string or null");
}

TEST(ActivityJson, UnknownAndReadOnlyKeys) {
  Parse(R"({"customerId": 1, "type": "t", "id": 5, "md5": "x", "creationDate": 1,
            "modificationDate": 2, "_links": []})");
  const auto problems = Problems(R"({"customerId": 1, "type": "t", "foo": 1, "bar": 2})");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "unknown field \"foo\"");
  EXPECT_EQ(problems[1], "unknown field \"bar\"");
}

TEST(ActivityJson, ImplementationClassDefaultsAndMustNotBeEmpty) {
  Activity activity = NewActivity();
  EXPECT_EQ(activity.implementation_class,
            "CustomerManagementFrameworkBundle\\Model\\Activity\\GenericActivity");
  EXPECT_EQ(activity.attributes_json, "{}");
  EXPECT_EQ(Problems(R"({"customerId": 1, "type": "t", "implementationClass": ""})")[0],
            R"(implementationClass: invalid value "", must be a non-empty string)");
}

TEST(ActivityJson, Md5FollowsTheContent) {
  Activity activity = NewActivity();
  ApplyActivityPatch(Parse(R"({"customerId": 1, "type": "t", "activityDate": 5,
                               "attributes": {"a": 1}})"),
                     activity);
  const std::string first = activity.md5;
  EXPECT_EQ(first.size(), 32u);
  EXPECT_EQ(first.find_first_not_of("0123456789abcdef"), std::string::npos);

  ApplyActivityPatch(Parse(R"({"attributes": {"a": 1}})", ActivityWrite::kUpdate), activity);
  EXPECT_EQ(activity.md5, first);
  ApplyActivityPatch(Parse(R"({"attributes": {"a": 1.0}})", ActivityWrite::kUpdate), activity);
  EXPECT_NE(activity.md5, first);

  Activity other = activity;
  other.o_id = 0;
  EXPECT_NE(ComputeActivityMd5(other), ComputeActivityMd5(activity));
}

TEST(ActivityJson, WritesInContractOrder) {
  Activity activity = NewActivity();
  activity.id = 88123;
  activity.customer_id = 5101;
  activity.activity_date = 1699999000;
  activity.type = "newsletter-click";
  activity.a_id = "mail-4711";
  activity.md5 = "6f1ed002ab5595859014ebf0951522d9";
  activity.attributes_json = R"({"position":3.0,"n":123456789012345678901234567890})";
  activity.modification_date = 1700000002;
  activity.creation_date = 1700000001;

  std::string out;
  JsonWriter writer(out);
  WriteActivity(writer, activity);
  EXPECT_EQ(out,
            R"({"id":88123,"customerId":5101,"activityDate":1699999000,)"
            R"("type":"newsletter-click",)"
            R"("implementationClass":"CustomerManagementFrameworkBundle\\Model\\Activity\\GenericActivity",)"
            R"("o_id":null,"a_id":"mail-4711","md5":"6f1ed002ab5595859014ebf0951522d9",)"
            R"("attributes":{"position":3.0,"n":123456789012345678901234567890},)"
            R"("modificationDate":1700000002,"creationDate":1700000001,)"
            R"("_links":[{"rel":"self","href":"/webservice/cmf/activities/88123","method":"GET"}]})");
}

}  // namespace
}  // namespace cmfd
