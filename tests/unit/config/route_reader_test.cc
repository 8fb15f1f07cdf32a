// route_config YAML -> the plain config::RouteConfig or errors
// ("file:line:col: path: message"), and the cross-reference checks. Matching
// is the runtime table's (tests/unit/http/route_config_test.cc).
#include <gtest/gtest.h>
#include <re2/re2.h>

#include <algorithm>
#include <tuple>

#include "config/yaml_reader.h"
#include "config/route_config.h"

namespace sluice::config {
namespace {

using Errors = std::vector<std::string>;
using namespace std::chrono_literals;

struct Parsed {
  std::shared_ptr<const RouteConfig> rc;
  Errors errors;  // in file order
};

Parsed parse(const std::string& yaml) {
  ParseContext ctx("t.yaml");
  YAML::Node root = YAML::Load(yaml);
  MapReader r(ctx, root["route_config"], "route_config");
  Parsed p;
  p.rc = readRouteConfig(r);
  auto errors = ctx.errors();
  std::stable_sort(errors.begin(), errors.end(), [](const auto& a, const auto& b) {
    return std::tie(a.line, a.column) < std::tie(b.line, b.column);
  });
  for (const auto& e : errors) p.errors.push_back(e.str());
  EXPECT_NE(p.rc, nullptr);
  return p;
}

Errors errorsOf(const std::string& yaml) { return parse(yaml).errors; }

// A config whose only route starts on line 6; `route` lines are indented
// so that the route's keys sit in column 11.
std::string oneRoute(const std::string& route) {
  std::string out =
      "route_config:\n"
      "  virtual_hosts:\n"
      "    - name: v\n"
      "      domains: ['*']\n"
      "      routes:\n"
      "        - ";
  for (char c : route) out += c == '\n' ? std::string("\n          ") : std::string(1, c);
  return out + "\n";
}

// Raw strings start right after R"( so that line 1 is the first YAML line.
const char* const kFull = R"(route_config:
  request_headers_to_add: [{name: x-top, value: "1"}]
  request_headers_to_remove: [x-b]
  response_headers_to_add: [{name: server, value: sluice, append: true}]
  response_headers_to_remove: [x-internal]
  virtual_hosts:
    - name: api
      domains: ["api.example.com", "*.example.com", "api.*"]
      response_headers_to_remove: [x-vh]
      routes:
        - name: users
          match:
            prefix: /api
            case_sensitive: false
            methods: [GET, POST]
            headers:
              - {name: x-canary, exact: "1"}
              - {name: x-debug, present: true}
              - {name: ua, regex: ".*curl.*"}
              - {name: x, prefix: a, invert: true}
              - {name: s, suffix: z}
              - {name: c, contains: mid}
            query_parameters: [{name: v, exact: "2"}, {name: debug, present: true}]
          route:
            cluster: users
            prefix_rewrite: /
            host_rewrite: users.internal
            timeout: 0
          request_headers_to_add: [{name: x-route, value: r, append: true}]
        - match: {path: /exact}
          route:
            weighted_clusters: [{name: v1, weight: 90}, {name: v2, weight: 10}]
        - match: {regex: "^/v[0-9]+/.*"}
          redirect: {scheme_redirect: https, host_redirect: h, path_redirect: /p, strip_query: true, response_code: 308}
        - match: {prefix: /old}
          redirect: {prefix_rewrite: /new}
    - name: fallback
      domains: ["*"]
      routes:
        - match: {prefix: /}
          direct_response: {status: 503, body: "down", content_type: application/json}
        - match: {prefix: /}
          direct_response: {}
)";

TEST(RouteReaderTest, FullConfigRoundTrip) {
  const Parsed p = parse(kFull);
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  const RouteConfig& rc = *p.rc;

  ASSERT_EQ(rc.headers.request_headers_to_add.size(), 1u);
  EXPECT_EQ(rc.headers.request_headers_to_add[0].name, "x-top");
  EXPECT_EQ(rc.headers.request_headers_to_add[0].value, "1");
  EXPECT_FALSE(rc.headers.request_headers_to_add[0].append);
  EXPECT_EQ(rc.headers.request_headers_to_remove, (std::vector<std::string>{"x-b"}));
  ASSERT_EQ(rc.headers.response_headers_to_add.size(), 1u);
  EXPECT_EQ(rc.headers.response_headers_to_add[0].value, "sluice");
  EXPECT_TRUE(rc.headers.response_headers_to_add[0].append);
  EXPECT_EQ(rc.headers.response_headers_to_remove, (std::vector<std::string>{"x-internal"}));

  ASSERT_EQ(rc.virtual_hosts.size(), 2u);
  const VirtualHost& api = rc.virtual_hosts[0];
  EXPECT_EQ(api.name, "api");
  EXPECT_EQ(api.domains, (std::vector<std::string>{"api.example.com", "*.example.com", "api.*"}));
  EXPECT_EQ(api.headers.response_headers_to_remove, (std::vector<std::string>{"x-vh"}));
  ASSERT_EQ(api.routes.size(), 4u);

  const Route& users = api.routes[0];
  EXPECT_EQ(users.name, "users");
  EXPECT_EQ(users.match.path_kind, RouteMatch::PathKind::Prefix);
  EXPECT_EQ(users.match.path, "/api");
  EXPECT_FALSE(users.match.case_sensitive);
  EXPECT_EQ(users.match.methods, (std::vector<std::string>{"GET", "POST"}));
  using Kind = StringMatcher::Kind;
  ASSERT_EQ(users.match.headers.size(), 6u);
  const auto& h = users.match.headers;
  EXPECT_EQ(std::tie(h[0].name, h[0].matcher.kind, h[0].matcher.value), std::make_tuple("x-canary", Kind::Exact, "1"));
  EXPECT_EQ(std::tie(h[1].name, h[1].matcher.kind), std::make_tuple("x-debug", Kind::Present));
  EXPECT_EQ(std::tie(h[2].name, h[2].matcher.kind), std::make_tuple("ua", Kind::Regex));
  EXPECT_EQ(h[2].matcher.value, ".*curl.*");  // a pattern: compiled when the table is built
  EXPECT_EQ(std::tie(h[3].matcher.kind, h[3].matcher.value, h[3].matcher.invert),
            std::make_tuple(Kind::Prefix, "a", true));
  EXPECT_FALSE(h[0].matcher.invert);
  EXPECT_EQ(std::tie(h[4].matcher.kind, h[4].matcher.value), std::make_tuple(Kind::Suffix, "z"));
  EXPECT_EQ(std::tie(h[5].matcher.kind, h[5].matcher.value), std::make_tuple(Kind::Contains, "mid"));
  ASSERT_EQ(users.match.query_parameters.size(), 2u);
  const auto& q = users.match.query_parameters;
  EXPECT_EQ(std::tie(q[0].name, q[0].matcher.kind, q[0].matcher.value), std::make_tuple("v", Kind::Exact, "2"));
  EXPECT_EQ(std::tie(q[1].name, q[1].matcher.kind), std::make_tuple("debug", Kind::Present));
  ASSERT_TRUE(users.route);
  EXPECT_FALSE(users.redirect || users.direct_response);
  EXPECT_EQ(users.route->cluster, "users");
  EXPECT_EQ(users.route->cluster_loc.line, 25);
  EXPECT_EQ(users.route->cluster_loc.column, 22);
  EXPECT_EQ(users.route->prefix_rewrite, "/");
  EXPECT_EQ(users.route->host_rewrite, "users.internal");
  EXPECT_EQ(users.route->timeout, 0ms);
  ASSERT_EQ(users.headers.request_headers_to_add.size(), 1u);
  EXPECT_EQ(users.headers.request_headers_to_add[0].name, "x-route");
  EXPECT_TRUE(users.headers.request_headers_to_add[0].append);

  const Route& exact = api.routes[1];
  EXPECT_EQ(exact.name, "api/1");
  EXPECT_EQ(exact.match.path_kind, RouteMatch::PathKind::Exact);
  EXPECT_EQ(exact.match.path, "/exact");
  EXPECT_TRUE(exact.match.case_sensitive);
  ASSERT_TRUE(exact.route);
  EXPECT_TRUE(exact.route->cluster.empty());
  ASSERT_EQ(exact.route->weighted_clusters.size(), 2u);
  EXPECT_EQ(exact.route->weighted_clusters[1].name, "v2");
  EXPECT_EQ(exact.route->weighted_clusters[1].weight, 10u);
  EXPECT_EQ(exact.route->weighted_clusters[1].loc.line, 32);
  EXPECT_EQ(exact.route->weighted_clusters[1].loc.column, 64);
  EXPECT_EQ(exact.route->timeout, 15s);
  EXPECT_FALSE(exact.route->prefix_rewrite || exact.route->host_rewrite);

  const Route& regex = api.routes[2];
  EXPECT_EQ(regex.match.path_kind, RouteMatch::PathKind::Regex);
  EXPECT_EQ(regex.match.path, "^/v[0-9]+/.*");
  ASSERT_TRUE(regex.redirect);
  EXPECT_EQ(regex.redirect->scheme_redirect, "https");
  EXPECT_EQ(regex.redirect->host_redirect, "h");
  EXPECT_EQ(regex.redirect->path_redirect, "/p");
  EXPECT_FALSE(regex.redirect->prefix_rewrite);
  EXPECT_TRUE(regex.redirect->strip_query);
  EXPECT_EQ(regex.redirect->response_code, 308);

  const Route& old = api.routes[3];
  ASSERT_TRUE(old.redirect);
  EXPECT_EQ(old.redirect->prefix_rewrite, "/new");
  EXPECT_EQ(old.redirect->response_code, 301);
  EXPECT_FALSE(old.redirect->strip_query || old.redirect->scheme_redirect);

  const VirtualHost& fallback = rc.virtual_hosts[1];
  ASSERT_EQ(fallback.routes.size(), 2u);
  ASSERT_TRUE(fallback.routes[0].direct_response);
  EXPECT_EQ(fallback.routes[0].direct_response->status, 503);
  EXPECT_EQ(fallback.routes[0].direct_response->body, "down");
  EXPECT_EQ(fallback.routes[0].direct_response->content_type, "application/json");
  ASSERT_TRUE(fallback.routes[1].direct_response);
  EXPECT_EQ(fallback.routes[1].name, "fallback/1");
  EXPECT_EQ(fallback.routes[1].direct_response->status, 200);
  EXPECT_EQ(fallback.routes[1].direct_response->body, "");
  EXPECT_EQ(fallback.routes[1].direct_response->content_type, "text/plain");
}

TEST(RouteReaderTest, RouteConfigMustBeAMapping) {
  EXPECT_EQ(errorsOf("route_config: [a]\n"), (Errors{"t.yaml:1:15: route_config: expected a mapping"}));
}

TEST(RouteReaderTest, VirtualHostsRequiredAndNotEmpty) {
  EXPECT_EQ(errorsOf("route_config:\n  request_headers_to_remove: [x]\n"),
            (Errors{"t.yaml:2:3: route_config.virtual_hosts: missing required field"}));
  EXPECT_EQ(errorsOf("route_config:\n  virtual_hosts: []\n"),
            (Errors{"t.yaml:2:18: route_config.virtual_hosts: must not be empty"}));
}

TEST(RouteReaderTest, UnknownFieldsAtEveryLevel) {
  EXPECT_EQ(errorsOf(R"(route_config:
  virtual_host: []
  virtual_hosts:
    - name: v
      domain: [x]
      domains: [x]
      routes:
        - match: {prefix: /, method: [GET]}
          route: {cluster: c, timout: 1s}
          redirects: {}
)"),
            (Errors{
                "t.yaml:2:3: route_config: unknown field 'virtual_host'; did you mean 'virtual_hosts'?",
                "t.yaml:5:7: route_config.virtual_hosts[0]: unknown field 'domain'; did you mean 'domains'?",
                "t.yaml:8:30: route_config.virtual_hosts[0].routes[0].match: unknown field 'method'; did you mean "
                "'methods'?",
                "t.yaml:9:31: route_config.virtual_hosts[0].routes[0].route: unknown field 'timout'; did you mean "
                "'timeout'?",
                "t.yaml:10:11: route_config.virtual_hosts[0].routes[0]: unknown field 'redirects'; did you mean "
                "'redirect'?",
            }));
}

TEST(RouteReaderTest, VirtualHostNeedsNameAndDomains) {
  EXPECT_EQ(errorsOf(R"(route_config:
  virtual_hosts:
    - routes: []
    - name: b
      domains: []
    - name: b
      domains: [x]
)"),
            (Errors{
                "t.yaml:3:7: route_config.virtual_hosts[0].name: missing required field",
                "t.yaml:3:7: route_config.virtual_hosts[0].domains: missing required field",
                "t.yaml:5:16: route_config.virtual_hosts[1].domains: must not be empty",
                "t.yaml:6:13: route_config.virtual_hosts[2].name: duplicate virtual host name 'b' (first in "
                "route_config.virtual_hosts[1])",
            }));
}

TEST(RouteReaderTest, DomainRules) {
  EXPECT_EQ(errorsOf(R"(route_config:
  virtual_hosts:
    - name: a
      domains: [a.com, "*", "*.x.com", A.com, ""]
    - name: b
      domains: [B.com, a.COM, "*", "*.X.com", "a*b.com", "**", "a.com:80", "[::1]:80", "[::1", "c.com."]
)"),
            (Errors{
                "t.yaml:4:40: route_config.virtual_hosts[0].domains[3]: duplicate domain 'A.com'",
                "t.yaml:4:47: route_config.virtual_hosts[0].domains[4]: domain must not be empty",
                "t.yaml:6:24: route_config.virtual_hosts[1].domains[1]: domain 'a.COM' is already used by virtual "
                "host 'a'",
                "t.yaml:6:31: route_config.virtual_hosts[1].domains[2]: only one virtual host may use '*' (already "
                "in 'a')",
                "t.yaml:6:36: route_config.virtual_hosts[1].domains[3]: domain '*.X.com' is already used by "
                "virtual host 'a'",
                "t.yaml:6:47: route_config.virtual_hosts[1].domains[4]: '*' may only start (\"*.example.com\") or "
                "end (\"api.*\") a domain",
                "t.yaml:6:58: route_config.virtual_hosts[1].domains[5]: '*' may only start (\"*.example.com\") or "
                "end (\"api.*\") a domain",
                "t.yaml:6:64: route_config.virtual_hosts[1].domains[6]: domains are matched without the port; "
                "remove it",
                "t.yaml:6:76: route_config.virtual_hosts[1].domains[7]: domains are matched without the port; "
                "remove it",
                "t.yaml:6:88: route_config.virtual_hosts[1].domains[8]: unterminated '[' in domain",
                "t.yaml:6:96: route_config.virtual_hosts[1].domains[9]: domains are matched without the trailing "
                "dot; remove it",
            }));
  EXPECT_EQ(errorsOf("route_config:\n  virtual_hosts: [{name: a, domains: x}]\n"),
            (Errors{"t.yaml:2:38: route_config.virtual_hosts[0].domains: expected a list"}));
}

TEST(RouteReaderTest, MatchIsRequiredWithExactlyOnePathKind) {
  EXPECT_EQ(errorsOf(oneRoute("route: {cluster: c}")),
            (Errors{"t.yaml:6:11: route_config.virtual_hosts[0].routes[0].match: missing required field"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {methods: [GET]}\nroute: {cluster: c}")),
            (Errors{"t.yaml:6:18: route_config.virtual_hosts[0].routes[0].match: one of prefix, path, regex is "
                    "required"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /a, path: /b, regex: c}\nroute: {cluster: c}")),
            (Errors{"t.yaml:6:37: route_config.virtual_hosts[0].routes[0].match.path: only one of prefix, path, "
                    "regex may be set",
                    "t.yaml:6:48: route_config.virtual_hosts[0].routes[0].match.regex: only one of prefix, path, "
                    "regex may be set"}));
}

TEST(RouteReaderTest, PathsStartWithSlashAndMethodsAreUpperCase) {
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: api, methods: [get, GET, 'BAD METHOD']}\nroute: {cluster: c}")),
            (Errors{
                "t.yaml:6:27: route_config.virtual_hosts[0].routes[0].match.prefix: must start with '/'",
                "t.yaml:6:42: route_config.virtual_hosts[0].routes[0].match.methods[0]: invalid method 'get' "
                "(methods are upper case)",
                "t.yaml:6:52: route_config.virtual_hosts[0].routes[0].match.methods[2]: invalid method 'BAD "
                "METHOD' (methods are upper case)",
            }));
  EXPECT_EQ(errorsOf(oneRoute("match: {path: ''}\nroute: {cluster: c}")),
            (Errors{"t.yaml:6:25: route_config.virtual_hosts[0].routes[0].match.path: must start with '/'"}));
}

// RE2's own message follows "invalid regex: ".
std::string re2Error(const std::string& pattern) {
  re2::RE2::Options opts;
  opts.set_log_errors(false);
  return re2::RE2(pattern, opts).error();
}

TEST(RouteReaderTest, BadRegexReportsRe2Message) {
  const std::string msg = re2Error("(");
  ASSERT_FALSE(msg.empty());
  EXPECT_EQ(errorsOf(oneRoute("match: {regex: '('}\nroute: {cluster: c}")),
            (Errors{"t.yaml:6:26: route_config.virtual_hosts[0].routes[0].match.regex: invalid regex: " + msg}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /, headers: [{name: ua, regex: '('}]}\nroute: {cluster: c}")),
            (Errors{"t.yaml:6:58: route_config.virtual_hosts[0].routes[0].match.headers[0].regex: invalid regex: " +
                    msg}));
  EXPECT_EQ(
      errorsOf(oneRoute("match: {prefix: /, query_parameters: [{name: q, regex: 'a**'}]}\nroute: {cluster: c}")),
      (Errors{"t.yaml:6:66: route_config.virtual_hosts[0].routes[0].match.query_parameters[0].regex: invalid "
              "regex: " +
              re2Error("a**")}));
}

TEST(RouteReaderTest, StringMatcherRules) {
  EXPECT_EQ(errorsOf(oneRoute(R"(match:
  prefix: /
  headers:
    - {name: x}
    - {name: x, exact: a, prefix: b}
    - {exact: a}
    - {name: x, present: false}
    - {name: 'bad name', present: true}
    - {name: ':path', prefix: /, invert: maybe}
  query_parameters:
    - {name: '', present: true}
route: {cluster: c})")),
            (Errors{
                "t.yaml:9:17: route_config.virtual_hosts[0].routes[0].match.headers[0]: one of exact, prefix, "
                "suffix, contains, regex, present is required",
                "t.yaml:10:45: route_config.virtual_hosts[0].routes[0].match.headers[1].prefix: only one of exact, "
                "prefix, suffix, contains, regex, present may be set",
                "t.yaml:11:17: route_config.virtual_hosts[0].routes[0].match.headers[2].name: missing required "
                "field",
                "t.yaml:12:36: route_config.virtual_hosts[0].routes[0].match.headers[3].present: must be true (to "
                "match absence, add invert: true)",
                "t.yaml:13:24: route_config.virtual_hosts[0].routes[0].match.headers[4].name: invalid header name "
                "'bad name'",
                "t.yaml:14:52: route_config.virtual_hosts[0].routes[0].match.headers[5].invert: expected true or "
                "false",
                "t.yaml:16:24: route_config.virtual_hosts[0].routes[0].match.query_parameters[0].name: must not be "
                "empty",
            }));
}

TEST(RouteReaderTest, ExactlyOneAction) {
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}")),
            (Errors{"t.yaml:6:11: route_config.virtual_hosts[0].routes[0]: one of route, redirect, "
                    "direct_response is required"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute: {cluster: c}\ndirect_response: {}\nredirect: {}")),
            (Errors{"t.yaml:8:28: route_config.virtual_hosts[0].routes[0].direct_response: only one of route, "
                    "redirect, direct_response may be set",
                    "t.yaml:9:21: route_config.virtual_hosts[0].routes[0].redirect: only one of route, redirect, "
                    "direct_response may be set"}));
}

TEST(RouteReaderTest, RouteActionNeedsExactlyOneClusterKind) {
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute: {timeout: 1s}")),
            (Errors{"t.yaml:7:18: route_config.virtual_hosts[0].routes[0].route: one of cluster, "
                    "weighted_clusters is required"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute: {cluster: c, weighted_clusters: [{name: a, weight: 1}]}")),
            (Errors{"t.yaml:7:50: route_config.virtual_hosts[0].routes[0].route.weighted_clusters: only one of "
                    "cluster, weighted_clusters may be set"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute: {cluster: '', timeout: soon}")),
            (Errors{"t.yaml:7:28: route_config.virtual_hosts[0].routes[0].route.cluster: must not be empty",
                    "t.yaml:7:41: route_config.virtual_hosts[0].routes[0].route.timeout: expected a duration like "
                    "250ms, 5s, 2m, 1h"}));
}

TEST(RouteReaderTest, WeightedClusterRules) {
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute:\n  weighted_clusters: [{name: a, weight: 0}, {name: b, "
                              "weight: 0}]")),
            (Errors{"t.yaml:8:32: route_config.virtual_hosts[0].routes[0].route.weighted_clusters: total weight "
                    "must be greater than 0"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute:\n  weighted_clusters: []")),
            (Errors{"t.yaml:8:32: route_config.virtual_hosts[0].routes[0].route.weighted_clusters: must not be "
                    "empty"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute:\n  weighted_clusters: [{name: a}, {weight: -1, name: b}, "
                              "{name: c, weight: 4294967295}, {name: d, weight: 1}]")),
            (Errors{"t.yaml:8:32: route_config.virtual_hosts[0].routes[0].route.weighted_clusters: total weight "
                    "must not exceed 4294967295",
                    "t.yaml:8:33: route_config.virtual_hosts[0].routes[0].route.weighted_clusters[0].weight: "
                    "missing required field",
                    "t.yaml:8:53: route_config.virtual_hosts[0].routes[0].route.weighted_clusters[1].weight: "
                    "expected an integer between 0 and 4294967295"}));
}

TEST(RouteReaderTest, PrefixRewriteNeedsAPrefixMatch) {
  EXPECT_EQ(errorsOf(oneRoute("match: {path: /a}\nroute: {cluster: c, prefix_rewrite: /b}")),
            (Errors{"t.yaml:7:47: route_config.virtual_hosts[0].routes[0].route.prefix_rewrite: prefix_rewrite "
                    "requires a prefix match"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {regex: /a}\nredirect: {prefix_rewrite: /b}")),
            (Errors{"t.yaml:7:38: route_config.virtual_hosts[0].routes[0].redirect.prefix_rewrite: prefix_rewrite "
                    "requires a prefix match"}));
  EXPECT_TRUE(errorsOf(oneRoute("match: {prefix: /a}\nroute: {cluster: c, prefix_rewrite: /b}")).empty());
}

TEST(RouteReaderTest, RedirectRules) {
  for (int code : {301, 302, 303, 307, 308})
    EXPECT_TRUE(errorsOf(oneRoute("match: {prefix: /}\nredirect: {strip_query: true, response_code: " +
                                  std::to_string(code) + "}"))
                    .empty())
        << code;
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nredirect: {host_redirect: h, response_code: 300}")),
            (Errors{"t.yaml:7:55: route_config.virtual_hosts[0].routes[0].redirect.response_code: must be one of "
                    "301, 302, 303, 307, 308"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nredirect: {scheme_redirect: ftp, path_redirect: p, "
                              "prefix_rewrite: /x}")),
            (Errors{"t.yaml:7:39: route_config.virtual_hosts[0].routes[0].redirect.scheme_redirect: must be http or "
                    "https",
                    "t.yaml:7:59: route_config.virtual_hosts[0].routes[0].redirect.path_redirect: must start with "
                    "'/'",
                    "t.yaml:7:78: route_config.virtual_hosts[0].routes[0].redirect.prefix_rewrite: only one of "
                    "path_redirect, prefix_rewrite may be set"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nredirect: {response_code: 302}")),
            (Errors{"t.yaml:7:21: route_config.virtual_hosts[0].routes[0].redirect: redirect needs one of "
                    "scheme_redirect, host_redirect, path_redirect, prefix_rewrite, strip_query"}));
}

TEST(RouteReaderTest, DirectResponseStatusRange) {
  EXPECT_TRUE(errorsOf(oneRoute("match: {prefix: /}\ndirect_response: {status: 100}")).empty());
  EXPECT_TRUE(errorsOf(oneRoute("match: {prefix: /}\ndirect_response: {status: 599}")).empty());
  for (const char* bad : {"99", "600", "ok"}) {
    EXPECT_EQ(errorsOf(oneRoute(std::string("match: {prefix: /}\ndirect_response: {status: ") + bad + "}")),
              (Errors{"t.yaml:7:37: route_config.virtual_hosts[0].routes[0].direct_response.status: expected an "
                      "integer between 100 and 599"}))
        << bad;
  }
}

TEST(RouteReaderTest, HeaderMutationRules) {
  EXPECT_EQ(errorsOf(R"(route_config:
  request_headers_to_add: [{name: ':path', value: /x}, {name: x, value: "a\r\nb: c"}, {value: v}]
  response_headers_to_remove: [ok, 'not ok', [x]]
  virtual_hosts:
    - name: v
      domains: [a]
      request_headers_to_add: {name: x, value: y}
      routes:
        - match: {prefix: /}
          direct_response: {}
          response_headers_to_add: [{name: x, value: y, append: yes}]
)"),
            (Errors{
                "t.yaml:2:35: route_config.request_headers_to_add[0].name: invalid header name ':path'",
                "t.yaml:2:73: route_config.request_headers_to_add[1].value: header value must not contain CR or LF",
                "t.yaml:2:87: route_config.request_headers_to_add[2].name: missing required field",
                "t.yaml:3:36: route_config.response_headers_to_remove[1]: invalid header name 'not ok'",
                "t.yaml:3:46: route_config.response_headers_to_remove[2]: expected a string",
                "t.yaml:7:31: route_config.virtual_hosts[0].request_headers_to_add: expected a list",
                "t.yaml:11:65: route_config.virtual_hosts[0].routes[0].response_headers_to_add[0].append: expected "
                "true or false",
            }));
}

Config withClusters(std::initializer_list<const char*> names) {
  Config cfg;
  for (const char* n : names) {
    cfg.clusters.emplace_back();
    cfg.clusters.back().name = n;
  }
  return cfg;
}

Errors validate(const RouteConfig& rc, const Config& whole) {
  ParseContext ctx("t.yaml");
  validateRouteConfig(rc, whole, "listeners[0].http.route_config", ctx);
  Errors out;
  for (const auto& e : ctx.errors()) out.push_back(e.str());
  return out;
}

TEST(RouteReaderTest, ValidateNamesUnknownClustersAtTheirField) {
  const Parsed p = parse(R"(route_config:
  virtual_hosts:
    - name: a
      domains: [a]
      routes:
        - {match: {prefix: /}, route: {cluster: users}}
    - name: b
      domains: [b]
      routes:
        - match: {prefix: /}
          route: {cluster: nope}
        - match: {prefix: /}
          route:
            weighted_clusters: [{name: users, weight: 1}, {name: gone, weight: 1}]
        - {match: {prefix: /}, direct_response: {}}
)");
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  EXPECT_EQ(validate(*p.rc, withClusters({"users"})),
            (Errors{"t.yaml:11:28: listeners[0].http.route_config.virtual_hosts[1].routes[0].route.cluster: "
                    "unknown cluster 'nope'",
                    "t.yaml:14:66: listeners[0].http.route_config.virtual_hosts[1].routes[1].route.weighted_"
                    "clusters[1].name: unknown cluster 'gone'"}));
  EXPECT_TRUE(validate(*p.rc, withClusters({"users", "nope", "gone"})).empty());
  EXPECT_EQ(validate(*p.rc, withClusters({})).size(), 4u);
}

TEST(RouteReaderTest, ItemsThatAreNotMappingsKeepTheirIndex) {
  const Parsed p = parse(R"(route_config:
  virtual_hosts:
    - just-a-string
    - name: b
      domains: [b]
      routes:
        - 7
        - {match: {prefix: /}, route: {cluster: nope}}
)");
  EXPECT_EQ(p.errors, (Errors{"t.yaml:3:7: route_config.virtual_hosts[0]: expected a mapping",
                              "t.yaml:7:11: route_config.virtual_hosts[1].routes[0]: expected a mapping"}));
  EXPECT_EQ(p.rc->virtual_hosts[1].routes[1].name, "b/1");
  EXPECT_EQ(validate(*p.rc, withClusters({})),
            (Errors{"t.yaml:8:49: listeners[0].http.route_config.virtual_hosts[1].routes[1].route.cluster: unknown "
                    "cluster 'nope'"}));
}


TEST(RouteReaderTest, RetryPolicyOnRoutesAndVirtualHosts) {
  const Parsed p = parse(R"(route_config:
  virtual_hosts:
    - name: v
      domains: ['*']
      retry_policy: {retry_on: "5xx, reset", num_retries: 3}
      routes:
        - match: {prefix: /a}
          route:
            cluster: c
            retry_policy:
              retry_on: [gateway-error, retriable-status-codes, retriable-headers, connect-failure]
              num_retries: 2
              per_try_timeout: 250ms
              retry_back_off: {base_interval: 10ms, max_interval: 1s}
              retriable_status_codes: [409, 429]
              retriable_headers: [{name: x-retry, exact: "1"}]
              max_request_body_bytes: 1024
              retry_non_idempotent: true
        - match: {prefix: /}
          route: {cluster: c}
)");
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  const auto& vh = p.rc->virtual_hosts[0];
  ASSERT_TRUE(vh.retry_policy);
  EXPECT_EQ(vh.retry_policy->retry_on, kRetryOn5xx | kRetryOnReset);
  EXPECT_EQ(vh.retry_policy->num_retries, 3u);
  EXPECT_EQ(vh.retry_policy->base_interval, 25ms);
  EXPECT_EQ(vh.retry_policy->max_interval, 250ms);  // 10 x base by default
  EXPECT_EQ(vh.retry_policy->max_request_body_bytes, 64u * 1024);
  const auto& rp = *vh.routes[0].route->retry_policy;
  EXPECT_EQ(rp.retry_on,
            kRetryOnGatewayError | kRetryOnRetriableStatusCodes | kRetryOnRetriableHeaders | kRetryOnConnectFailure);
  EXPECT_EQ(rp.per_try_timeout, 250ms);
  EXPECT_EQ(rp.base_interval, 10ms);
  EXPECT_EQ(rp.max_interval, 1000ms);
  EXPECT_EQ(rp.retriable_status_codes, (std::vector<uint32_t>{409, 429}));
  ASSERT_EQ(rp.retriable_headers.size(), 1u);
  EXPECT_EQ(rp.max_request_body_bytes, 1024u);
  EXPECT_TRUE(rp.retry_non_idempotent);
  EXPECT_FALSE(vh.routes[1].route->retry_policy);  // the router falls back to the virtual host's
  const auto j = p.rc->toJson();
  EXPECT_EQ(j["virtual_hosts"][0]["retry_policy"]["retry_on"], nlohmann::json({"5xx", "reset"}));
  EXPECT_EQ(j["virtual_hosts"][0]["routes"][0]["route"]["retry_policy"]["per_try_timeout"], "250ms");
}

TEST(RouteReaderTest, RetryPolicyErrorsNameTheirField) {
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute: {cluster: c, retry_policy: {num_retries: 1}}")),
            (Errors{"t.yaml:7:45: route_config.virtual_hosts[0].routes[0].route.retry_policy.retry_on: missing "
                    "required field"}));
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute: {cluster: c, retry_policy: {retry_on: [5xx, sometimes]}}")),
            (Errors{"t.yaml:7:62: route_config.virtual_hosts[0].routes[0].route.retry_policy.retry_on[1]: unknown "
                    "retry_on 'sometimes' (expected 5xx, gateway-error, reset, connect-failure, refused-stream, "
                    "retriable-4xx, retriable-status-codes, retriable-headers, cancelled, deadline-exceeded, "
                    "resource-exhausted, internal, unavailable)"}));
  const Errors more = errorsOf(oneRoute(
      "match: {prefix: /}\nroute:\n  cluster: c\n  retry_policy:\n    retry_on: [retriable-status-codes]\n"
      "    num_retries: 11\n    retry_back_off: {base_interval: 100ms, max_interval: 10ms}\n"
      "    retriable_status_codes: [700]"));
  EXPECT_EQ(more,
            (Errors{"t.yaml:10:25: route_config.virtual_hosts[0].routes[0].route.retry_policy.retry_on: "
                    "retriable-status-codes needs a non-empty retriable_status_codes list",
                    "t.yaml:11:28: route_config.virtual_hosts[0].routes[0].route.retry_policy.num_retries: expected "
                    "an integer between 0 and 10",
                    "t.yaml:12:68: route_config.virtual_hosts[0].routes[0].route.retry_policy.retry_back_off."
                    "max_interval: must not be less than base_interval",
                    "t.yaml:13:40: route_config.virtual_hosts[0].routes[0].route.retry_policy.retriable_status_"
                    "codes[0]: expected an HTTP status code (100-599)"}));
}

TEST(RouteReaderTest, PerFilterConfigNamesAKnownFilterInTheChain) {
  const Parsed p = parse(R"(route_config:
  virtual_hosts:
    - name: v
      domains: ['*']
      per_filter_config:
        fault: {abort: {http_status: 503, percentage: 100}}
      routes:
        - match: {prefix: /}
          route: {cluster: c}
          per_filter_config:
            fault: {delay: {fixed_delay: 1s, percentage: 5}}
            nonsense: {}
)");
  EXPECT_EQ(p.errors, (Errors{"t.yaml:12:13: route_config.virtual_hosts[0].routes[0].per_filter_config.nonsense: "
                              "unknown http filter 'nonsense'"}));
  const auto& vh = p.rc->virtual_hosts[0];
  // Read by the filter's own reader, kept as its spec.
  ASSERT_EQ(vh.per_filter_config.size(), 1u);
  EXPECT_EQ(vh.per_filter_config[0].name, "fault");
  EXPECT_NE(vh.per_filter_config[0].spec, nullptr);
  ASSERT_EQ(vh.routes[0].per_filter_config.size(), 1u);
  EXPECT_EQ(vh.routes[0].per_filter_config[0].name, "fault");
  EXPECT_EQ(vh.routes[0].per_filter_config[0].loc.line, 11);
  EXPECT_EQ(p.rc->toJson()["virtual_hosts"][0]["routes"][0]["per_filter_config"]["fault"]["delay"]["percentage"], 5);

  // Validation: the filter must be in the listener's http_filters.
  Config whole;
  whole.clusters.push_back(ClusterConfig{});
  whole.clusters.back().name = "c";
  ParseContext ctx("t.yaml");
  validateRouteConfig(*p.rc, whole, "l.http.route_config", ctx, {});
  ASSERT_EQ(ctx.errors().size(), 2u);
  EXPECT_EQ(ctx.errors()[0].str(),
            "t.yaml:6:9: l.http.route_config.virtual_hosts[0].per_filter_config.fault: filter 'fault' is not in this "
            "listener's http_filters; add it there");
  ParseContext ok("t.yaml");
  validateRouteConfig(*p.rc, whole, "l.http.route_config", ok, {"fault"});
  EXPECT_TRUE(ok.errors().empty());
}

TEST(RouteReaderTest, ReferencedClustersAreListedOnce) {
  const Parsed p = parse(oneRoute("match: {prefix: /a}\nroute: {cluster: a}") +
                         "        - {match: {prefix: /b}, route: {weighted_clusters: [{name: b, weight: 1}, "
                         "{name: a, weight: 1}]}}\n"
                         "        - {match: {prefix: /c}, direct_response: {}}\n");
  ASSERT_TRUE(p.errors.empty()) << ::testing::PrintToString(p.errors);
  EXPECT_EQ(p.rc->referencedClusters(), (std::vector<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace sluice::config

namespace sluice::config {
namespace {

TEST(RouteReaderTest, ARouteMayCarryItsOwnHashPolicy) {
  const Parsed p = parse(oneRoute("match: {prefix: /}\nroute: {cluster: c, hash_policy: [{header: X-User}, {source_ip: true}]}"));
  ASSERT_TRUE(p.errors.empty()) << p.errors.front();
  const auto& policy = p.rc->virtual_hosts.at(0).routes.at(0).route->hash_policy;
  ASSERT_EQ(policy.size(), 2u);
  EXPECT_EQ(policy[0], (HashPolicyConfig{HashPolicyConfig::Kind::Header, "x-user"}));
  EXPECT_EQ(policy[1].kind, HashPolicyConfig::Kind::SourceIp);
  EXPECT_EQ(errorsOf(oneRoute("match: {prefix: /}\nroute: {cluster: c, hash_policy: [{header: a, cookie: b}]}")),
            (Errors{"t.yaml:7:45: route_config.virtual_hosts[0].routes[0].route.hash_policy[0]: give exactly one of "
                    "header, cookie, query_parameter, source_ip"}));
}

}  // namespace
}  // namespace sluice::config
