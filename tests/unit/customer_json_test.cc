#include "domain/customer_json.h"

#include <gtest/gtest.h>

#include <string>

#include "domain/password.h"

namespace cmfd {
namespace {

CustomerSchema ExtraSchema() {
  CustomerSchema schema;
  schema.fields.push_back({"customerNumber", FieldType::kString, {}, true});
  schema.fields.push_back({"loyaltyTier", FieldType::kSelect, {"bronze", "silver", "gold"}, false});
  schema.fields.push_back({"score", FieldType::kNumber, {}, false});
  schema.fields.push_back({"visits", FieldType::kInt, {}, false});
  schema.fields.push_back({"vip", FieldType::kBool, {}, false});
  schema.fields.push_back({"contractEnd", FieldType::kDate, {}, false});
  schema.fields.push_back({"workEmail", FieldType::kEmail, {}, false});
  schema.fields.push_back({"shipTo", FieldType::kCountry, {}, false});
  return schema;
}

// Parses `body` and applies it to `customer`; fails the test on a problem.
void Apply(std::string_view body, Customer& customer, const CustomerSchema& schema = {}) {
  Result<CustomerPatch> patch = ParseCustomerPatch(body, schema);
  ASSERT_TRUE(patch.ok()) << patch.status().message();
  ApplyCustomerPatch(patch.value(), customer);
}

// The messages of a body that must be rejected.
std::vector<std::string> Problems(std::string_view body, const CustomerSchema& schema = {}) {
  Result<CustomerPatch> patch = ParseCustomerPatch(body, schema);
  EXPECT_FALSE(patch.ok()) << body;
  EXPECT_EQ(patch.status().code(), Code::kInvalid);
  return patch.status().messages();
}

std::string Write(const Customer& customer, const CustomerSchema& schema = {}) {
  std::string out;
  JsonWriter writer(out);
  WriteCustomer(writer, customer, schema);
  return out;
}

TEST(CustomerJson, ParsesAndWritesInContractOrder) {
  Customer customer = NewCustomer({});
  Apply(R"({"firstname": "Ilse", "lastname": "Brandauer", "gender": "female",
            "birthdate": "1979-11-30", "street": "Lindengasse 7", "zip": "8010", "city": "Graz",
            "countryCode": "at", "email": "Ilse.B@Example.net", "phone": null,
            "profilingConsent": true, "active": false, "idEncoded": "abc"})",
        customer);
  customer.id = 5101;
  customer.modification_date = 1699990000;
  customer.creation_date = 1650000000;
  customer.segments = {301, 317};

  EXPECT_EQ(Write(customer),
            R"({"id":5101,"active":false,"gender":"female","firstname":"Ilse",)"
            R"("lastname":"Brandauer","birthdate":"1979-11-30","street":"Lindengasse 7",)"
            R"("zip":"8010","city":"Graz","phone":null,"countryCode":"AT",)"
            R"("email":"Ilse.B@Example.net","idEncoded":"abc","profilingConsent":true,)"
            R"("password":null,"modificationDate":1699990000,"creationDate":1650000000,)"
            R"("segments":[301,317],"_links":[{"rel":"self",)"
            R"("href":"/webservice/cmf/customers/5101","method":"GET"}]})");
}

TEST(CustomerJson, NewCustomerHasDefaults) {
  const Customer customer = NewCustomer(ExtraSchema());
  EXPECT_TRUE(customer.active);
  EXPECT_FALSE(customer.profiling_consent);
  EXPECT_EQ(customer.extra.size(), 8u);
  EXPECT_FALSE(customer.email);
}

TEST(CustomerJson, NullClearsAndAbsentKeeps) {
  Customer customer = NewCustomer({});
  Apply(R"({"firstname": "A", "lastname": "B", "email": "a@example.com"})", customer);
  Apply(R"({"firstname": null, "email": "c@example.com"})", customer);
  EXPECT_FALSE(customer.firstname);
  EXPECT_EQ(customer.lastname, "B");
  EXPECT_EQ(customer.email, "c@example.com");
}

