// The handlers against a real SQLite store, called through the router
// without an HTTP server.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <memory>
#include <string>

#include "domain/validation.h"
#include "handlers/handlers.h"
#include "sqlite_test_support.h"

namespace cmfd {
namespace {

class HandlersTest : public testing::Test {
 protected:
  void SetUp() override { Open(); }

  // (Re)opens the store with the current config_.
  void Open() {
    store_.reset();
    StoreOptions options;
    options.customer = config_.customer;
    Result<std::unique_ptr<Store>> store = OpenStore(dir_.File("cmf.db"), options);
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store.value());
    router_ = std::make_unique<Router>();
    RegisterAllRoutes(*router_);
  }

  // Calls the route for `target` ("/customers?page=2") like the server does.
  Response Call(const std::string& method, const std::string& target,
                const std::string& body = "") {
    const std::size_t question = target.find('?');
    const std::string path = target.substr(0, question);
    RouteMatch match = router_->Match(method, path);
    if (match.route == nullptr) {
      Response response;
      response.status = match.status;
      return response;
    }
    Request request;
    request.method = method;
    request.path = path;
    request.params = match.params;
    if (question != std::string::npos) request.query = QueryParams::Parse(target.substr(question + 1));
    request.body = body;
    HandlerContext context{*store_, config_};
    return match.route->handler(request, context);
  }

  // The body of a successful call, parsed.
  simdjson::dom::element Json(const Response& response) {
    parsed_ = std::make_unique<simdjson::padded_string>(response.body);
    simdjson::dom::element element;
    EXPECT_EQ(parser_.parse(*parsed_).get(element), simdjson::SUCCESS) << response.body;
    return element;
  }

  std::int64_t CreateCustomer(const std::string& body) {
    const Response response = Call("POST", "/customers", body);
    EXPECT_EQ(response.status, 201) << response.body;
    return Json(response)["data"]["id"].get_int64().value();
  }

