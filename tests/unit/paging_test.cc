#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "handlers/common.h"

namespace cmfd {
namespace {

PageRequest Paging(std::string_view query_string, Status& problems, std::int64_t max = 1000) {
  Config config;
  config.max_page_size = max;
  return ParsePaging(QueryParams::Parse(query_string), config, problems);
}

TEST(Paging, Defaults) {
  Status problems;
  const PageRequest page = Paging("", problems);
  EXPECT_TRUE(problems.ok());
  EXPECT_EQ(page.page, 1);
  EXPECT_EQ(page.page_size, 100);
}

TEST(Paging, DefaultPageSizeIsCappedByTheMaximum) {
  Status problems;
  EXPECT_EQ(Paging("", problems, 50).page_size, 50);
  EXPECT_TRUE(problems.ok());
}

TEST(Paging, EmptyValuesCountAsAbsent) {
  Status problems;
  const PageRequest page = Paging("page=&pageSize=", problems);
  EXPECT_TRUE(problems.ok());
  EXPECT_EQ(page.page, 1);
  EXPECT_EQ(page.page_size, 100);
}

TEST(Paging, AcceptsValuesInRange) {
  Status problems;
  const PageRequest page = Paging("page=9223372036854775807&pageSize=1000", problems);
  EXPECT_TRUE(problems.ok()) << problems.message();
  EXPECT_EQ(page.page, INT64_MAX);
  EXPECT_EQ(page.page_size, 1000);
}

TEST(Paging, RejectsValuesOutOfRange) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"page=0", R"(page: invalid value "0", must be an integer from 1 to 9223372036854775807)"},
      {"page=-1", R"(page: invalid value "-1", must be an integer from 1 to 9223372036854775807)"},
      {"page=abc", R"(page: invalid value "abc", must be an integer from 1 to 9223372036854775807)"},
      {"page=9223372036854775808",
       R"(page: invalid value "9223372036854775808", must be an integer from 1 to 9223372036854775807)"},
      {"page=1.5", R"(page: invalid value "1.5", must be an integer from 1 to 9223372036854775807)"},
      {"pageSize=0", R"(pageSize: invalid value "0", must be an integer from 1 to 1000)"},
      {"pageSize=1001", R"(pageSize: invalid value "1001", must be an integer from 1 to 1000)"},
      {"pageSize=99999999999999999999999",
       R"(pageSize: invalid value "99999999999999999999999", must be an integer from 1 to 1000)"},
  };
  for (const auto& [query, message] : cases) {
    Status problems;
    Paging(query, problems);
    EXPECT_EQ(problems.code(), Code::kInvalid) << query;
    EXPECT_EQ(problems.message(), message) << query;
  }
}

TEST(Paging, ReportsBothParameters) {
  Status problems;
  Paging("page=x&pageSize=y", problems);
  EXPECT_EQ(problems.messages().size(), 2u);
}

TEST(Paging, HasPagingSeesEitherParameter) {
  EXPECT_FALSE(HasPaging(QueryParams::Parse("entityType=customers&page=")));
  EXPECT_TRUE(HasPaging(QueryParams::Parse("page=2")));
  EXPECT_TRUE(HasPaging(QueryParams::Parse("pageSize=2")));
}

TEST(TotalPages, RoundsUp) {
  EXPECT_EQ(TotalPages(0, 100), 0);
  EXPECT_EQ(TotalPages(1, 100), 1);
  EXPECT_EQ(TotalPages(100, 100), 1);
  EXPECT_EQ(TotalPages(101, 100), 2);
  EXPECT_EQ(TotalPages(INT64_MAX, 1), INT64_MAX);
}

TEST(ListBody, KeepsContractKeyOrder) {
  EXPECT_EQ(ListBody(PageRequest{3, 10}, ListInfo{21, 1700000000}, "[]"),
            R"({"page":3,"totalPages":3,"timestamp":1700000000,"data":[]})");
  EXPECT_EQ(ItemBody(5, "{}"), R"({"timestamp":5,"data":{}})");
}