TEST(CustomerJson, EmptyStringIsNullOnlyForTypedFields) {
  Customer customer = NewCustomer({});
  Apply(R"({"gender": "male", "birthdate": "2000-01-01", "countryCode": "DE",
            "email": "a@example.com"})",
        customer);
  Apply(R"({"gender": "", "birthdate": "", "countryCode": "", "email": "", "firstname": "",
            "city": ""})",
        customer);
  EXPECT_FALSE(customer.gender);
  EXPECT_FALSE(customer.birthdate);
  EXPECT_FALSE(customer.country_code);
  EXPECT_FALSE(customer.email);
  EXPECT_EQ(customer.firstname, "");
  EXPECT_EQ(customer.city, "");
}

TEST(CustomerJson, ReadOnlyKeysAreIgnored) {
  Customer customer = NewCustomer({});
  customer.id = 9;
  Apply(R"({"id": 1, "creationDate": 5, "modificationDate": 6, "segments": [1, 2],
            "activities": [{"x": 1}], "_links": [], "password": null, "firstname": "Jo"})",
        customer);
  EXPECT_EQ(customer.id, 9);
  EXPECT_EQ(customer.creation_date, 0);
  EXPECT_TRUE(customer.segments.empty());
  EXPECT_EQ(customer.firstname, "Jo");
}

TEST(CustomerJson, UnknownKeysAreNamedEach) {
  const auto problems = Problems(R"({"foo": 1, "firstname": "A", "ssoIdentities": []})");
  ASSERT_EQ(problems.size(), 2u);
  EXPECT_EQ(problems[0], "unknown field \"foo\"");
  EXPECT_EQ(problems[1], "unknown field \"ssoIdentities\"");
}

TEST(CustomerJson, WrongTypesNameFieldValueAndType) {
  const auto problems = Problems(
      R"({"active": "yes", "firstname": 12, "profilingConsent": null, "gender": "Male",
          "email": ["a@example.com"], "idEncoded": 5})");
  ASSERT_EQ(problems.size(), 6u);
  EXPECT_EQ(problems[0], R"(active: invalid value "yes", must be true or false)");
  EXPECT_EQ(problems[1], "firstname: invalid value 12, must be a string of at most 255 "
                         "characters, or null");
  EXPECT_EQ(problems[2], "profilingConsent: invalid value null, must be true or false");
  EXPECT_EQ(problems[3], R"(gender: invalid value "Male", must be one of male, female, other, or null)");
  EXPECT_EQ(problems[4], R"(email: invalid value ["a@example.com"], must be a valid email address of at most 254 characters, or null)");
  EXPECT_EQ(problems[5], "idEncoded: invalid value 5, must be a non-empty string of at most "
                         "255 characters");
}

TEST(CustomerJson, TextLengthCountsCodePoints) {
  std::string umlauts;
  for (int i = 0; i < 255; ++i) umlauts += "\xC3\xA4";  // 255 characters, 510 bytes
  Customer customer = NewCustomer({});
  Apply("{\"firstname\": \"" + umlauts + "\"}", customer);
  EXPECT_EQ(customer.firstname, umlauts);

  const auto problems = Problems("{\"lastname\": \"" + umlauts + "x\"}");
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_NE(problems[0].find("lastname: invalid value \""), std::string::npos);
  EXPECT_NE(problems[0].find("(256 characters), must be at most 255 characters"),
            std::string::npos);
}

TEST(CustomerJson, BirthdateRealAndNotFuture) {
  Customer customer = NewCustomer({});
  Apply(R"({"birthdate": "2024-02-29"})", customer);
  EXPECT_EQ(customer.birthdate, "2024-02-29");

  EXPECT_EQ(Problems(R"({"birthdate": "2023-02-29"})")[0],
            R"(birthdate: invalid value "2023-02-29", must be a date "YYYY-MM-DD" that exists in the calendar, or null)");
  EXPECT_EQ(Problems(R"({"birthdate": "9999-12-31"})")[0],
            R"(birthdate: invalid value "9999-12-31", must be a date that is not after today (UTC))");
  EXPECT_EQ(Problems(R"({"birthdate": "30.11.1979"})").size(), 1u);
}

