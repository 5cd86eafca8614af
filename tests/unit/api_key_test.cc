#include "util/api_key.h"

#include <gtest/gtest.h>

#include <set>

namespace cmfd {
namespace {

bool IsLowerHex(const std::string& text) {
  return text.find_first_not_of("0123456789abcdef") == std::string::npos;
}

TEST(ApiKeyTest, InitSucceeds) { EXPECT_TRUE(InitCrypto().ok()); }

TEST(ApiKeyTest, GeneratedKeyIs256BitsOfHex) {
  const std::string key = GenerateApiKey();
  EXPECT_EQ(key.size(), 64u);
  EXPECT_TRUE(IsLowerHex(key)) << key;
}

TEST(ApiKeyTest, GeneratedKeysDiffer) {
  std::set<std::string> keys;
  for (int i = 0; i < 100; ++i) keys.insert(GenerateApiKey());
  EXPECT_EQ(keys.size(), 100u);
}

TEST(ApiKeyTest, HashIsSha256Hex) {
  // SHA-256 test vectors from FIPS 180-2.
  EXPECT_EQ(HashApiKey(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(HashApiKey("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(ApiKeyTest, HashDependsOnEveryByte) {
  const std::string key = GenerateApiKey();
  std::string changed = key;
  changed.back() = changed.back() == '0' ? '1' : '0';
  EXPECT_NE(HashApiKey(key), HashApiKey(changed));
  EXPECT_EQ(HashApiKey(key), HashApiKey(key));
  EXPECT_NE(HashApiKey(key), key);
}

TEST(ApiKeyTest, ConstantTimeEquals) {
  EXPECT_TRUE(ConstantTimeEquals("abc", "abc"));
  EXPECT_TRUE(ConstantTimeEquals("", ""));
  EXPECT_FALSE(ConstantTimeEquals("abc", "abd"));
  EXPECT_FALSE(ConstantTimeEquals("abc", "ab"));
  EXPECT_FALSE(ConstantTimeEquals("", "a"));
  EXPECT_FALSE(ConstantTimeEquals("xbc", "abc"));
}

}  // namespace
}  // namespace cmfd