  TempDirectory dir_;
  Config config_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<Router> router_;
  simdjson::dom::parser parser_;
  std::unique_ptr<simdjson::padded_string> parsed_;
};

std::string Message(const Response& response) {
  simdjson::dom::parser parser;
  simdjson::dom::element element;
  if (parser.parse(response.body).get(element)) return "<no JSON: " + response.body + ">";
  std::string_view message;
  if (element["msg"].get(message)) return "<no msg: " + response.body + ">";
  return std::string(message);
}

TEST_F(HandlersTest, CustomerLifecycle) {
  const std::int64_t id = CreateCustomer(R"({"email": "a@example.com", "firstname": "A"})");
  Response got = Call("GET", "/customers/" + std::to_string(id));
  EXPECT_EQ(got.status, 200);
  EXPECT_EQ(got.body.rfind("{\"timestamp\":", 0), 0u) << got.body;

  Response patched = Call("PATCH", "/customers/" + std::to_string(id), R"({"firstname": null})");
  EXPECT_EQ(patched.status, 200) << patched.body;
  EXPECT_TRUE(Json(patched)["data"]["firstname"].is_null());

  Response deleted = Call("DELETE", "/customers/" + std::to_string(id));
  EXPECT_EQ(deleted.status, 204);
  EXPECT_TRUE(deleted.body.empty());
  EXPECT_EQ(Call("GET", "/customers/" + std::to_string(id)).status, 404);
}

TEST_F(HandlersTest, UnknownIdComesBeforeInvalidBody) {
  const std::int64_t id = CreateCustomer("{}");
  Response unknown = Call("PATCH", "/customers/999", R"({"foo": 1})");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(Message(unknown), "Customer with ID 999 was not found");

  Response invalid = Call("PATCH", "/customers/" + std::to_string(id), R"({"foo": 1})");
  EXPECT_EQ(invalid.status, 400);
  EXPECT_EQ(Message(invalid), "unknown field \"foo\"");

  Response malformed = Call("GET", "/customers/abc?includeActivities=maybe");
  EXPECT_EQ(malformed.status, 404);
  EXPECT_EQ(Message(malformed), "Customer with ID abc was not found");
  EXPECT_EQ(Call("GET", "/customers/999?includeActivities=maybe").status, 404);
  EXPECT_EQ(Call("GET", "/customers/" + std::to_string(id) + "?includeActivities=maybe").status,
            400);

  for (const char* path : {"/activities/0", "/segments/-1", "/segment-groups/99999999999999999999"}) {
    EXPECT_EQ(Call("PATCH", path, "not json").status, 404) << path;
  }
  EXPECT_EQ(Message(Call("DELETE", "/segment-groups/x")), "Segment group with ID x was not found");
}

TEST_F(HandlersTest, ListPaging) {
  for (int i = 0; i < 3; ++i) CreateCustomer("{}");
  Response first = Call("GET", "/customers?pageSize=2");
  ASSERT_EQ(first.status, 200) << first.body;
  EXPECT_EQ(first.body.rfind("{\"page\":1,\"totalPages\":2,\"timestamp\":", 0), 0u) << first.body;
  EXPECT_EQ(Json(first)["data"].get_array().size(), 2u);

  Response past_end = Call("GET", "/customers?pageSize=2&page=7");
  ASSERT_EQ(past_end.status, 200);
  EXPECT_EQ(Json(past_end)["page"].get_int64().value(), 7);
  EXPECT_EQ(Json(past_end)["data"].get_array().size(), 0u);

  Response too_big = Call("GET", "/customers?pageSize=1001");
  EXPECT_EQ(too_big.status, 400);
  EXPECT_EQ(Message(too_big), R"(pageSize: invalid value "1001", must be an integer from 1 to 1000)");

  Response empty = Call("GET", "/activities");
  EXPECT_EQ(empty.body.rfind("{\"page\":1,\"totalPages\":0,", 0), 0u) << empty.body;
}

TEST_F(HandlersTest, RequiredFieldsAndUniqueFilter) {
  config_.customer.required = {{"email"}, {"firstname", "lastname"}};
  config_.customer.fields.push_back({"customerNumber", FieldType::kString, {}, true});
  Open();

  Response missing = Call("POST", "/customers", R"({"firstname": "A"})");
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(Message(missing),
            "Not all required fields are set. Please fill-up one of the following field "
            "combinations: [email] or [firstname + lastname]");

  const std::int64_t id =
      CreateCustomer(R"({"email": "a@example.com", "customerNumber": "12346"})");
  CreateCustomer(R"({"email": "b@example.com", "customerNumber": "12347"})");
  Response cleared = Call("PATCH", "/customers/" + std::to_string(id), R"({"email": null})");
  EXPECT_EQ(cleared.status, 400) << cleared.body;

  Response found = Call("GET", "/customers?customerNumber=12346");
  ASSERT_EQ(found.status, 200) << found.body;
  auto data = Json(found)["data"].get_array();
  ASSERT_EQ(data.size(), 1u);
  EXPECT_EQ(data.at(0)["id"].get_int64().value(), id);
  EXPECT_EQ(data.at(0)["email"].get_string().value(), "a@example.com");
}

TEST_F(HandlersTest, ActivityUpsertAnswers201Then200) {
  const std::int64_t customer = CreateCustomer("{}");
  const std::string body = "{\"customerId\": " + std::to_string(customer) +
                           R"(, "type": "order", "a_id": "o-1", "attributes": {"total": 10.50}})";
  Response created = Call("POST", "/activities", body);
  EXPECT_EQ(created.status, 201) << created.body;
  Response again = Call("POST", "/activities", body);
  EXPECT_EQ(again.status, 200) << again.body;
  EXPECT_EQ(Json(created)["data"]["id"].get_int64().value(),
            Json(again)["data"]["id"].get_int64().value());
  EXPECT_NE(again.body.find(R"("attributes":{"total":10.50})"), std::string::npos) << again.body;

  Response unknown_customer = Call("POST", "/activities", R"({"customerId": 999, "type": "x"})");
  EXPECT_EQ(unknown_customer.status, 400);
  EXPECT_EQ(Call("GET", "/activities?customerId=-1").status, 400);
}

TEST_F(HandlersTest, UpsertWithoutDateKeepsDate) {
  const std::string customer = std::to_string(CreateCustomer("{}"));
  const std::string key = R"({"customerId": )" + customer + R"(, "type": "order", "a_id": "o-2")";
  Response created = Call("POST", "/activities", key + R"(, "activityDate": 1700000000})");
  ASSERT_EQ(created.status, 201) << created.body;
  const std::string first_md5(Json(created)["data"]["md5"].get_string().value());

  for (const std::string retry : {key + "}", key + R"(, "activityDate": null})"}) {
    Response again = Call("POST", "/activities", retry);
    ASSERT_EQ(again.status, 200) << again.body;
    EXPECT_EQ(Json(again)["data"]["activityDate"].get_int64().value(), 1700000000) << retry;
    EXPECT_EQ(Json(again)["data"]["md5"].get_string().value(), first_md5) << retry;
  }

  Response dated = Call("POST", "/activities", key + R"(, "activityDate": 1600000000})");
  ASSERT_EQ(dated.status, 200) << dated.body;
  EXPECT_EQ(Json(dated)["data"]["activityDate"].get_int64().value(), 1600000000);
  EXPECT_NE(Json(dated)["data"]["md5"].get_string().value(), first_md5);

  // A new activity without a date still gets the current time.
  const std::int64_t before = CurrentUnixTime();
  Response fresh = Call("POST", "/activities",
                        R"({"customerId": )" + customer + R"(, "type": "order", "a_id": "o-3"})");
  ASSERT_EQ(fresh.status, 201) << fresh.body;
  EXPECT_GE(Json(fresh)["data"]["activityDate"].get_int64().value(), before);
}

TEST_F(HandlersTest, TextParamsNeedUtf8WithoutNul) {
  config_.customer.fields.push_back({"customerNumber", FieldType::kString, {}, true});
  Open();

  const std::string not_utf8 = "the value is not valid UTF-8";
  const std::string nul = "the NUL character (U+0000) is not allowed";
  Response email = Call("GET", "/customers?email=%FF%FE");
  EXPECT_EQ(email.status, 400);
  EXPECT_EQ(Message(email), R"(email: invalid value "%FF%FE" (percent-encoded), )" + not_utf8);

  Response email_nul = Call("GET", "/customers?email=a%00b%25");
  EXPECT_EQ(email_nul.status, 400);
  EXPECT_EQ(Message(email_nul), R"(email: invalid value "a%00b%25" (percent-encoded), )" + nul);

  Response number = Call("GET", "/customers?customerNumber=1%C3");
  EXPECT_EQ(number.status, 400);
  EXPECT_EQ(Message(number),
            R"(customerNumber: invalid value "1%C3" (percent-encoded), )" + not_utf8);

  Response type = Call("GET", "/activities?type=visit,%E2%82");
  EXPECT_EQ(type.status, 400);
  EXPECT_EQ(Message(type), R"(type: invalid value "%E2%82" (percent-encoded), )" + not_utf8);

  Response type_nul = Call("GET", "/activities?type=a%00");
  EXPECT_EQ(type_nul.status, 400);
  EXPECT_EQ(Message(type_nul), R"(type: invalid value "a%00" (percent-encoded), )" + nul);

  // Valid UTF-8 passes, and the message of another rule is unchanged.
  EXPECT_EQ(Call("GET", "/customers?email=%C3%BC%40example.com").status, 200);
  EXPECT_EQ(Call("GET", "/activities?type=caf%C3%A9").status, 200);
  EXPECT_EQ(Message(Call("GET", "/activities?customerId=99999999999999999999")),
            R"(customerId: invalid value "99999999999999999999", must be a positive 64-bit )"
            R"(integer)");
}

TEST_F(HandlersTest, OtherParamsShowBadBytesAsSent) {
  EXPECT_EQ(Message(Call("GET", "/activities?customerId=%FF")),
            R"(customerId: invalid value "%FF" (percent-encoded), must be a positive 64-bit )"
            R"(integer)");
  EXPECT_EQ(Message(Call("GET", "/customers?pageSize=1%ED%A0%80")),
            R"(pageSize: invalid value "1%ED%A0%80" (percent-encoded), must be an integer )"
            R"(from 1 to 1000)");
  EXPECT_EQ(Message(Call("GET", "/customers?segments=3,%FF")),
            R"(segments: invalid value "%FF" (percent-encoded), must be a comma-separated )"
            R"(list of segment ids (positive integers))");
  EXPECT_EQ(Message(Call("GET", "/customers?includeActivities=%00")),
            R"(includeActivities: invalid value "%00" (percent-encoded), must be true, 1, )"
            R"(false or 0)");
}

TEST_F(HandlersTest, DeletionsAreStreamedInChunks) {
  const std::int64_t customer = CreateCustomer("{}");
  Activity activity;
  activity.customer_id = customer;
  activity.type = "visit";
  activity.implementation_class = "X";
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(store_->CreateActivity(activity).ok());
  ASSERT_EQ(Call("DELETE", "/customers/" + std::to_string(customer)).status, 204);

  Response response = Call("GET", "/deletions?entityType=activities");
  ASSERT_EQ(response.status, 200) << response.body;
  ASSERT_TRUE(response.next_chunk);
  std::string body = response.body;
  bool more = true;
  int chunks = 0;
  while (more && chunks < 10) {
    ASSERT_TRUE(response.next_chunk(body, more).ok());
    ++chunks;
  }
  EXPECT_FALSE(more);
  auto data = Json(JsonResponse(200, body))["data"].get_array();
  EXPECT_EQ(data.size(), 1500u);
  EXPECT_NE(body.find("],\"success\":true,\"timestamp\":"), std::string::npos);

  Response customers = Call("GET", "/deletions?entityType=customers");
  EXPECT_FALSE(customers.next_chunk);  // one row fits the first chunk
  EXPECT_EQ(customers.body.rfind("{\"data\":[{\"id\":", 0), 0u) << customers.body;

  Response paged = Call("GET", "/deletions?entityType=activities&pageSize=1000&page=2");
  ASSERT_EQ(paged.status, 200);
  EXPECT_EQ(paged.body.rfind("{\"page\":2,\"totalPages\":2,\"data\":[", 0), 0u);
  EXPECT_EQ(Json(paged)["data"].get_array().size(), 500u);
}

TEST_F(HandlersTest, DeletionsNeedAnEntityType) {
  EXPECT_EQ(Message(Call("GET", "/deletions")), "parameter entityType is required");
  EXPECT_EQ(Message(Call("GET", "/deletions?entityType=")), "parameter entityType is required");
  EXPECT_EQ(Message(Call("GET", "/deletions?entityType=segments")),
            "entityType must be activities or customers");
}

TEST_F(HandlersTest, SegmentsAndAssignments) {
  Response group = Call("POST", "/segment-groups", R"({"name": "Sport"})");
  ASSERT_EQ(group.status, 200) << group.body;
  EXPECT_NE(group.body.find("}],\"success\":true}"), std::string::npos) << group.body;
  const std::int64_t group_id = Json(group)["id"].get_int64().value();

  Response segment =
      Call("POST", "/segments", R"({"name": "Run", "group": ")" + std::to_string(group_id) + "\"}");
  ASSERT_EQ(segment.status, 200) << segment.body;
  const std::int64_t segment_id = Json(segment)["id"].get_int64().value();