TEST(CustomerJson, CountryCodeIsUpperCased) {
  Customer customer = NewCustomer({});
  Apply(R"({"countryCode": "dE"})", customer);
  EXPECT_EQ(customer.country_code, "DE");
  EXPECT_EQ(Problems(R"({"countryCode": "XX"})")[0],
            R"(countryCode: invalid value "XX", must be an assigned ISO 3166-1 alpha-2 country code such as "DE", or null)");
  EXPECT_EQ(Problems(R"({"countryCode": "DEU"})").size(), 1u);
}

TEST(CustomerJson, EmailIsCheckedAndStoredAsSent) {
  Customer customer = NewCustomer({});
  Apply(R"({"email": "Jonas.Weber@Example.COM"})", customer);
  EXPECT_EQ(customer.email, "Jonas.Weber@Example.COM");

  EXPECT_EQ(Problems(R"({"email": "not-an-address"})").size(), 1u);
  // 64 + 1 + 189 = 254 characters is the limit.
  const std::string local(64, 'a');
  const std::string domain = std::string(60, 'b') + "." + std::string(60, 'c') + "." +
                             std::string(60, 'd') + ".example";
  const std::string longest = local + "@" + domain.substr(domain.size() - 189);
  ASSERT_EQ(longest.size(), 254u);
  Apply("{\"email\": \"" + longest + "\"}", customer);
  EXPECT_EQ(Problems("{\"email\": \"a" + longest + "\"}").size(), 1u);
}

TEST(CustomerJson, PasswordIsHashedAndNeverWritten) {
  Customer customer = NewCustomer({});
  Apply(R"({"password": "correct horse"})", customer);
  ASSERT_TRUE(customer.password_hash);
  EXPECT_EQ(customer.password_hash->rfind("$argon2id$", 0), 0u);
  EXPECT_TRUE(VerifyPassword("correct horse", *customer.password_hash));
  EXPECT_FALSE(VerifyPassword("wrong horse", *customer.password_hash));

  const std::string json = Write(customer);
  EXPECT_NE(json.find("\"password\":null"), std::string::npos);
  EXPECT_EQ(json.find("argon2"), std::string::npos);

  Apply(R"({"password": null})", customer);  // ignored
  EXPECT_TRUE(customer.password_hash);
  Apply(R"({"password": ""})", customer);  // removes it
  EXPECT_FALSE(customer.password_hash);

  // A message about the password never quotes what was sent.
  EXPECT_EQ(Problems(R"({"password": 1234})")[0],
            "password: invalid value, must be a string or null");
  EXPECT_EQ(Problems(R"({"password": "secret\u0000"})")[0],
            "password: invalid value, the NUL character (U+0000) is not allowed");
}

TEST(CustomerJson, NulRejectedInStringFields) {
  const std::string rule = ", the NUL character (U+0000) is not allowed";
  for (const std::string key : {"gender", "firstname", "lastname", "birthdate", "street", "zip",
                                "city", "phone", "countryCode", "email", "idEncoded"}) {
    const auto problems = Problems("{\"" + key + "\": \"a\\u0000b\"}");
    ASSERT_EQ(problems.size(), 1u) << key;
    EXPECT_EQ(problems[0], key + R"(: invalid value "a\u0000b")" + rule);
  }
  for (const std::string key : {"customerNumber", "loyaltyTier", "contractEnd", "workEmail",
                                "shipTo"}) {
    const auto problems = Problems("{\"" + key + "\": \"\\u0000\"}", ExtraSchema());
    ASSERT_EQ(problems.size(), 1u) << key;
    EXPECT_EQ(problems[0], key + R"(: invalid value "\u0000")" + rule);
  }
}

