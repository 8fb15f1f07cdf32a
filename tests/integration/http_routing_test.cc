// HTTP routing through the real binary with real clients (curl, raw
// sockets): virtual host choice by Host, path/method/header/query matching
// where the first matching route wins, redirects, direct responses, 404 for
// no route, rewrites and header mutation at every level, weighted traffic
// splitting, and the request metadata (x-forwarded-*, x-request-id,
// traceparent) the upstream receives.

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// Each upstream names itself in its body ("c1 GET /path\n") and sends one
// header the route config strips before the client sees it.
struct Upstreams {
  HttpUpstream c1{describeRequest("c1", {{"x-upstream-secret", "s"}})};
  HttpUpstream c2{describeRequest("c2", {{"x-upstream-secret", "s"}})};
  HttpUpstream c3{describeRequest("c3", {{"x-upstream-secret", "s"}})};
  std::vector<ClusterSpec> clusters() const {
    return {cluster("c1", {c1.port()}), cluster("c2", {c2.port()}), cluster("c3", {c3.port()})};
  }
};

std::string routingYaml(const std::string& log_path) {
  return R"(
    access_log: {path: )" + log_path + R"(, format: "%METHOD% %PATH% %STATUS% %RESPONSE_FLAGS%"}
    route_config:
      request_headers_to_add: [{name: x-global, value: g}]
      request_headers_to_remove: [x-drop-global]
      response_headers_to_add: [{name: x-global-resp, value: g}]
      response_headers_to_remove: [x-upstream-secret]
      virtual_hosts:
        - name: api
          domains: ["api.example.com"]
          request_headers_to_add: [{name: x-vhost-req, value: api}]
          response_headers_to_add: [{name: x-vhost, value: api}]
          routes:
            - match: {prefix: /api, methods: [GET], headers: [{name: x-canary, exact: "1"}], query_parameters: [{name: v, exact: "2"}]}
              route: {cluster: c2}
            - match: {prefix: /api/}
              route: {cluster: c1, prefix_rewrite: /v1/, host_rewrite: internal.svc}
              request_headers_to_add: [{name: x-route, value: rewrite}]
              request_headers_to_remove: [x-drop-me]
              response_headers_to_add: [{name: x-route-resp, value: r}]
            - match: {path: /exact}
              route: {cluster: c2}
            - match: {prefix: /v2/special}
              route: {cluster: c1}
            - match: {regex: "^/v[0-9]+/.*"}
              route: {cluster: c3}
            - match: {prefix: /old}
              redirect: {path_redirect: /new, response_code: 301}
            - match: {prefix: /health}
              direct_response: {status: 200, body: "ok\n"}
            - match: {prefix: /}
              route: {cluster: c1}
        - name: wildcard
          domains: ["*.example.com"]
          routes:
            - match: {prefix: /}
              route: {cluster: c2}
        - name: fallback
          domains: ["*"]
          routes:
            - match: {prefix: /only-here}
              route: {cluster: c3}
  )";
}

struct RouteCase {
  std::string host;
  std::string method;
  std::string target;
  HeaderList headers;
  int status;
  std::string body;  // what the client must get: "cN METHOD TARGET-AT-UPSTREAM\n"
};

CurlResult curlRequest(uint16_t port, const RouteCase& c) {
  std::vector<std::string> args = {"-X", c.method, "-H", "Host: " + c.host};
  for (const auto& [k, v] : c.headers) args.insert(args.end(), {"-H", k + ": " + v});
  args.push_back(localUrl(port, c.target));
  return curl(args);
}