TEST(PathId, AcceptsOnlyPositive64BitIntegers) {
  EXPECT_EQ(ParsePathId("7"), 7);
  EXPECT_EQ(ParsePathId("007"), 7);
  EXPECT_EQ(ParsePathId("9223372036854775807"), INT64_MAX);
  for (const char* segment : {"0", "-1", "abc", "1a", "", "9223372036854775808", "+1", "1.0"}) {
    EXPECT_FALSE(ParsePathId(segment)) << segment;
  }
  EXPECT_EQ(IdNotFound("Segment group", "x").message(), "Segment group with ID x was not found");
  EXPECT_EQ(IdNotFound("Segment group", "x").code(), Code::kNotFound);
}

TEST(QueryParameters, Timestamps) {
  Status problems;
  EXPECT_EQ(ParseTimestampParam(QueryParams::Parse("t=0"), "t", problems), 0);
  EXPECT_EQ(ParseTimestampParam(QueryParams::Parse("t="), "t", problems), std::nullopt);
  EXPECT_TRUE(problems.ok());
  EXPECT_EQ(ParseTimestampParam(QueryParams::Parse("modificationTimestamp=abc"),
                                "modificationTimestamp", problems),
            std::nullopt);
  EXPECT_EQ(problems.message(),
            R"(modificationTimestamp: invalid value "abc", must be a Unix timestamp in seconds, an integer from 0 to 9223372036854775807)");
}

TEST(QueryParameters, Ids) {
  Status problems;
  EXPECT_EQ(ParseIdParam(QueryParams::Parse("customerId=5"), "customerId", problems), 5);
  EXPECT_TRUE(problems.ok());
  ParseIdParam(QueryParams::Parse("customerId=-1"), "customerId", problems);
  ParseIdParam(QueryParams::Parse("customerId=0"), "customerId", problems);
  ASSERT_EQ(problems.messages().size(), 2u);
  EXPECT_EQ(problems.messages()[0],
            R"(customerId: invalid value "-1", must be a positive 64-bit integer)");
}

TEST(QueryParameters, Flags) {
  Status problems;
  EXPECT_TRUE(ParseFlagParam(QueryParams::Parse("f=true"), "f", problems));
  EXPECT_TRUE(ParseFlagParam(QueryParams::Parse("f=1"), "f", problems));
  EXPECT_FALSE(ParseFlagParam(QueryParams::Parse("f=false"), "f", problems));
  EXPECT_FALSE(ParseFlagParam(QueryParams::Parse("f=0"), "f", problems));
  EXPECT_FALSE(ParseFlagParam(QueryParams::Parse(""), "f", problems));
  EXPECT_TRUE(problems.ok());
  ParseFlagParam(QueryParams::Parse("f=yes"), "f", problems);
  EXPECT_EQ(problems.message(), R"(f: invalid value "yes", must be true, 1, false or 0)");
}

TEST(QueryParameters, ListsSplitAtCommas) {
  Status problems;
  const auto items = ListParam(
      QueryParams::Parse("segments=3,9&segments[]=4&segments[]=5%2C%206&segments=&other=1"),
      "segments", problems);
  EXPECT_TRUE(problems.ok()) << problems.message();
  EXPECT_EQ(std::vector<std::string>(items.begin(), items.end()),
            (std::vector<std::string>{"3", "9", "4", "5", "6"}));
}

TEST(QueryParameters, EmptyListItemsAreInvalid) {
  for (const char* value : {",", "1,", ",1", "1,,2"}) {
    Status problems;
    ListParam(QueryParams::Parse(std::string("segments=") + value), "segments", problems);
    EXPECT_EQ(problems.code(), Code::kInvalid) << value;
    EXPECT_NE(problems.message().find("segments: invalid value \"" + std::string(value) + "\""),
              std::string::npos)
        << problems.message();
  }
  Status problems;
  EXPECT_TRUE(ListParam(QueryParams::Parse("segments=&segments=%20"), "segments", problems)
                  .empty());
  EXPECT_TRUE(problems.ok()) << problems.message();
}

}  // namespace
}  // namespace cmfd