TEST(CustomerJson, IdEncodedNullKeepsAndEmptyIsRejected) {
  Customer customer = NewCustomer({});
  customer.id_encoded = "token";
  Apply(R"({"idEncoded": null})", customer);
  EXPECT_EQ(customer.id_encoded, "token");
  EXPECT_EQ(Problems(R"({"idEncoded": ""})").size(), 1u);
}

TEST(CustomerJson, MalformedBodiesNameReasonAndOffset) {
  EXPECT_EQ(Problems("")[0], "Request body is no valid JSON: the body is empty at byte 0");
  EXPECT_EQ(Problems("{\"firstname\": }")[0],
            "Request body is no valid JSON: unexpected character '}', expected a value at byte 14");
  EXPECT_EQ(Problems("[]")[0],
            "Request body is no valid JSON: expected a JSON object, got an array at byte 0");
  EXPECT_EQ(Problems("null")[0],
            "Request body is no valid JSON: expected a JSON object, got null at byte 0");
}

TEST(CustomerJson, ExtraFieldsFollowTheirType) {
  const CustomerSchema schema = ExtraSchema();
  Customer customer = NewCustomer(schema);
  Apply(R"({"customerNumber": "12346", "loyaltyTier": "gold", "score": 1.50, "visits": 12,
            "vip": true, "contractEnd": "2999-01-01", "workEmail": "a@example.com",
            "shipTo": "at"})",
        customer, schema);
  ASSERT_EQ(customer.extra.size(), 8u);
  EXPECT_EQ(customer.extra[0], "\"12346\"");
  EXPECT_EQ(customer.extra[1], "\"gold\"");
  EXPECT_EQ(customer.extra[2], "1.5");
  EXPECT_EQ(customer.extra[3], "12");
  EXPECT_EQ(customer.extra[4], "true");
  EXPECT_EQ(customer.extra[5], "\"2999-01-01\"");  // a date field may lie in the future
  EXPECT_EQ(customer.extra[6], "\"a@example.com\"");
  EXPECT_EQ(customer.extra[7], "\"AT\"");

  customer.id = 1;
  const std::string json = Write(customer, schema);
  EXPECT_NE(json.find(R"("phone":null,"customerNumber":"12346","loyaltyTier":"gold",)"
                      R"("score":1.5,"visits":12,"vip":true,"contractEnd":"2999-01-01",)"
                      R"("workEmail":"a@example.com","shipTo":"AT","countryCode":null)"),
            std::string::npos)
      << json;
}

TEST(CustomerJson, ExtraFieldsEmptyStringAndNull) {
  const CustomerSchema schema = ExtraSchema();
  Customer customer = NewCustomer(schema);
  Apply(R"({"customerNumber": "1", "loyaltyTier": "gold", "visits": 3, "contractEnd": "2020-01-01"})",
        customer, schema);
  Apply(R"({"customerNumber": "", "loyaltyTier": "", "visits": "", "contractEnd": null})",
        customer, schema);
  EXPECT_FALSE(customer.extra[0]);  // "" on a unique string is null
  EXPECT_FALSE(customer.extra[1]);
  EXPECT_FALSE(customer.extra[3]);
  EXPECT_FALSE(customer.extra[5]);
}

TEST(CustomerJson, PlainStringKeepsEmptyString) {
  CustomerSchema schema = ExtraSchema();
  schema.fields[0].unique = false;
  Customer customer = NewCustomer(schema);
  Apply(R"({"customerNumber": ""})", customer, schema);
  EXPECT_EQ(customer.extra[0], "\"\"");
}