TEST(HttpRouting, TableOfHostsPathsAndConditions) {
  Upstreams up;
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(renderConfig(httpConfig(routingYaml(log), up.clusters())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  const std::vector<RouteCase> cases = {
      // All conditions of the first route hold: c2, no rewrite.
      {"api.example.com", "GET", "/api/users?v=2", {{"x-canary", "1"}}, 200, "c2 GET /api/users?v=2\n"},
      // One condition fails each time: the next route (c1, prefix rewritten) wins.
      {"api.example.com", "GET", "/api/users?v=2", {}, 200, "c1 GET /v1/users?v=2\n"},
      {"api.example.com", "POST", "/api/users?v=2", {{"x-canary", "1"}}, 200, "c1 POST /v1/users?v=2\n"},
      {"api.example.com", "GET", "/api/users?v=3", {{"x-canary", "1"}}, 200, "c1 GET /v1/users?v=3\n"},
      {"api.example.com", "GET", "/api/users?v=2", {{"x-canary", "0"}}, 200, "c1 GET /v1/users?v=2\n"},
      // Exact path: the query is not part of the match; longer paths are not exact.
      {"api.example.com", "GET", "/exact", {}, 200, "c2 GET /exact\n"},
      {"api.example.com", "GET", "/exact?q=1", {}, 200, "c2 GET /exact?q=1\n"},
      {"api.example.com", "GET", "/exactly", {}, 200, "c1 GET /exactly\n"},
      {"api.example.com", "GET", "/exact/sub", {}, 200, "c1 GET /exact/sub\n"},
      // First match wins: /v2/special is listed before the regex that also matches it.
      {"api.example.com", "GET", "/v2/special/x", {}, 200, "c1 GET /v2/special/x\n"},
      {"api.example.com", "GET", "/v7/thing", {}, 200, "c3 GET /v7/thing\n"},
      {"api.example.com", "GET", "/v12/x", {}, 200, "c3 GET /v12/x\n"},
      {"api.example.com", "GET", "/v/thing", {}, 200, "c1 GET /v/thing\n"},
      // Host: case-insensitive, port ignored.
      {"API.Example.COM:8080", "GET", "/exact", {}, 200, "c2 GET /exact\n"},
      // Virtual host choice: exact domain, then *.suffix, then *.
      {"api.example.com", "GET", "/anything", {}, 200, "c1 GET /anything\n"},
      {"foo.example.com", "GET", "/anything", {}, 200, "c2 GET /anything\n"},
      {"deep.foo.example.com", "GET", "/anything", {}, 200, "c2 GET /anything\n"},
      {"other.org", "GET", "/only-here/x", {}, 200, "c3 GET /only-here/x\n"},
      // "*.example.com" does not cover example.com itself; the default host has no route.
      {"example.com", "GET", "/anything", {}, 404, ""},
      {"other.org", "GET", "/nothing", {}, 404, ""},
  };
  size_t routed = 0;
  for (const auto& c : cases) {
    SCOPED_TRACE(c.method + " " + c.target + " Host: " + c.host + " " + describeHeaders(c.headers));
    CurlResult r = curlRequest(port, c);
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.status, c.status) << r.describe();
    if (c.status == 200) {
      EXPECT_EQ(r.body, c.body) << r.describe();
      ++routed;
    }
  }
  // Nothing else reached an upstream: a 404 is answered by the proxy.
  EXPECT_EQ(up.c1.requestCount() + up.c2.requestCount() + up.c3.requestCount(), routed);

  auto lines = waitLines(log, cases.size());
  ASSERT_EQ(lines.size(), cases.size()) << "access log: " << readFile(log);
  // Workers buffer their lines separately: compare as a multiset, not in order.
  std::multiset<std::string> got(lines.begin(), lines.end());
  EXPECT_EQ(got.count("GET /anything 404 NR"), 1u) << readFile(log);
  EXPECT_EQ(got.count("GET /nothing 404 NR"), 1u) << readFile(log);
  // %PATH% is the path the client sent, before prefix_rewrite.
  EXPECT_EQ(got.count("GET /api/users?v=2 200 -"), 3u) << readFile(log);
  EXPECT_EQ(got.count("GET /v7/thing 200 -"), 1u) << readFile(log);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_4xx_total", {{"listener", "web"}}, 2));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_2xx_total", {{"listener", "web"}},
                                 static_cast<double>(routed)));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_total", {{"cluster", "c3"}},
                                 static_cast<double>(up.c3.requestCount())));
}

