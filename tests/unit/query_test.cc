#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include "http/auth.h"
#include "http/message.h"

namespace cmfd {
namespace {

TEST(QueryParamsTest, ParsesInOrder) {
  QueryParams query = QueryParams::Parse("a=1&b=two&a=3");
  ASSERT_EQ(query.items().size(), 3u);
  EXPECT_EQ(query.items()[0].first, "a");
  EXPECT_EQ(query.items()[0].second, "1");
  EXPECT_EQ(query.items()[1].first, "b");
  EXPECT_EQ(query.items()[2].second, "3");
}

TEST(QueryParamsTest, PercentDecodesNamesAndValues) {
  QueryParams query = QueryParams::Parse("e%6Dail=a%40b.example&x=%C3%A9t%C3%A9&p=1%2B1");
  EXPECT_EQ(query.Get("email"), "a@b.example");
  EXPECT_EQ(query.Get("x"), "\xC3\xA9t\xC3\xA9");
  EXPECT_EQ(query.Get("p"), "1+1");
}

TEST(QueryParamsTest, PlusIsSpace) {
  QueryParams query = QueryParams::Parse("name=John+Smith&a+b=c");
  EXPECT_EQ(query.Get("name"), "John Smith");
  EXPECT_EQ(query.Get("a b"), "c");
}

TEST(QueryParamsTest, MalformedPercentKeptLiterally) {
  QueryParams query = QueryParams::Parse("a=%zz&b=100%&c=%4&d=%%41");
  EXPECT_EQ(query.Get("a"), "%zz");
  EXPECT_EQ(query.Get("b"), "100%");
  EXPECT_EQ(query.Get("c"), "%4");
  EXPECT_EQ(query.Get("d"), "%A");
}

TEST(QueryParamsTest, DecodesNulByte) {
  QueryParams query = QueryParams::Parse("a=x%00y");
  ASSERT_TRUE(query.Get("a").has_value());
  EXPECT_EQ(*query.Get("a"), std::string_view("x\0y", 3));
}

TEST(QueryParamsTest, EmptyValueCountsAsAbsent) {
  QueryParams query = QueryParams::Parse("page=&flag&pageSize=10");
  EXPECT_FALSE(query.Get("page").has_value());
  EXPECT_FALSE(query.Get("flag").has_value());
  EXPECT_FALSE(query.Get("missing").has_value());
  EXPECT_EQ(query.Get("pageSize"), "10");
}

TEST(QueryParamsTest, GetReturnsFirstNonEmptyValue) {
  QueryParams query = QueryParams::Parse("page=&page=2&page=3");
  EXPECT_EQ(query.Get("page"), "2");
}

TEST(QueryParamsTest, NamesAreCaseSensitive) {
  QueryParams query = QueryParams::Parse("apiKey=k");
  EXPECT_FALSE(query.Get("apikey").has_value());
  EXPECT_EQ(query.Get("apiKey"), "k");
}

TEST(QueryParamsTest, SkipsEmptyItems) {
  QueryParams query = QueryParams::Parse("&&a=1&&");
  ASSERT_EQ(query.items().size(), 1u);
  EXPECT_EQ(query.Get("a"), "1");
  EXPECT_TRUE(QueryParams::Parse("").items().empty());
}

TEST(QueryParamsTest, ValueMayContainEquals) {
  QueryParams query = QueryParams::Parse("a=b=c");
  EXPECT_EQ(query.Get("a"), "b=c");
}

TEST(QueryParamsTest, GetAllCollectsPlainAndBracketed) {
  QueryParams query =
      QueryParams::Parse("segments[]=3&other=1&segments=4&segments%5B%5D=5&segments[]=&segments=");
  std::vector<std::string_view> values = query.GetAll("segments");
  ASSERT_EQ(values.size(), 3u);
  EXPECT_EQ(values[0], "3");
  EXPECT_EQ(values[1], "4");
  EXPECT_EQ(values[2], "5");
  EXPECT_TRUE(query.GetAll("missing").empty());
}

TEST(QueryParamsTest, GetAllIgnoresOtherSuffixes) {
  QueryParams query = QueryParams::Parse("segments[0]=1&segmentsX=2&segment=3");
  EXPECT_TRUE(query.GetAll("segments").empty());
}

TEST(QueryParamsTest, GetDoesNotMatchBracketedName) {
  QueryParams query = QueryParams::Parse("type[]=a");
  EXPECT_FALSE(query.Get("type").has_value());
  EXPECT_EQ(query.GetAll("type").size(), 1u);
}

TEST(JsonResponseTest, SetsStatusBodyAndType) {
  Response response = JsonResponse(201, "{\"a\":1}");
  EXPECT_EQ(response.status, 201);
  EXPECT_EQ(response.body, "{\"a\":1}");
  ASSERT_EQ(response.headers.size(), 1u);
  EXPECT_EQ(response.headers[0].first, "Content-Type");
  EXPECT_EQ(response.headers[0].second, "application/json");
  EXPECT_FALSE(response.next_chunk);
}

TEST(ErrorResponseTest, HasMsgAndAllErrors) {
  Status status = Status::Invalid("gender: invalid value \"Male\", must be one of male, female");
  status.Add(Code::kInvalid, "email: invalid value \"x\"");
  Response response = ErrorResponse(status);
  EXPECT_EQ(response.status, 400);

  rapidjson::Document body;
  body.Parse(response.body.c_str(), response.body.size());
  ASSERT_FALSE(body.HasParseError()) << response.body;
  ASSERT_TRUE(body.IsObject());
  ASSERT_TRUE(body["success"].IsBool());
  EXPECT_FALSE(body["success"].GetBool());
  EXPECT_STREQ(body["msg"].GetString(),
               "gender: invalid value \"Male\", must be one of male, female");
  ASSERT_TRUE(body["errors"].IsArray());
  ASSERT_EQ(body["errors"].Size(), 2u);
  EXPECT_STREQ(body["errors"][0].GetString(), body["msg"].GetString());
  EXPECT_STREQ(body["errors"][1].GetString(), "email: invalid value \"x\"");

  // Key order is part of the contract.
  auto member = body.MemberBegin();
  EXPECT_STREQ(member->name.GetString(), "success");
  EXPECT_STREQ((++member)->name.GetString(), "msg");
  EXPECT_STREQ((++member)->name.GetString(), "errors");
}

TEST(ErrorResponseTest, MapsCodesToStatuses) {
  EXPECT_EQ(ErrorResponse(Status::Forbidden("x")).status, 403);
  EXPECT_EQ(ErrorResponse(Status::NotFound("x")).status, 404);
  EXPECT_EQ(ErrorResponse(Status::Conflict("x")).status, 409);
  EXPECT_EQ(ErrorResponse(Status::TooLarge("x")).status, 413);
  EXPECT_EQ(ErrorResponse(Status::Unavailable("x")).status, 503);
  EXPECT_EQ(ErrorResponse(Status::Internal("x")).status, 500);
}

TEST(ErrorResponseTest, OkStatusBecomes500) {
  Response response = ErrorResponse(Status::Ok());
  EXPECT_EQ(response.status, 500);
  rapidjson::Document body;
  body.Parse(response.body.c_str());
  ASSERT_FALSE(body.HasParseError());
  EXPECT_EQ(body["errors"].Size(), 1u);
}

TEST(ErrorResponseTest, EscapesAndRepairsText) {
  std::string message = "quote \" backslash \\ newline \n control \x01 bad \xFF end";
  Response response = ErrorResponse(Status::Invalid(message));
  EXPECT_EQ(response.body.find('\n'), std::string::npos);

  rapidjson::Document body;
  body.Parse<rapidjson::kParseValidateEncodingFlag>(response.body.c_str());
  ASSERT_FALSE(body.HasParseError()) << response.body;
  EXPECT_EQ(std::string(body["msg"].GetString()),
            "quote \" backslash \\ newline \n control \x01 bad \xEF\xBF\xBD end");
}

TEST(PresentedApiKeyTest, HeaderFirst) {
  QueryParams query = QueryParams::Parse("apikey=q1&apiKey=q2");
  EXPECT_EQ(PresentedApiKey("h", query), "h");
  EXPECT_EQ(PresentedApiKey("", query), "q1");
  EXPECT_EQ(PresentedApiKey("", QueryParams::Parse("apiKey=q2")), "q2");
}

TEST(PresentedApiKeyTest, EmptyCountsAsAbsent) {
  EXPECT_EQ(PresentedApiKey("", QueryParams::Parse("apikey=&apiKey=q2")), "q2");
  EXPECT_EQ(PresentedApiKey("", QueryParams::Parse("apikey=")), "");
  EXPECT_EQ(PresentedApiKey("", QueryParams::Parse("APIKEY=x")), "");
}

}  // namespace
}  // namespace cmfd
