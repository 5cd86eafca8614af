#include "http/router.h"

#include "http/dispatch.h"

#include <gtest/gtest.h>

#include <stdexcept>

namespace cmfd {
namespace {

Handler Named(std::string name) {
  return [name](const Request&, HandlerContext&) { return JsonResponse(200, name); };
}

Router MakeRouter() {
  Router router;
  router.Add("GET", "/customers", Access::kRead, Named("list"));
  router.Add("POST", "/customers", Access::kWrite, Named("create"));
  router.Add("PUT", "/customers", Access::kWrite, Named("create"));
  router.Add("GET", "/customers/{id}", Access::kRead, Named("get"));
  router.Add("DELETE", "/customers/{id}", Access::kWrite, Named("delete"));
  router.Add("PATCH", "/customers/{id}", Access::kWrite, Named("update"));
  router.Add("GET", "/health", Access::kPublic, Named("health"));
  return router;
}

TEST(RouterTest, MatchesLiteralRoute) {
  Router router = MakeRouter();
  RouteMatch match = router.Match("GET", "/customers");
  ASSERT_NE(match.route, nullptr);
  EXPECT_EQ(match.route->pattern, "/customers");
  EXPECT_EQ(match.route->method, "GET");
  EXPECT_EQ(match.route->access, Access::kRead);
  EXPECT_TRUE(match.params.empty());
  EXPECT_EQ(match.status, 0);
}

TEST(RouterTest, ExtractsParameterAsSent) {
  Router router = MakeRouter();
  for (const char* id : {"7", "abc", "-1", "0", "99999999999999999999999", "%37"}) {
    RouteMatch match = router.Match("GET", std::string("/customers/") + id);
    ASSERT_NE(match.route, nullptr) << id;
    EXPECT_EQ(match.route->pattern, "/customers/{id}");
    ASSERT_EQ(match.params.size(), 1u);
    EXPECT_EQ(match.params[0], id);
  }
}

TEST(RouterTest, UnknownPathIs404) {
  Router router = MakeRouter();
  for (const char* path : {"", "/", "/nothing", "/customers/7/extra", "/customers//",
                           "/customers/", "/Customers", "/customersx"}) {
    RouteMatch match = router.Match("GET", path);
    EXPECT_EQ(match.route, nullptr) << path;
    EXPECT_EQ(match.status, 404) << path;
    EXPECT_TRUE(match.allow.empty()) << path;
  }
}

TEST(RouterTest, WrongMethodIs405WithSortedAllow) {
  Router router = MakeRouter();

  RouteMatch collection = router.Match("DELETE", "/customers");
  EXPECT_EQ(collection.route, nullptr);
  EXPECT_EQ(collection.status, 405);
  EXPECT_EQ(collection.allow, "GET, HEAD, POST, PUT");

  RouteMatch item = router.Match("POST", "/customers/7");
  EXPECT_EQ(item.status, 405);
  EXPECT_EQ(item.allow, "DELETE, GET, HEAD, PATCH");

  RouteMatch health = router.Match("POST", "/health");
  EXPECT_EQ(health.status, 405);
  EXPECT_EQ(health.allow, "GET, HEAD");
}

TEST(RouterTest, HeadUsesTheGetRoute) {
  Router router = MakeRouter();
  RouteMatch item = router.Match("HEAD", "/customers/7");
  ASSERT_NE(item.route, nullptr);
  EXPECT_EQ(item.route->method, "GET");
  EXPECT_EQ(item.route->pattern, "/customers/{id}");
  EXPECT_EQ(item.params, std::vector<std::string>{"7"});

  RouteMatch collection = router.Match("DELETE", "/customers");
  EXPECT_EQ(collection.allow, "GET, HEAD, POST, PUT");
  EXPECT_EQ(router.Match("HEAD", "/nothing").status, 404);

  // A pattern without GET does not serve HEAD.
  router.Add("POST", "/imports", Access::kWrite, Named("import"));
  RouteMatch import = router.Match("HEAD", "/imports");
  EXPECT_EQ(import.route, nullptr);
  EXPECT_EQ(import.status, 405);
  EXPECT_EQ(import.allow, "POST");

  // A HEAD route of its own wins, and HEAD is listed once.
  router.Add("HEAD", "/health", Access::kPublic, Named("head"));
  RouteMatch head = router.Match("HEAD", "/health");
  ASSERT_NE(head.route, nullptr);
  EXPECT_EQ(head.route->method, "HEAD");
  EXPECT_EQ(router.Match("POST", "/health").allow, "GET, HEAD");
}

TEST(RouterTest, MethodIsCaseSensitive) {
  Router router = MakeRouter();
  RouteMatch match = router.Match("get", "/customers");
  EXPECT_EQ(match.status, 405);
}

TEST(RouterTest, LiteralBeatsParameter) {
  Router router;
  router.Add("GET", "/segments/{id}", Access::kRead, Named("get"));
  router.Add("POST", "/segments/export", Access::kWrite, Named("export"));

  RouteMatch literal = router.Match("POST", "/segments/export");
  ASSERT_NE(literal.route, nullptr);
  EXPECT_EQ(literal.route->pattern, "/segments/export");

  // The literal pattern decides the 405, even though /segments/{id} has GET.
  RouteMatch wrong_method = router.Match("GET", "/segments/export");
  EXPECT_EQ(wrong_method.status, 405);
  EXPECT_EQ(wrong_method.allow, "POST");

  RouteMatch parameter = router.Match("GET", "/segments/5");
  ASSERT_NE(parameter.route, nullptr);
  EXPECT_EQ(parameter.route->pattern, "/segments/{id}");
}

TEST(RouterTest, SeveralParameters) {
  Router router;
  router.Add("GET", "/a/{x}/b/{y}", Access::kRead, Named("ab"));
  RouteMatch match = router.Match("GET", "/a/1/b/2");
  ASSERT_NE(match.route, nullptr);
  ASSERT_EQ(match.params.size(), 2u);
  EXPECT_EQ(match.params[0], "1");
  EXPECT_EQ(match.params[1], "2");
  EXPECT_EQ(router.Match("GET", "/a/1/c/2").status, 404);
}

TEST(RouterTest, RejectsMalformedPatterns) {
  Router router;
  EXPECT_THROW(router.Add("GET", "", Access::kRead, Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/", Access::kRead, Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "customers", Access::kRead, Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a//b", Access::kRead, Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a/{id", Access::kRead, Named("x")), std::invalid_argument);
  EXPECT_THROW(router.Add("GET", "/a/{}", Access::kRead, Named("x")), std::invalid_argument);
}

TEST(RouterTest, RejectsDuplicateRoute) {
  Router router;
  router.Add("GET", "/a/{id}", Access::kRead, Named("x"));
  EXPECT_THROW(router.Add("GET", "/a/{other}", Access::kRead, Named("y")), std::invalid_argument);
  EXPECT_NO_THROW(router.Add("PUT", "/a/{other}", Access::kWrite, Named("z")));
  EXPECT_EQ(router.Match("POST", "/a/1").allow, "GET, HEAD, PUT");
}

TEST(RoutingPathTest, StripsEitherPrefix) {
  EXPECT_EQ(RoutingPath("/webservice/cmf/customers"), "/customers");
  EXPECT_EQ(RoutingPath("/__customermanagementframework/webservice/customers/7"),
            "/customers/7");
}

TEST(RoutingPathTest, DropsOneTrailingSlash) {
  EXPECT_EQ(RoutingPath("/webservice/cmf/customers/"), "/customers");
  EXPECT_EQ(RoutingPath("/webservice/cmf/customers//"), "/customers/");
  EXPECT_EQ(RoutingPath("/webservice/cmf/"), "/");
  EXPECT_EQ(RoutingPath("/webservice/cmf"), "");
}

TEST(RoutingPathTest, HealthAtTheRoot) {
  EXPECT_EQ(RoutingPath("/health"), "/health");
  EXPECT_EQ(RoutingPath("/health/"), "/health");
  EXPECT_EQ(RoutingPath("/webservice/cmf/health"), "/health");
}

TEST(RoutingPathTest, OtherPathsOutsideThePrefixes) {
  for (const char* path : {"/", "", "/customers", "/webservice/cmfx/customers",
                           "/webservice/customers", "/healthz", "/health/x",
                           "/WEBSERVICE/cmf/customers"}) {
    EXPECT_FALSE(RoutingPath(path).has_value()) << path;
  }
}

}  // namespace
}  // namespace cmfd
