#include "http/redact.h"

#include <gtest/gtest.h>

namespace cmfd {
namespace {

TEST(RedactRequestTargetTest, ReplacesApiKeyValues) {
  EXPECT_EQ(RedactRequestTarget("/webservice/cmf/customers?apikey=s3cret&page=2"),
            "/webservice/cmf/customers?apikey=REDACTED&page=2");
  EXPECT_EQ(RedactRequestTarget("/x?page=2&apiKey=s3cret"), "/x?page=2&apiKey=REDACTED");
  EXPECT_EQ(RedactRequestTarget("/x?APIKEY=a&ApiKey=b"), "/x?APIKEY=REDACTED&ApiKey=REDACTED");
}

TEST(RedactRequestTargetTest, ReplacesEncodedAndRepeatedNames) {
  EXPECT_EQ(RedactRequestTarget("/x?api%4Bey=s&apikey%5B%5D=t&apikey[]=u&apikey=v"),
            "/x?api%4Bey=REDACTED&apikey%5B%5D=REDACTED&apikey[]=REDACTED&apikey=REDACTED");
  EXPECT_EQ(RedactRequestTarget("/x?api+key=s"), "/x?api+key=REDACTED");
}

TEST(RedactRequestTargetTest, ReplacesEveryNameThatCallsForASecret) {
  EXPECT_EQ(RedactRequestTarget("/x?api_key=a&api-key=b&API_KEY=c&access_token=d"),
            "/x?api_key=REDACTED&api-key=REDACTED&API_KEY=REDACTED&access_token=REDACTED");
  EXPECT_EQ(RedactRequestTarget("/x?client_secret=a&Pass_Word=b&keys[]=c&page=2"),
            "/x?client_secret=REDACTED&Pass_Word=REDACTED&keys[]=REDACTED&page=2");
  EXPECT_EQ(RedactRequestTarget("/x?%74oken=a&pass%2Dword=b"),
            "/x?%74oken=REDACTED&pass%2Dword=REDACTED");
}

TEST(RedactRequestTargetTest, SemicolonSeparates) {
  EXPECT_EQ(RedactRequestTarget("/x?page=2;apikey=s;token=t&a=1"),
            "/x?page=2;apikey=REDACTED;token=REDACTED&a=1");
}

TEST(RedactRequestTargetTest, EncodedEqualsSign) {
  EXPECT_EQ(RedactRequestTarget("/x?apikey%3Ds3cret&page=2"), "/x?apikey%3DREDACTED&page=2");
  EXPECT_EQ(RedactRequestTarget("/x?api_key%3ds3cret%3Dmore"), "/x?api_key%3dREDACTED");
  EXPECT_EQ(RedactRequestTarget("/x?apikey%3Ds3cret=x"), "/x?apikey%3DREDACTED");
  EXPECT_EQ(RedactRequestTarget("/x?a%3Db_token=s3cret"), "/x?a%3Db_token=REDACTED");
  EXPECT_EQ(RedactRequestTarget("/x?page%3D2"), "/x?page%3D2");
}

TEST(RedactRequestTargetTest, KeepsEverythingElse) {
  EXPECT_EQ(RedactRequestTarget("/x"), "/x");
  EXPECT_EQ(RedactRequestTarget("/x?"), "/x?");
  EXPECT_EQ(RedactRequestTarget("/x?a=1&&b=%20&;monkey&api=2&keyword"),
            "/x?a=1&&b=%20&;monkey&api=2&keyword");
  EXPECT_EQ(RedactRequestTarget("/x?apikey=&apikey"), "/x?apikey=&apikey");
  EXPECT_EQ(RedactRequestTarget("/x?apikey=k#apikey=frag"), "/x?apikey=REDACTED#apikey=frag");
}

TEST(RedactRequestTargetTest, SecretNeverSurvives) {
  const std::string secret = "0123456789abcdef";
  for (const std::string target :
       {"/x?apikey=" + secret, "/x?a=1&apiKey=" + secret + "&b=2",
        "/x?apikey=" + secret + "=" + secret, "/x?%61pikey=" + secret,
        "/x?apikey%3D" + secret, "/x?a=1;api-key=" + secret, "/x?refresh_token=" + secret,
        "/x?apikey%3d" + secret + "%3d" + secret}) {
    EXPECT_EQ(RedactRequestTarget(target).find(secret), std::string::npos) << target;
  }
}

TEST(RequestTargetForLogTest, CapsLongTargets) {
  EXPECT_EQ(RequestTargetForLog("/x?apikey=s"), "/x?apikey=REDACTED");

  const std::string exact = "/x?q=" + std::string(kMaxLoggedTargetBytes - 5, 'a');
  EXPECT_EQ(RequestTargetForLog(exact), exact);

  const std::string long_target = "/x?q=" + std::string(60000, 'a') + "&apikey=s3cret";
  const std::string logged = RequestTargetForLog(long_target);
  EXPECT_EQ(logged.substr(0, kMaxLoggedTargetBytes), long_target.substr(0, kMaxLoggedTargetBytes));
  EXPECT_EQ(logged.substr(kMaxLoggedTargetBytes),
            "...(" + std::to_string(long_target.size()) + " bytes)");
}

TEST(RedactDatabaseTest, FilePathUnchanged) {
  EXPECT_EQ(RedactDatabase("cmf.db"), "cmf.db");
  EXPECT_EQ(RedactDatabase("/var/lib/cmfd/my password.db"), "/var/lib/cmfd/my password.db");
}

TEST(RedactDatabaseTest, UrlUserInfo) {
  EXPECT_EQ(RedactDatabase("postgresql://cmf:s3cret@db.example:5432/cmf"),
            "postgresql://cmf:REDACTED@db.example:5432/cmf");
  EXPECT_EQ(RedactDatabase("postgresql://cmf@localhost/cmf"), "postgresql://cmf@localhost/cmf");
  EXPECT_EQ(RedactDatabase("postgresql://localhost/cmf"), "postgresql://localhost/cmf");
  EXPECT_EQ(RedactDatabase("postgresql:///cmf"), "postgresql:///cmf");
}

TEST(RedactDatabaseTest, UrlPasswordWithSpecialCharacters) {
  EXPECT_EQ(RedactDatabase("postgresql://u:p@ss?w@host/db"), "postgresql://u:REDACTED@host/db");
  EXPECT_EQ(RedactDatabase("postgres://u:a%40b@host"), "postgres://u:REDACTED@host");
}

TEST(RedactDatabaseTest, UrlPasswordParameter) {
  EXPECT_EQ(RedactDatabase("postgresql://host/db?user=u&password=s3cret&sslmode=disable"),
            "postgresql://host/db?user=u&password=REDACTED&sslmode=disable");
  EXPECT_EQ(RedactDatabase("postgresql://host/db?password=s3cret"),
            "postgresql://host/db?password=REDACTED");
  EXPECT_EQ(RedactDatabase("postgresql://host/db?Password=s3cret"),
            "postgresql://host/db?Password=REDACTED");
  EXPECT_EQ(RedactDatabase("postgresql://host/db?mypassword=x"),
            "postgresql://host/db?mypassword=x");
}

TEST(RedactDatabaseTest, KeywordForm) {
  EXPECT_EQ(RedactDatabase("host=db user=u password=s3cret dbname=cmf"),
            "host=db user=u password=REDACTED dbname=cmf");
  EXPECT_EQ(RedactDatabase("host=db password='se cret\\' x' dbname=cmf"),
            "host=db password=REDACTED dbname=cmf");
}

}  // namespace
}  // namespace cmfd