TEST(HttpRouting, RewritesAndHeaderMutationAtEveryLevel) {
  Upstreams up;
  TempDir logs;
  ProxyProcess proxy(renderConfig(httpConfig(routingYaml(logs.path() + "/a.log"), up.clusters())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // The rewriting route: route_config + vhost + route mutations all apply.
  CurlResult r = curl({"-H", "Host: api.example.com", "-H", "x-drop-me: 1", "-H", "x-drop-global: 1", "-H",
                       "x-keep: k", localUrl(port, "/api/users?id=7")});
  ASSERT_TRUE(r.ok()) << r.describe();
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "c1 GET /v1/users?id=7\n");
  EXPECT_EQ(r.header("x-vhost"), "api") << r.describe();
  EXPECT_EQ(r.header("x-global-resp"), "g") << r.describe();
  EXPECT_EQ(r.header("x-route-resp"), "r") << r.describe();
  EXPECT_EQ(r.header("x-upstream"), "c1") << r.describe();
  EXPECT_FALSE(r.header("x-upstream-secret")) << "response_headers_to_remove at route_config level: " << r.describe();

  auto seen = up.c1.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->target, "/v1/users?id=7") << seen->describe();
  EXPECT_EQ(countHeader(seen->headers, "host"), 1u) << seen->describe();
  EXPECT_EQ(seen->header("host"), "internal.svc") << seen->describe();
  EXPECT_EQ(seen->header("x-global"), "g") << seen->describe();
  EXPECT_EQ(seen->header("x-vhost-req"), "api") << seen->describe();
  EXPECT_EQ(seen->header("x-route"), "rewrite") << seen->describe();
  EXPECT_EQ(seen->header("x-keep"), "k") << seen->describe();
  EXPECT_FALSE(seen->header("x-drop-me")) << "route-level request_headers_to_remove: " << seen->describe();
  EXPECT_FALSE(seen->header("x-drop-global")) << "route_config-level request_headers_to_remove: " << seen->describe();

  // Another route of the same vhost: vhost and global mutations, none of the route's.
  r = curl({"-H", "Host: api.example.com", "-H", "x-drop-me: 1", localUrl(port, "/exact")});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-vhost"), "api") << r.describe();
  EXPECT_EQ(r.header("x-global-resp"), "g") << r.describe();
  EXPECT_FALSE(r.header("x-route-resp")) << r.describe();
  seen = up.c2.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->header("host"), "api.example.com") << "no host_rewrite on this route: " << seen->describe();
  EXPECT_EQ(seen->header("x-global"), "g") << seen->describe();
  EXPECT_EQ(seen->header("x-vhost-req"), "api") << seen->describe();
  EXPECT_FALSE(seen->header("x-route")) << seen->describe();
  EXPECT_EQ(seen->header("x-drop-me"), "1") << "only the rewriting route removes x-drop-me: " << seen->describe();

  // Another vhost: only the route_config level applies.
  r = curl({"-H", "Host: foo.example.com", localUrl(port, "/w")});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-global-resp"), "g") << r.describe();
  EXPECT_FALSE(r.header("x-vhost")) << r.describe();
  EXPECT_FALSE(r.header("x-upstream-secret")) << r.describe();
  seen = up.c2.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->target, "/w");
  EXPECT_EQ(seen->header("x-global"), "g") << seen->describe();
  EXPECT_FALSE(seen->header("x-vhost-req")) << seen->describe();
}

