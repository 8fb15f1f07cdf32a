// Route table matching: virtual host selection, route conditions, cluster
// picking and header mutation. Tables come from inline YAML through the
// config reader, built as a snapshot builds them.
#include "proxy/http/route_config.h"

#include <gtest/gtest.h>

#include <re2/re2.h>

#include <map>
#include <random>

#include "config/yaml_reader.h"

namespace sluice::http {
namespace {

std::shared_ptr<const RouteConfig> load(const std::string& yaml) {
  config::ParseContext ctx("t.yaml");
  YAML::Node root = YAML::Load(yaml);
  config::MapReader r(ctx, root["route_config"], "route_config");
  auto spec = config::readRouteConfig(r);
  EXPECT_TRUE(ctx.ok()) << ctx.str();
  return RouteConfig::build(*spec);
}

HeaderMap request(std::string_view path, std::string_view authority = "h", std::string_view method = "GET") {
  HeaderMap h;
  h.add(headers::kMethod, method);
  h.add(headers::kPath, path);
  h.add(headers::kAuthority, authority);
  return h;
}

// One virtual host matching everything, with the given routes (each a
// direct_response whose body is its name) so tests read which route won.
std::shared_ptr<const RouteConfig> routes(const std::string& routes_yaml) {
  return load("route_config:\n  virtual_hosts:\n    - name: v\n      domains: ['*']\n      routes:\n" + routes_yaml);
}

// The name of the route `req` selects, or "none".
std::string winner(const RouteConfig& rc, const HeaderMap& req) {
  const Route* r = rc.route(req);
  return r == nullptr ? "none" : r->name;
}

const char* const kDomains = R"(route_config:
  virtual_hosts:
    - {name: exact, domains: [api.example.com, "[::1]", "[2001:db8::1]"]}
    - {name: star_example, domains: ["*.example.com"]}
    - {name: star_api_example, domains: ["*.api.example.com"]}
    - {name: api_prefix, domains: ["api.*"]}
    - {name: api_ex_prefix, domains: ["api.ex.*"]}
    - {name: tie_suffix, domains: ["*.ab.cd"]}
    - {name: tie_prefix, domains: ["ab.cd.*"]}
    - {name: default, domains: ["*"]}
)";

std::string vhostFor(const RouteConfig& rc, std::string_view authority) {
  const VirtualHost* vh = rc.findVirtualHost(authority);
  return vh == nullptr ? "none" : vh->name;
}

TEST(RouteConfigTest, ExactDomainBeatsWildcardBeatsDefault) {
  auto rc = load(kDomains);
  EXPECT_EQ(vhostFor(*rc, "api.example.com"), "exact");
  EXPECT_EQ(vhostFor(*rc, "www.example.com"), "star_example");
  EXPECT_EQ(vhostFor(*rc, "other.org"), "default");
  EXPECT_EQ(vhostFor(*rc, ""), "default");
}

TEST(RouteConfigTest, PortIsStrippedAndCaseIgnored) {
  auto rc = load(kDomains);
  EXPECT_EQ(vhostFor(*rc, "api.example.com:8443"), "exact");
  EXPECT_EQ(vhostFor(*rc, "API.Example.COM:80"), "exact");
  EXPECT_EQ(vhostFor(*rc, "WWW.EXAMPLE.com:1"), "star_example");
  EXPECT_EQ(vhostFor(*rc, "API.zzz"), "api_prefix");
}

// RFC 1034 3.1: "host." is the same fully qualified name as "host"; it
// picks the same virtual host, with or without a port.
TEST(RouteConfigTest, TrailingDotIsTheSameHost) {
  auto rc = load(kDomains);
  EXPECT_EQ(vhostFor(*rc, "api.example.com."), "exact");
  EXPECT_EQ(vhostFor(*rc, "API.example.com.:8443"), "exact");
  EXPECT_EQ(vhostFor(*rc, "www.example.com."), "star_example");
  EXPECT_EQ(vhostFor(*rc, "."), "default");
}

TEST(RouteConfigTest, Ipv6AuthorityKeepsBracketsAndDropsPort) {
  auto rc = load(kDomains);
  EXPECT_EQ(vhostFor(*rc, "[::1]"), "exact");
  EXPECT_EQ(vhostFor(*rc, "[::1]:8080"), "exact");
  EXPECT_EQ(vhostFor(*rc, "[2001:DB8::1]:443"), "exact");
  EXPECT_EQ(vhostFor(*rc, "[::2]:8080"), "default");
  // A bare literal has no port to strip; it must not be cut at its first colon.
  auto fe80 = load("route_config:\n  virtual_hosts: [{name: fe80, domains: [fe80]}, {name: d, domains: ['*']}]\n");
  EXPECT_EQ(vhostFor(*fe80, "fe80::1"), "d");
  EXPECT_EQ(vhostFor(*fe80, "fe80:443"), "fe80");
}

TEST(RouteConfigTest, LongestWildcardWins) {
  auto rc = load(kDomains);
  EXPECT_EQ(vhostFor(*rc, "x.api.example.com"), "star_api_example");
  EXPECT_EQ(vhostFor(*rc, "a.b.api.example.com"), "star_api_example");
  EXPECT_EQ(vhostFor(*rc, "x.example.com"), "star_example");
  EXPECT_EQ(vhostFor(*rc, "api.ex.io"), "api_ex_prefix");
  EXPECT_EQ(vhostFor(*rc, "api.io"), "api_prefix");
  // Equal length: the suffix wildcard is preferred.
  EXPECT_EQ(vhostFor(*rc, "ab.cd.ab.cd"), "tie_suffix");
  EXPECT_EQ(vhostFor(*rc, "ab.cd.x"), "tie_prefix");
}

TEST(RouteConfigTest, WildcardMatchesAtLeastOneCharacter) {
  auto rc = load(kDomains);
  EXPECT_EQ(vhostFor(*rc, "example.com"), "default");
  EXPECT_EQ(vhostFor(*rc, ".example.com"), "default");  // '*' matched nothing
  EXPECT_EQ(vhostFor(*rc, "x.example.com"), "star_example");
  EXPECT_EQ(vhostFor(*rc, "api."), "default");
}

TEST(RouteConfigTest, NoDefaultMeansNoVirtualHost) {
  auto rc = load("route_config:\n  virtual_hosts: [{name: a, domains: [a.com], routes: "
                 "[{match: {prefix: /}, direct_response: {}}]}]\n");
  EXPECT_EQ(vhostFor(*rc, "b.com"), "none");
  const VirtualHost* vh = &rc->virtual_hosts[0];
  EXPECT_EQ(rc->route(request("/", "b.com"), &vh), nullptr);
  EXPECT_EQ(vh, nullptr);
  EXPECT_NE(rc->route(request("/", "a.com"), &vh), nullptr);
  EXPECT_EQ(vh, &rc->virtual_hosts[0]);
}

TEST(RouteConfigTest, CopyLooksUpInItsOwnVirtualHosts) {
  auto rc = load(kDomains);
  const RouteConfig copy = *rc;
  EXPECT_EQ(copy.findVirtualHost("api.example.com"), &copy.virtual_hosts[0]);
  EXPECT_EQ(copy.findVirtualHost("x.example.com"), &copy.virtual_hosts[1]);
  EXPECT_EQ(copy.findVirtualHost("nothing"), &copy.virtual_hosts.back());
}

TEST(RouteConfigTest, VirtualHostIsReportedEvenWhenNoRouteMatches) {
  auto rc = routes("        - {match: {path: /only}, direct_response: {}}\n");
  const VirtualHost* vh = nullptr;
  EXPECT_EQ(rc->route(request("/other"), &vh), nullptr);
  EXPECT_EQ(vh, &rc->virtual_hosts[0]);
}

TEST(RouteConfigTest, PrefixMatchIgnoresQuery) {
  auto rc = routes("        - {name: api, match: {prefix: /api}, direct_response: {}}\n");
  EXPECT_EQ(winner(*rc, request("/api")), "api");
  EXPECT_EQ(winner(*rc, request("/api/users")), "api");
  EXPECT_EQ(winner(*rc, request("/apix")), "api");  // a string prefix, not a segment prefix
  EXPECT_EQ(winner(*rc, request("/ap?i=1")), "none");
  EXPECT_EQ(winner(*rc, request("/API")), "none");
  EXPECT_EQ(winner(*rc, request("/")), "none");
}

TEST(RouteConfigTest, ExactMatchIgnoresQuery) {
  auto rc = routes("        - {name: e, match: {path: /exact}, direct_response: {}}\n");
  EXPECT_EQ(winner(*rc, request("/exact")), "e");
  EXPECT_EQ(winner(*rc, request("/exact?x=1")), "e");
  EXPECT_EQ(winner(*rc, request("/exact/")), "none");
  EXPECT_EQ(winner(*rc, request("/exac")), "none");
  EXPECT_EQ(winner(*rc, request("/Exact")), "none");
}

TEST(RouteConfigTest, RegexIsAFullMatchOnThePathWithoutQuery) {
  auto rc = routes("        - {name: r, match: {regex: '/v[0-9]+'}, direct_response: {}}\n");
  EXPECT_EQ(winner(*rc, request("/v12")), "r");
  EXPECT_EQ(winner(*rc, request("/v12?q=/v1/x")), "r");
  EXPECT_EQ(winner(*rc, request("/v12/x")), "none");
  EXPECT_EQ(winner(*rc, request("/x/v12")), "none");
  EXPECT_EQ(winner(*rc, request("/V12")), "none");
}

TEST(RouteConfigTest, CaseInsensitiveAppliesToEveryPathKind) {
  auto rc = routes(
      "        - {name: p, match: {prefix: /API, case_sensitive: false}, direct_response: {}}\n"
      "        - {name: e, match: {path: /Exact, case_sensitive: false}, direct_response: {}}\n"
      "        - {name: r, match: {regex: '/re[a-c]+', case_sensitive: false}, direct_response: {}}\n");
  EXPECT_EQ(winner(*rc, request("/api/x")), "p");
  EXPECT_EQ(winner(*rc, request("/aPi")), "p");
  EXPECT_EQ(winner(*rc, request("/EXACT?a=b")), "e");
  EXPECT_EQ(winner(*rc, request("/exact/")), "none");
  EXPECT_EQ(winner(*rc, request("/REAbC")), "r");
  EXPECT_EQ(winner(*rc, request("/read")), "none");
}

TEST(RouteConfigTest, MethodsList) {
  auto rc = routes("        - {name: rw, match: {prefix: /, methods: [GET, POST]}, direct_response: {}}\n");
  EXPECT_EQ(winner(*rc, request("/", "h", "GET")), "rw");
  EXPECT_EQ(winner(*rc, request("/", "h", "POST")), "rw");
  EXPECT_EQ(winner(*rc, request("/", "h", "PUT")), "none");
  EXPECT_EQ(winner(*rc, request("/", "h", "get")), "none");  // methods are case-sensitive
}

// A route that needs only the given header matcher.
std::shared_ptr<const RouteConfig> headerRoute(const std::string& matcher) {
  return routes("        - {name: m, match: {prefix: /, headers: [" + matcher + "]}, direct_response: {}}\n");
}

std::string withHeader(const RouteConfig& rc, std::string_view name, std::string_view value) {
  HeaderMap req = request("/");
  req.add(name, value);
  return winner(rc, req);
}

TEST(RouteConfigTest, HeaderMatcherKinds) {
  auto exact = headerRoute("{name: x-canary, exact: '1'}");
  EXPECT_EQ(withHeader(*exact, "x-canary", "1"), "m");
  EXPECT_EQ(withHeader(*exact, "X-Canary", "1"), "m");  // header names are case-insensitive
  EXPECT_EQ(withHeader(*exact, "x-canary", "10"), "none");
  EXPECT_EQ(winner(*exact, request("/")), "none");

  auto prefix = headerRoute("{name: x, prefix: ab}");
  EXPECT_EQ(withHeader(*prefix, "x", "abc"), "m");
  EXPECT_EQ(withHeader(*prefix, "x", "cab"), "none");

  auto suffix = headerRoute("{name: x, suffix: ab}");
  EXPECT_EQ(withHeader(*suffix, "x", "cab"), "m");
  EXPECT_EQ(withHeader(*suffix, "x", "abc"), "none");

  auto contains = headerRoute("{name: x, contains: ab}");
  EXPECT_EQ(withHeader(*contains, "x", "cabc"), "m");
  EXPECT_EQ(withHeader(*contains, "x", "acb"), "none");

  auto regex = headerRoute("{name: ua, regex: '.*curl.*'}");
  EXPECT_EQ(withHeader(*regex, "ua", "curl/8.0"), "m");
  EXPECT_EQ(withHeader(*regex, "ua", "Mozilla"), "none");
  auto anchored = headerRoute("{name: ua, regex: 'curl'}");
  EXPECT_EQ(withHeader(*anchored, "ua", "curl/8.0"), "none");  // full match, not search

  auto present = headerRoute("{name: x-debug, present: true}");
  EXPECT_EQ(withHeader(*present, "x-debug", ""), "m");
  EXPECT_EQ(withHeader(*present, "x-other", "1"), "none");
}

TEST(RouteConfigTest, InvertedHeaderMatcherAcceptsAbsence) {
  auto inverted = headerRoute("{name: x, prefix: a, invert: true}");
  EXPECT_EQ(withHeader(*inverted, "x", "abc"), "none");
  EXPECT_EQ(withHeader(*inverted, "x", "bcd"), "m");
  EXPECT_EQ(winner(*inverted, request("/")), "m");

  auto absent = headerRoute("{name: x-debug, present: true, invert: true}");
  EXPECT_EQ(winner(*absent, request("/")), "m");
  EXPECT_EQ(withHeader(*absent, "x-debug", "0"), "none");
}

TEST(RouteConfigTest, AllHeaderMatchersMustMatch) {
  auto rc = headerRoute("{name: a, exact: '1'}, {name: b, exact: '2'}");
  HeaderMap req = request("/");
  req.add("a", "1");
  EXPECT_EQ(winner(*rc, req), "none");
  req.add("b", "2");
  EXPECT_EQ(winner(*rc, req), "m");
}

TEST(RouteConfigTest, PseudoHeaderMatcher) {
  auto rc = headerRoute("{name: ':method', exact: DELETE}");
  EXPECT_EQ(winner(*rc, request("/", "h", "DELETE")), "m");
  EXPECT_EQ(winner(*rc, request("/", "h", "GET")), "none");
}

TEST(RouteConfigTest, QueryParameterMatchers) {
  auto rc = routes(
      "        - name: q\n"
      "          match: {prefix: /, query_parameters: [{name: v, exact: '2'}, {name: debug, present: true}]}\n"
      "          direct_response: {}\n");
  EXPECT_EQ(winner(*rc, request("/p?v=2&debug=1")), "q");
  EXPECT_EQ(winner(*rc, request("/p?debug&v=2")), "q");     // a bare name is present
  EXPECT_EQ(winner(*rc, request("/p?v=2&debug=")), "q");
  EXPECT_EQ(winner(*rc, request("/p?v=3&debug")), "none");
  EXPECT_EQ(winner(*rc, request("/p?v=2")), "none");
  EXPECT_EQ(winner(*rc, request("/p?vv=2&debug")), "none");  // whole-name match
  EXPECT_EQ(winner(*rc, request("/p?xv=2&debug")), "none");
  EXPECT_EQ(winner(*rc, request("/p?v=3&v=2&debug")), "none");  // the first occurrence counts
  EXPECT_EQ(winner(*rc, request("/p?v=2&&debug")), "q");
  EXPECT_EQ(winner(*rc, request("/p")), "none");
  EXPECT_EQ(winner(*rc, request("/p?v%3D2&debug")), "none");  // not percent-decoded
}

TEST(RouteConfigTest, QueryParameterRegexAndInvert) {
  auto rc = routes(
      "        - name: q\n"
      "          match: {prefix: /, query_parameters: [{name: id, regex: '[0-9]+'}, {name: x, present: true, "
      "invert: true}]}\n"
      "          direct_response: {}\n");
  EXPECT_EQ(winner(*rc, request("/?id=42")), "q");
  EXPECT_EQ(winner(*rc, request("/?id=42a")), "none");
  EXPECT_EQ(winner(*rc, request("/?id=42&x")), "none");
}

TEST(RouteConfigTest, FirstMatchingRouteWins) {
  auto rc = routes(
      "        - {name: users, match: {prefix: /api/users}, direct_response: {}}\n"
      "        - {name: api, match: {prefix: /api}, direct_response: {}}\n"
      "        - {name: users_late, match: {prefix: /api/users/x}, direct_response: {}}\n"
      "        - {name: all, match: {prefix: /}, direct_response: {}}\n");
  EXPECT_EQ(winner(*rc, request("/api/users/x")), "users");
  EXPECT_EQ(winner(*rc, request("/api/orders")), "api");
  EXPECT_EQ(winner(*rc, request("/index.html")), "all");
}

TEST(RouteConfigTest, RoutesAreScopedToTheirVirtualHost) {
  auto rc = load(R"(route_config:
  virtual_hosts:
    - {name: a, domains: [a.com], routes: [{name: ra, match: {prefix: /}, direct_response: {}}]}
    - {name: b, domains: [b.com], routes: [{name: rb, match: {prefix: /}, direct_response: {}}]}
)");
  EXPECT_EQ(winner(*rc, request("/", "a.com")), "ra");
  EXPECT_EQ(winner(*rc, request("/", "B.com:80")), "rb");
  EXPECT_EQ(winner(*rc, request("/", "c.com")), "none");
}

RouteAction weighted(const std::vector<std::pair<std::string, uint32_t>>& clusters) {
  RouteConfig rc;
  VirtualHost vh;
  Route r;
  r.route.emplace();
  for (const auto& [name, weight] : clusters) {
    r.route->weighted_clusters.emplace_back();
    r.route->weighted_clusters.back().name = name;
    r.route->weighted_clusters.back().weight = weight;
  }
  vh.routes.push_back(std::move(r));
  rc.virtual_hosts.push_back(std::move(vh));
  rc.compile();  // sums the weights
  return *rc.virtual_hosts[0].routes[0].route;
}

TEST(RouteConfigTest, PickClusterWithoutWeightsIsTheCluster) {
  RouteAction a;
  a.cluster = "users";
  EXPECT_EQ(a.pickCluster(0), "users");
  EXPECT_EQ(a.pickCluster(UINT64_MAX), "users");
}

TEST(RouteConfigTest, WeightedPickIsExactOverOneCycle) {
  const RouteAction a = weighted({{"v1", 3}, {"zero", 0}, {"v2", 5}, {"v3", 2}});
  ASSERT_EQ(a.total_weight, 10u);
  // Deterministic cumulative walk: 0..2 -> v1, 3..7 -> v2, 8..9 -> v3.
  const char* const expected[] = {"v1", "v1", "v1", "v2", "v2", "v2", "v2", "v2", "v3", "v3"};
  for (uint64_t base : {uint64_t{0}, uint64_t{1000}, uint64_t{UINT64_MAX / 10 * 10 - 10}}) {
    for (uint64_t i = 0; i < 10; ++i) EXPECT_EQ(a.pickCluster(base + i), expected[i]) << base + i;
  }
  EXPECT_EQ(a.pickCluster(UINT64_MAX), "v2");  // UINT64_MAX % 10 == 5
}

TEST(RouteConfigTest, WeightedPickDistribution) {
  const RouteAction a = weighted({{"v1", 90}, {"v2", 10}});
  std::mt19937_64 rng(42);
  std::map<std::string, int> n;
  constexpr int kN = 10000;
  for (int i = 0; i < kN; ++i) ++n[a.pickCluster(rng())];
  EXPECT_EQ(n.size(), 2u);
  EXPECT_NEAR(n["v1"], 0.90 * kN, 0.015 * kN);
  EXPECT_NEAR(n["v2"], 0.10 * kN, 0.015 * kN);
}

TEST(RouteConfigTest, ParsedWeightsAreSummed) {
  auto rc = routes(
      "        - match: {prefix: /}\n"
      "          route: {weighted_clusters: [{name: a, weight: 90}, {name: b, weight: 10}]}\n");
  const RouteAction& a = *rc->virtual_hosts[0].routes[0].route;
  EXPECT_EQ(a.total_weight, 100u);
  EXPECT_EQ(a.pickCluster(89), "a");
  EXPECT_EQ(a.pickCluster(90), "b");
  EXPECT_EQ(a.pickCluster(199), "b");
}

std::vector<std::string> fields(const HeaderMap& h) {
  std::vector<std::string> out;
  h.forEach([&](std::string_view n, std::string_view v) { out.push_back(std::string(n) + "=" + std::string(v)); });
  return out;
}

TEST(RouteConfigTest, HeaderMutationRemovesThenAdds) {
  HeaderMutation m;
  m.request_headers_to_remove = {"x-a", "X-Gone"};
  m.request_headers_to_add = {{"x-a", "new", false}, {"x-set", "s", false}, {"x-app", "2", true}};
  HeaderMap h;
  h.add("x-a", "old");
  h.add("x-gone", "1");
  h.add("X-Set", "1");
  h.add("X-Set", "2");
  h.add("x-app", "1");
  h.add("keep", "k");
  m.applyToRequest(h);
  // Removal first: x-a survives with the added value. set replaces both
  // X-Set fields; append keeps the existing x-app.
  EXPECT_EQ(fields(h), (std::vector<std::string>{"x-app=1", "keep=k", "x-a=new", "x-set=s", "x-app=2"}));
}

TEST(RouteConfigTest, HeaderMutationSidesAreSeparate) {
  HeaderMutation m;
  m.response_headers_to_add = {{"server", "sluice", false}};
  m.response_headers_to_remove = {"x-internal"};
  EXPECT_FALSE(m.empty());
  EXPECT_TRUE(HeaderMutation{}.empty());

  HeaderMap req;
  req.add("x-internal", "1");
  m.applyToRequest(req);
  EXPECT_EQ(fields(req), (std::vector<std::string>{"x-internal=1"}));

  HeaderMap resp;
  resp.add("x-internal", "1");
  resp.add("server", "backend");
  m.applyToResponse(resp);
  EXPECT_EQ(fields(resp), (std::vector<std::string>{"server=sluice"}));
}

// The split: reading keeps a regex as its pattern (the config library holds
// no compiled object); building the table compiles it, and the built table
// matches with it.
TEST(RouteConfigTest, RegexesAreCompiledWhenTheTableIsBuilt) {
  config::ParseContext ctx("t.yaml");
  const YAML::Node root = YAML::Load(R"(route_config:
  virtual_hosts:
    - name: v
      domains: ['*']
      routes:
        - name: versioned
          match: {regex: "/v[0-9]+/.*", case_sensitive: false, headers: [{name: ua, regex: ".*curl.*"}]}
          direct_response: {}
)");
  config::MapReader r(ctx, root["route_config"], "route_config");
  const auto spec = config::readRouteConfig(r);
  ASSERT_TRUE(ctx.ok()) << ctx.str();
  const config::RouteMatch& read = spec->virtual_hosts[0].routes[0].match;
  EXPECT_EQ(read.path, "/v[0-9]+/.*");
  EXPECT_EQ(read.headers[0].matcher.value, ".*curl.*");

  const auto rc = RouteConfig::build(*spec);
  const RouteMatch& built = rc->virtual_hosts[0].routes[0].match;
  ASSERT_NE(built.path_regex, nullptr);
  EXPECT_EQ(built.path_regex->pattern(), "/v[0-9]+/.*");
  EXPECT_FALSE(built.path_regex->options().case_sensitive());
  ASSERT_NE(built.headers[0].matcher.regex, nullptr);
  EXPECT_EQ(built.headers[0].matcher.regex->pattern(), ".*curl.*");

  HeaderMap curl = request("/V2/users");
  curl.add("ua", "x-curl-7");
  EXPECT_EQ(winner(*rc, curl), "versioned");
  HeaderMap other = request("/V2/users");
  other.add("ua", "wget");
  EXPECT_EQ(winner(*rc, other), "none");
  EXPECT_EQ(winner(*rc, request("/v/users")), "none");
}

TEST(RouteConfigTest, PathAndQuerySplit) {
  EXPECT_EQ(pathWithoutQuery("/a/b?x=1?y"), "/a/b");
  EXPECT_EQ(queryOf("/a/b?x=1?y"), "x=1?y");
  EXPECT_EQ(pathWithoutQuery("/a"), "/a");
  EXPECT_EQ(queryOf("/a"), "");
  EXPECT_EQ(queryOf("/a?"), "");
}

}  // namespace
}  // namespace sluice::http
