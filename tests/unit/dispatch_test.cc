// The Dispatcher on a real SQLite store: the order of 404, 405, 403 and 413,
// the API key rules, and handler failures.
#include "http/dispatch.h"

#include <gtest/gtest.h>
#include <rapidjson/document.h>
#include <stdlib.h>

#include <chrono>
#include <filesystem>
#include <stdexcept>

#include "util/api_key.h"

namespace cmfd {
namespace {

std::string Msg(const Response& response) {
  rapidjson::Document body;
  body.Parse(response.body.c_str(), response.body.size());
  if (body.HasParseError() || !body.IsObject() || !body.HasMember("msg")) return "";
  return body["msg"].GetString();
}

std::string Header(const Response& response, const std::string& name) {
  for (const auto& [key, value] : response.headers) {
    if (key == name) return value;
  }
  return "";
}

class DispatchTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = testing::TempDir() + "cmfd_dispatch_XXXXXX";
    ASSERT_NE(mkdtemp(pattern.data()), nullptr);
    directory_ = pattern;

    Result<std::unique_ptr<Store>> store = OpenStore(directory_ + "/cmf.db", StoreOptions{});
    ASSERT_TRUE(store.ok()) << store.status().message();
    store_ = std::move(store.value());

    ASSERT_TRUE(store_->CreateApiKey("writer", HashApiKey(kWriteKey), false).ok());
    ASSERT_TRUE(store_->CreateApiKey("reports", HashApiKey(kReadKey), true).ok());

    config_.max_body_bytes = 1024;
    auto echo_key = [](const Request& request, HandlerContext&) {
      return JsonResponse(200, request.key ? request.key->name : "none");
    };
    router_.Add("GET", "/things", Access::kRead, echo_key);
    router_.Add("POST", "/things", Access::kWrite, echo_key);
    router_.Add("GET", "/things/{id}", Access::kRead,
                [](const Request& request, HandlerContext&) {
                  return JsonResponse(200, request.params.at(0));
                });
    router_.Add("GET", "/health", Access::kPublic, echo_key);
    router_.Add("GET", "/throws", Access::kPublic,
                [](const Request&, HandlerContext&) -> Response {
                  throw std::runtime_error("disk on fire");
                });
    router_.Add("GET", "/unavailable", Access::kPublic, [](const Request&, HandlerContext&) {
      return ErrorResponse(Status::Unavailable("database is restarting"));
    });
    dispatcher_ = std::make_unique<Dispatcher>(router_, *store_, config_,
                                               [this] { return now_; });
  }

  // Rebuilds the dispatcher with an API key cache of `seconds`.
  void UseKeyCache(int seconds) {
    config_.api_key_cache_seconds = seconds;
    dispatcher_ = std::make_unique<Dispatcher>(router_, *store_, config_,
                                               [this] { return now_; });
  }

  void TearDown() override {
    dispatcher_.reset();
    store_.reset();
    std::error_code ignored;
    std::filesystem::remove_all(directory_, ignored);
  }

  // Routes and executes one request; `cause` receives the 5xx description.
  Response Send(std::string method, std::string path, std::string query = "",
                std::string header_key = "", std::string body = "") {
    RawRequest raw{std::move(method), std::move(path), std::move(query), std::move(header_key),
                   std::move(body)};
    std::variant<Response, RoutedRequest> routed = dispatcher_->Route(std::move(raw));
    if (auto* response = std::get_if<Response>(&routed)) return *response;
    cause_.clear();
    return dispatcher_->Execute(std::get<RoutedRequest>(routed), cause_);
  }

  static constexpr const char* kWriteKey = "write-key-0123456789";
  static constexpr const char* kReadKey = "read-key-0123456789";

  std::string directory_;
  std::unique_ptr<Store> store_;
  Config config_;
  Router router_;
  std::unique_ptr<Dispatcher> dispatcher_;
  std::string cause_;
  ApiKeyCache::Clock::time_point now_{};  // the API key cache's clock
};

TEST_F(DispatchTest, UnknownRouteIs404BeforeKey) {
  Response response = Send("GET", "/webservice/cmf/nothing");
  EXPECT_EQ(response.status, 404);
  EXPECT_EQ(Msg(response), "No route found for \"GET /webservice/cmf/nothing\"");
  EXPECT_EQ(Send("GET", "/elsewhere/things").status, 404);
}

TEST_F(DispatchTest, WrongMethodIs405BeforeKey) {
  Response response = Send("DELETE", "/webservice/cmf/things");
  EXPECT_EQ(response.status, 405);
  EXPECT_EQ(Header(response, "Allow"), "GET, HEAD, POST");
  EXPECT_NE(Msg(response).find("Allow: GET, HEAD, POST"), std::string::npos) << Msg(response);
}

TEST_F(DispatchTest, MissingOrUnknownKeyIs403) {
  const std::string message = "API request needs either a valid API key or a valid session.";
  Response missing = Send("GET", "/webservice/cmf/things");
  EXPECT_EQ(missing.status, 403);
  EXPECT_EQ(Msg(missing), message);

  Response unknown = Send("GET", "/webservice/cmf/things", "", "not-a-key");
  EXPECT_EQ(unknown.status, 403);
  EXPECT_EQ(Msg(unknown), message);

  Response empty_query = Send("GET", "/webservice/cmf/things", "apikey=");
  EXPECT_EQ(empty_query.status, 403);
}

