#include "domain/validation.h"

#include <gtest/gtest.h>

namespace cmfd {
namespace {

TEST(CountCodePoints, CountsCharactersNotBytes) {
  EXPECT_EQ(CountCodePoints(""), 0u);
  EXPECT_EQ(CountCodePoints("abc"), 3u);
  EXPECT_EQ(CountCodePoints("M\xC3\xBCller"), 6u);            // Müller
  EXPECT_EQ(CountCodePoints("\xE6\x97\xA5\xE6\x9C\xAC"), 2u);  // 日本
  EXPECT_EQ(CountCodePoints("\xF0\x9F\x98\x80"), 1u);          // an emoji, 4 bytes
}

TEST(Email, AcceptsCommonAddresses) {
  for (const char* address :
       {"a@example.com", "first.last@example.co.uk", "x+tag@sub.example.org",
        "o'neil@example.ie", "user_1-2@ex-ample.de", "m\xC3\xBC@b\xC3\xBC" "cher.example"}) {
    EXPECT_TRUE(IsValidEmail(address)) << address;
  }
}

TEST(Email, RejectsMalformedAddresses) {
  for (const char* address :
       {"", "plain", "@example.com", "a@", "a@@example.com", "a@b@example.com", "a@localhost",
        ".a@example.com", "a.@example.com", "a..b@example.com", "a b@example.com",
        "a@-example.com", "a@example-.com", "a@example..com", "a@.example.com", "a@example.com.",
        "a(b)@example.com", "a@exa_mple.com"}) {
    EXPECT_FALSE(IsValidEmail(address)) << address;
  }
}

TEST(Email, LimitsLocalPartAndLabels) {
  EXPECT_TRUE(IsValidEmail(std::string(64, 'a') + "@example.com"));
  EXPECT_FALSE(IsValidEmail(std::string(65, 'a') + "@example.com"));
  EXPECT_TRUE(IsValidEmail("a@" + std::string(63, 'b') + ".com"));
  EXPECT_FALSE(IsValidEmail("a@" + std::string(64, 'b') + ".com"));
}

TEST(CountryCode, AcceptsAssignedCodes) {
  for (const char* code : {"AD", "AT", "DE", "GB", "SS", "SX", "US", "ZW", "AX", "BQ"}) {
    EXPECT_TRUE(IsAssignedCountryCode(code)) << code;
  }
}

TEST(CountryCode, RejectsUnassignedAndLowerCase) {
  for (const char* code : {"XX", "XK", "UK", "EU", "ZZ", "AA", "de", "D", "DEU", ""}) {
    EXPECT_FALSE(IsAssignedCountryCode(code)) << code;
  }
}

TEST(CountryCode, ListHasAll249Codes) {
  int assigned = 0;
  for (char first = 'A'; first <= 'Z'; ++first) {
    for (char second = 'A'; second <= 'Z'; ++second) {
      const char code[] = {first, second, '\0'};
      if (IsAssignedCountryCode(code)) ++assigned;
    }
  }
  EXPECT_EQ(assigned, 249);
}

TEST(ToUpperAscii, ChangesOnlyAsciiLetters) {
  EXPECT_EQ(ToUpperAscii("de"), "DE");
  EXPECT_EQ(ToUpperAscii("a\xC3\xA4z1"), "A\xC3\xA4Z1");
}

TEST(ParseDate, ReturnsDaysSinceEpoch) {
  EXPECT_EQ(ParseDate("1970-01-01"), 0);
  EXPECT_EQ(ParseDate("1970-01-02"), 1);
  EXPECT_EQ(ParseDate("1969-12-31"), -1);
  EXPECT_EQ(ParseDate("2000-03-01"), 11017);
  EXPECT_EQ(ParseDate("2023-11-14"), 19675);
}

TEST(ParseDate, KnowsLeapYears) {
  EXPECT_TRUE(ParseDate("2024-02-29"));
  EXPECT_TRUE(ParseDate("2000-02-29"));
  EXPECT_FALSE(ParseDate("2023-02-29"));
  EXPECT_FALSE(ParseDate("1900-02-29"));
  EXPECT_FALSE(ParseDate("2024-02-30"));
}

TEST(ParseDate, RejectsMalformedDates) {
  for (const char* text : {"", "2023-04-31", "2023-13-01", "2023-00-10", "2023-01-00",
                           "2023-1-01", "2023-01-1", "23-01-01", "2023/01/01", "0000-01-01",
                           "2023-01-01T00:00:00Z", " 2023-01-01", "2023-01-01 ", "abcd-ef-gh"}) {
    EXPECT_FALSE(ParseDate(text)) << text;
  }
  EXPECT_TRUE(ParseDate("0001-01-01"));
  EXPECT_TRUE(ParseDate("9999-12-31"));
}

TEST(TodayUtc, MatchesTheClock) {
  const std::int64_t today = TodayUtc();
  const std::int64_t now = CurrentUnixTime();
  EXPECT_GE(today * 86400, now - 86400 - 1);
  EXPECT_LE(today * 86400, now);
}

TEST(ParseActivityDate, AcceptsEveryDocumentedForm) {
  EXPECT_EQ(ParseActivityDate("1700000000"), 1700000000);
  EXPECT_EQ(ParseActivityDate("0"), 0);
  EXPECT_EQ(ParseActivityDate("-1"), -1);
  EXPECT_EQ(ParseActivityDate("-86400"), -86400);
  EXPECT_EQ(ParseActivityDate("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(ParseActivityDate("2023-11-14T22:13:20z"), 1700000000);
  EXPECT_EQ(ParseActivityDate("2023-11-14T22:13:20"), 1700000000);
  EXPECT_EQ(ParseActivityDate("2023-11-14 22:13:20"), 1700000000);
  EXPECT_EQ(ParseActivityDate("2023-11-14T23:13:20+01:00"), 1700000000);
  EXPECT_EQ(ParseActivityDate("2023-11-14T17:13:20-05:00"), 1700000000);
  EXPECT_EQ(ParseActivityDate("2023-11-14T22:13:20.999Z"), 1700000000);
  EXPECT_EQ(ParseActivityDate("2023-11-14T22:13:20.5+00:00"), 1700000000);
  EXPECT_EQ(ParseActivityDate("2023-11-14"), 1699920000);
  EXPECT_EQ(ParseActivityDate("2024-02-29"), 1709164800);
}

TEST(ParseActivityDate, RejectsEverythingElse) {
  for (const char* text :
       {"", "yesterday", "-", "--5", "+5", "- 5", "-62135596801", "1.5", "1e9", "2023-11-14T25:00:00Z", "2023-11-14T22:60:00Z",
        "2023-11-14T22:13Z", "2023-11-14T22:13:20+1:00", "2023-11-14T22:13:20+0100",
        "2023-11-14T22:13:20.Z", "2023-11-14T22:13:20ZZ", "2023-02-29", "2023-02-29T00:00:00Z",
        "2023-11-14X22:13:20Z", "99999999999999999999", "253402300800"}) {
    EXPECT_FALSE(ParseActivityDate(text)) << text;
  }
}

TEST(ParseActivityDate, AcceptsTheWholeRangeOfYears) {
  EXPECT_EQ(ParseActivityDate("0001-01-01T00:00:00Z"), kMinActivityDate);
  EXPECT_EQ(ParseActivityDate("9999-12-31T23:59:59Z"), kMaxActivityDate);
  EXPECT_EQ(ParseActivityDate("253402300799"), kMaxActivityDate);
  EXPECT_EQ(ParseActivityDate("-62135596800"), kMinActivityDate);
}

TEST(ParseInt64, HandlesBoundsAndSigns) {
  EXPECT_EQ(ParseUnsignedInt64("9223372036854775807"), INT64_MAX);
  EXPECT_FALSE(ParseUnsignedInt64("9223372036854775808"));
  EXPECT_FALSE(ParseUnsignedInt64("-1"));
  EXPECT_FALSE(ParseUnsignedInt64("+1"));
  EXPECT_FALSE(ParseUnsignedInt64(" 1"));
  EXPECT_FALSE(ParseUnsignedInt64(""));
  EXPECT_EQ(ParseUnsignedInt64("007"), 7);
  EXPECT_EQ(ParseInt64("-9223372036854775808"), INT64_MIN);
  EXPECT_FALSE(ParseInt64("-9223372036854775809"));
  EXPECT_FALSE(ParseInt64("-"));
  EXPECT_EQ(ParseInt64("-42"), -42);
}

TEST(ShortenForMessage, CutsAtCharacterBoundary) {
  EXPECT_EQ(ShortenForMessage("short"), "short");
  // 79 ASCII bytes, then a two-byte character that straddles byte 80.
  const std::string text = std::string(79, 'a') + "\xC3\xA4" + "tail";
  EXPECT_EQ(ShortenForMessage(text), std::string(79, 'a') + "...");
}

TEST(QuoteForMessage, EscapesLikeJson) {
  EXPECT_EQ(QuoteForMessage("a\"b\\c"), "\"a\\\"b\\\\c\"");
}

}  // namespace
}  // namespace cmfd