TEST(HttpRouting, RedirectAndDirectResponseNeverReachAnUpstream) {
  Upstreams up;
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(renderConfig(httpConfig(routingYaml(log), up.clusters())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  CurlResult r = curl({"-H", "Host: api.example.com", localUrl(port, "/old/page")});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.status, 301) << r.describe();
  EXPECT_EQ(r.header("location"), "http://api.example.com/new") << r.describe();

  r = curl({"-H", "Host: api.example.com", localUrl(port, "/health")});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.body, "ok\n");
  EXPECT_FALSE(r.header("x-upstream")) << r.describe();

  // The same direct response over a raw keep-alive connection, twice: it is
  // framed (Content-Length) so the connection stays usable.
  RawHttpClient c(port);
  ASSERT_TRUE(c.connected());
  for (int i = 0; i < 2; ++i) {
    HttpReply h = c.roundTrip(getRequest("/health", "api.example.com"));
    EXPECT_TRUE(h.complete) << h.describe();
    EXPECT_EQ(h.status, 200) << h.describe();
    EXPECT_EQ(h.body, "ok\n") << h.describe();
  }

  EXPECT_EQ(up.c1.requestCount() + up.c2.requestCount() + up.c3.requestCount(), 0u);
  EXPECT_EQ(up.c1.connections() + up.c2.connections() + up.c3.connections(), 0);
  auto lines = waitLines(log, 4);
  ASSERT_EQ(lines.size(), 4u) << readFile(log);
  auto count_prefix = [&](const std::string& prefix) {
    return std::count_if(lines.begin(), lines.end(), [&](const std::string& l) { return l.rfind(prefix, 0) == 0; });
  };
  EXPECT_EQ(count_prefix("GET /old/page 301 "), 1) << readFile(log);
  EXPECT_EQ(count_prefix("GET /health 200 "), 3) << readFile(log);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_3xx_total", {{"listener", "web"}}, 1));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_2xx_total", {{"listener", "web"}}, 3));
}

TEST(HttpRouting, WeightedSplitFollowsTheWeights) {
  HttpUpstream c1(describeRequest("c1")), c2(describeRequest("c2"));
  ProxyProcess proxy(renderConfig(httpConfig(R"(
    route_config:
      virtual_hosts:
        - name: all
          domains: ["*"]
          routes:
            - match: {path: /split}
              route: {weighted_clusters: [{name: c1, weight: 90}, {name: c2, weight: 10}]}
  )", {cluster("c1", {c1.port()}), cluster("c2", {c2.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  constexpr int kRequests = 10000;
  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  const std::string request = getRequest("/split", "split.test");
  std::map<std::string, int> by_body;
  for (int i = 0; i < kRequests; ++i) {
    HttpReply r = client.roundTrip(request);
    ASSERT_TRUE(r.complete && r.status == 200) << "request " << i << ": " << r.describe();
    ++by_body[r.body];
  }
  const int got_c1 = by_body["c1 GET /split\n"], got_c2 = by_body["c2 GET /split\n"];
  EXPECT_EQ(got_c1 + got_c2, kRequests) << "unexpected bodies: " << by_body.size();
  const double share = 100.0 * got_c2 / kRequests;
  EXPECT_GE(share, 8.5) << "c2 got " << got_c2 << " of " << kRequests;
  EXPECT_LE(share, 11.5) << "c2 got " << got_c2 << " of " << kRequests;
  // The upstreams and the metrics agree with what the client saw.
  EXPECT_EQ(c1.requestCount(), static_cast<size_t>(got_c1));
  EXPECT_EQ(c2.requestCount(), static_cast<size_t>(got_c2));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_total", {{"cluster", "c1"}}, got_c1));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_total", {{"cluster", "c2"}}, got_c2));
  // One client connection on one worker: the pool needs one connection per cluster.
  EXPECT_LE(c1.connections(), 2);
  EXPECT_LE(c2.connections(), 2);
}

// ---- Request metadata ----