TEST(CustomerJson, ExtraFieldsRejectWrongValues) {
  const auto problems = Problems(
      R"({"loyaltyTier": "Gold", "visits": 1.5, "vip": "yes", "score": "1",
          "contractEnd": "2023-02-29", "shipTo": "XX", "workEmail": "x", "customerNumber": 5})",
      ExtraSchema());
  ASSERT_EQ(problems.size(), 8u);
  EXPECT_EQ(problems[0],
            R"(loyaltyTier: invalid value "Gold", must be one of bronze, silver, gold, or null)");
  EXPECT_EQ(problems[1], "visits: invalid value 1.5, must be a 64-bit integer, or null");
  EXPECT_EQ(problems[2], R"(vip: invalid value "yes", must be true, false or null)");
  EXPECT_EQ(problems[3], R"(score: invalid value "1", must be a number within the range of a double, or null)");
}

TEST(CustomerJson, RequiredFieldCombinations) {
  CustomerSchema schema;
  schema.required = {{"email"}, {"firstname", "lastname"}};
  Customer customer = NewCustomer(schema);
  const Status missing = CheckRequiredFields(customer, schema);
  EXPECT_EQ(missing.code(), Code::kInvalid);
  EXPECT_EQ(missing.message(),
            "Not all required fields are set. Please fill-up one of the following field "
            "combinations: [email] or [firstname + lastname]");

  customer.firstname = "A";
  customer.lastname = "";
  EXPECT_FALSE(CheckRequiredFields(customer, schema).ok());
  customer.lastname = "B";
  EXPECT_TRUE(CheckRequiredFields(customer, schema).ok());
  customer = NewCustomer(schema);
  customer.email = "a@example.com";
  EXPECT_TRUE(CheckRequiredFields(customer, schema).ok());
  EXPECT_TRUE(CheckRequiredFields(NewCustomer({}), CustomerSchema{}).ok());
}

TEST(CustomerJson, RequiredExtraField) {
  CustomerSchema schema = ExtraSchema();
  schema.required = {{"customerNumber"}};
  Customer customer = NewCustomer(schema);
  EXPECT_FALSE(CheckRequiredFields(customer, schema).ok());
  customer.extra[0] = "\"\"";
  EXPECT_FALSE(CheckRequiredFields(customer, schema).ok());
  customer.extra[0] = "\"7\"";
  EXPECT_TRUE(CheckRequiredFields(customer, schema).ok());
}

TEST(CustomerJson, ExtraFieldFilterParsesByType) {
  const CustomerSchema schema = ExtraSchema();
  EXPECT_EQ(ParseExtraFieldFilter(schema.fields[0], "12346").value(), "\"12346\"");
  EXPECT_EQ(ParseExtraFieldFilter(schema.fields[1], "gold").value(), "\"gold\"");
  EXPECT_EQ(ParseExtraFieldFilter(schema.fields[2], "1.50").value(), "1.5");
  EXPECT_EQ(ParseExtraFieldFilter(schema.fields[3], "-4").value(), "-4");
  EXPECT_EQ(ParseExtraFieldFilter(schema.fields[4], "1").value(), "true");
  EXPECT_EQ(ParseExtraFieldFilter(schema.fields[7], "de").value(), "\"DE\"");

  const Status bad_int = ParseExtraFieldFilter(schema.fields[3], "abc").status();
  EXPECT_EQ(bad_int.message(), R"(visits: invalid value "abc", must be a 64-bit integer)");
  EXPECT_FALSE(ParseExtraFieldFilter(schema.fields[1], "Gold").ok());
  EXPECT_FALSE(ParseExtraFieldFilter(schema.fields[2], "inf").ok());
  EXPECT_FALSE(ParseExtraFieldFilter(schema.fields[5], "2023-02-29").ok());
}

TEST(CustomerJson, EmbeddedActivitiesUseTheActivityRepresentation) {
  Customer customer = NewCustomer({});
  customer.id = 3;
  Activity activity;
  activity.id = 8;
  activity.customer_id = 3;
  activity.type = "login";
  customer.activities = std::vector<Activity>{activity};
  const std::string json = Write(customer);
  EXPECT_NE(json.find(R"("segments":[],"activities":[{"id":8,"customerId":3,)"),
            std::string::npos)
      << json;
}

}  // namespace
}  // namespace cmfd