  const std::int64_t customer = CreateCustomer("{}");
  Response assigned = Call("POST", "/segments-of-customers",
                           "{\"customerId\": " + std::to_string(customer) +
                               ", \"addSegments\": [" + std::to_string(segment_id) + ", 777]}");
  EXPECT_EQ(assigned.status, 400);
  EXPECT_NE(Message(assigned).find("777"), std::string::npos);

  assigned = Call("PUT", "/segments-of-customers",
                  "{\"customerId\": " + std::to_string(customer) + ", \"addSegments\": [" +
                      std::to_string(segment_id) + "]}");
  ASSERT_EQ(assigned.status, 200) << assigned.body;
  EXPECT_EQ(assigned.body, "{\"success\":true,\"segments\":[" + std::to_string(segment_id) + "]}");

  Response filtered = Call("GET", "/customers?segments=" + std::to_string(segment_id) + ",999");
  EXPECT_EQ(Json(filtered)["data"].get_array().size(), 0u);
  filtered = Call("GET", "/customers?segments[]=" + std::to_string(segment_id));
  EXPECT_EQ(Json(filtered)["data"].get_array().size(), 1u);
  EXPECT_EQ(Call("GET", "/customers?segments=abc").status, 400);

  EXPECT_EQ(Message(Call("POST", "/segments-of-customers", R"({"addSegments": []})")),
            "customerId required");
  EXPECT_EQ(Call("POST", "/segments-of-customers", R"({"customerId": 999})").status, 404);
}

TEST_F(HandlersTest, RoutesAnswer405ForOtherMethods) {
  RouteMatch match = router_->Match("PATCH", "/customers");
  EXPECT_EQ(match.status, 405);
  EXPECT_EQ(router_->Match("DELETE", "/deletions").status, 405);
  EXPECT_EQ(router_->Match("GET", "/segments-of-customers").status, 405);
  EXPECT_EQ(router_->Match("GET", "/customers/1").route->access, Access::kRead);
  EXPECT_EQ(router_->Match("PATCH", "/customers/1").route->access, Access::kWrite);
}

}  // namespace
}  // namespace cmfd