TEST_F(DispatchTest, KeyFromHeaderOrQuery) {
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", "", kWriteKey).body, "writer");
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", std::string("apikey=") + kReadKey).body,
            "reports");
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", std::string("apiKey=") + kReadKey).body,
            "reports");
  // The header wins over the query.
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", std::string("apikey=") + kReadKey, kWriteKey)
                .body,
            "writer");
}

TEST_F(DispatchTest, HeaderKeyWithoutSurroundingWhitespace) {
  for (const std::string header : {std::string(kWriteKey) + "  ", std::string(kWriteKey) + "\t",
                                   " \t" + std::string(kWriteKey) + " \t "}) {
    EXPECT_EQ(Send("GET", "/webservice/cmf/things", "", header).body, "writer") << header;
  }
  // Whitespace alone counts as no header, so the query key applies.
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", std::string("apikey=") + kReadKey, " \t").body,
            "reports");
  // Whitespace inside the key is part of it.
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", "", "write-key 0123456789").status, 403);
}

TEST_F(DispatchTest, ReadOnlyKeyCannotWrite) {
  Response response = Send("POST", "/webservice/cmf/things", "", kReadKey, "{}");
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(Msg(response),
            "API key \"reports\" is read-only and cannot be used for POST requests");
  EXPECT_EQ(Send("POST", "/webservice/cmf/things", "", kWriteKey, "{}").status, 200);
}

TEST_F(DispatchTest, RevokedKeyIs403OnceItsCacheEntryExpires) {
  UseKeyCache(5);
  ASSERT_EQ(Send("GET", "/webservice/cmf/things", "", kWriteKey).status, 200);
  ASSERT_TRUE(store_->RevokeApiKey("writer").ok());
  now_ += std::chrono::milliseconds(4999);
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", "", kWriteKey).status, 200);
  now_ += std::chrono::milliseconds(1);
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", "", kWriteKey).status, 403);
}

TEST_F(DispatchTest, RevokedKeyIs403AtOnceByDefault) {
  ASSERT_EQ(config_.api_key_cache_seconds, 0);
  ASSERT_EQ(Send("GET", "/webservice/cmf/things", "", kWriteKey).status, 200);
  ASSERT_TRUE(store_->RevokeApiKey("writer").ok());
  EXPECT_EQ(Send("GET", "/webservice/cmf/things", "", kWriteKey).status, 403);
}

TEST_F(DispatchTest, CachedReadOnlyKeyCannotWrite) {
  UseKeyCache(5);
  ASSERT_EQ(Send("GET", "/webservice/cmf/things", "", kReadKey).body, "reports");
  Response response = Send("POST", "/webservice/cmf/things", "", kReadKey, "{}");
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(Msg(response),
            "API key \"reports\" is read-only and cannot be used for POST requests");
}

TEST_F(DispatchTest, PublicRouteIgnoresKeys) {
  EXPECT_EQ(Send("GET", "/health").body, "none");
  EXPECT_EQ(Send("GET", "/webservice/cmf/health", "", "not-a-key").body, "none");
}

TEST_F(DispatchTest, BodyLimitAfterKey) {
  EXPECT_EQ(Send("POST", "/webservice/cmf/things", "", kWriteKey, std::string(1024, ' ')).status,
            200);

  Response over = Send("POST", "/webservice/cmf/things", "", kWriteKey, std::string(1025, ' '));
  EXPECT_EQ(over.status, 413);
  EXPECT_EQ(Msg(over), "Request body is too large: 1025 bytes, the limit is 1024 bytes");

  EXPECT_EQ(Send("POST", "/webservice/cmf/things", "", "", std::string(1025, ' ')).status, 403);
}

TEST_F(DispatchTest, PathParametersAsSent) {
  EXPECT_EQ(Send("GET", "/webservice/cmf/things/abc/", "", kReadKey).body, "abc");
  EXPECT_EQ(Send("GET", "/__customermanagementframework/webservice/things/7", "", kReadKey).body,
            "7");
}

TEST_F(DispatchTest, ExceptionBecomes500WithCause) {
  Response response = Send("GET", "/webservice/cmf/throws");
  EXPECT_EQ(response.status, 500);
  EXPECT_EQ(Msg(response), "internal error");
  EXPECT_NE(cause_.find("disk on fire"), std::string::npos) << cause_;
}

TEST_F(DispatchTest, HandlerUnavailableIs503WithCause) {
  Response response = Send("GET", "/webservice/cmf/unavailable");
  EXPECT_EQ(response.status, 503);
  EXPECT_EQ(Msg(response), "database is restarting");
  EXPECT_NE(cause_.find("database is restarting"), std::string::npos) << cause_;
}

TEST_F(DispatchTest, WritesRunOnWorkers) {
  auto routed = [&](const char* method) {
    return std::get<RoutedRequest>(
        dispatcher_->Route(RawRequest{method, "/webservice/cmf/things", "", "", ""}));
  };
  ASSERT_FALSE(store_->CallsMayBlock());
  EXPECT_FALSE(dispatcher_->NeedsWorker(routed("GET")));
  EXPECT_TRUE(dispatcher_->NeedsWorker(routed("POST")));
}

}  // namespace
}  // namespace cmfd