const std::regex kUuid4("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
const std::regex kTraceparent("^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$");

std::string metadataYaml(bool generate_request_id) {
  return std::string(R"(
    xff_num_trusted_hops: 0
    generate_request_id: )") + (generate_request_id ? "true" : "false") + R"(
    route_config:
      virtual_hosts:
        - name: all
          domains: ["*"]
          routes:
            - match: {prefix: /}
              route: {cluster: c1}
  )";
}

TEST(HttpRouting, UpstreamSeesForwardedForRequestIdAndTraceparent) {
  HttpUpstream c1(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(metadataYaml(true), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // 1) Nothing from the client: everything is created.
  CurlResult r = curl({localUrl(port, "/fresh")});
  ASSERT_EQ(r.status, 200) << r.describe();
  auto seen = c1.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->header("x-forwarded-for"), "127.0.0.1") << seen->describe();
  EXPECT_EQ(seen->header("x-forwarded-proto"), "http") << seen->describe();
  const std::string id1 = seen->header("x-request-id").value_or("");
  EXPECT_TRUE(std::regex_match(id1, kUuid4)) << "x-request-id '" << id1 << "' is not a UUIDv4";
  std::smatch tp;
  const std::string traceparent1 = seen->header("traceparent").value_or("");
  ASSERT_TRUE(std::regex_match(traceparent1, tp, kTraceparent)) << "traceparent '" << traceparent1 << "'";
  EXPECT_NE(tp[1].str(), std::string(32, '0'));
  EXPECT_NE(tp[2].str(), std::string(16, '0'));

  // A second request gets ids of its own.
  r = curl({localUrl(port, "/fresh2")});
  ASSERT_EQ(r.status, 200) << r.describe();
  seen = c1.lastRequest();
  const std::string id2 = seen->header("x-request-id").value_or("");
  EXPECT_TRUE(std::regex_match(id2, kUuid4)) << id2;
  EXPECT_NE(id1, id2);
  std::smatch tp2;
  const std::string traceparent2 = seen->header("traceparent").value_or("");
  ASSERT_TRUE(std::regex_match(traceparent2, tp2, kTraceparent)) << traceparent2;
  EXPECT_NE(tp2[1].str(), tp[1].str()) << "two fresh requests share a trace id";

  // 2) The client sent its own: XFF appended, request id kept, trace continued.
  const std::string trace_id = "4bf92f3577b34da6a3ce929d0e0e4736";
  const std::string parent_span = "00f067aa0ba902b7";
  r = curl({"-H", "x-forwarded-for: 10.0.0.1", "-H", "x-forwarded-proto: https", "-H", "x-request-id: my-id-123",
            "-H", "traceparent: 00-" + trace_id + "-" + parent_span + "-01", localUrl(port, "/continued")});
  ASSERT_EQ(r.status, 200) << r.describe();
  seen = c1.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->target, "/continued");
  EXPECT_EQ(seen->header("x-forwarded-for"), "10.0.0.1, 127.0.0.1") << seen->describe();
  EXPECT_EQ(countHeader(seen->headers, "x-forwarded-for"), 1u) << seen->describe();
  EXPECT_EQ(seen->header("x-forwarded-proto"), "http")
      << "with no trusted hops the client's x-forwarded-proto must not pass: " << seen->describe();
  EXPECT_EQ(seen->header("x-request-id"), "my-id-123") << seen->describe();
  EXPECT_EQ(countHeader(seen->headers, "x-request-id"), 1u) << seen->describe();
  std::smatch tp3;
  const std::string traceparent3 = seen->header("traceparent").value_or("");
  ASSERT_TRUE(std::regex_match(traceparent3, tp3, kTraceparent)) << traceparent3;
  EXPECT_EQ(tp3[1].str(), trace_id) << "the trace id must be kept";
  EXPECT_NE(tp3[2].str(), parent_span) << "the proxy must start a span of its own";
  EXPECT_EQ(tp3[3].str(), "01") << "the trace flags must be kept";

  // 3) A malformed traceparent starts a new trace.
  r = curl({"-H", "traceparent: 00-zz-not-valid", localUrl(port, "/bad-trace")});
  ASSERT_EQ(r.status, 200) << r.describe();
  seen = c1.lastRequest();
  std::smatch tp4;
  const std::string traceparent4 = seen->header("traceparent").value_or("");
  EXPECT_TRUE(std::regex_match(traceparent4, tp4, kTraceparent)) << traceparent4;
  EXPECT_EQ(countHeader(seen->headers, "traceparent"), 1u) << seen->describe();
}

TEST(HttpRouting, RequestIdIsNotGeneratedWhenDisabled) {
  HttpUpstream c1(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(metadataYaml(false), {cluster("c1", {c1.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  CurlResult r = curl({localUrl(port, "/x")});
  ASSERT_EQ(r.status, 200) << r.describe();
  auto seen = c1.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_FALSE(seen->header("x-request-id")) << seen->describe();
  r = curl({"-H", "x-request-id: mine", localUrl(port, "/y")});
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(c1.lastRequest()->header("x-request-id"), "mine");
}

}  // namespace
}  // namespace sluice::itest
