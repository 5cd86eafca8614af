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
  EXPECT_EQ(RedactRequestTarget("/x?api+key=s"), "/x?api+key=s");
}

TEST(RedactRequestTargetTest, KeepsEverythingElse) {
  EXPECT_EQ(RedactRequestTarget("/x"), "/x");
  EXPECT_EQ(RedactRequestTarget("/x?"), "/x?");
  EXPECT_EQ(RedactRequestTarget("/x?a=1&&b=%20&apikeys=1&myapikey=2"),
            "/x?a=1&&b=%20&apikeys=1&myapikey=2");
  EXPECT_EQ(RedactRequestTarget("/x?apikey=&apikey"), "/x?apikey=&apikey");
  EXPECT_EQ(RedactRequestTarget("/x?apikey=k#apikey=frag"), "/x?apikey=REDACTED#apikey=frag");
}

TEST(RedactRequestTargetTest, SecretNeverSurvives) {
  const std::string secret = "0123456789abcdef";
  for (const std::string target :
       {"/x?apikey=" + secret, "/x?a=1&apiKey=" + secret + "&b=2",
        "/x?apikey=" + secret + "=" + secret, "/x?%61pikey=" + secret}) {
    EXPECT_EQ(RedactRequestTarget(target).find(secret), std::string::npos) << target;
  }
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
