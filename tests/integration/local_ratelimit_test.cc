// Local rate limiting through the real binary (2 workers, so requests land on
// both and share each bucket): a route's bucket admits exactly N through curl
// and answers 429 with retry-after and x-ratelimit-*; buckets refill; virtual
// host and route buckets are independent; per-key buckets by header and by
// path (the query is not part of the key); shadow mode; the L4 filter refuses
// connections beyond its bucket in front of tcp_proxy and http; the counters
// on /metrics.
//
// Buckets that must not refill during a test use a 60 s interval (epochs are
// counted from config load, so none ends while the test runs); refill tests
// use 300 ms.

#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

constexpr const char* kRequests = "sluice_local_ratelimit_requests_total";
constexpr const char* kConnections = "sluice_local_ratelimit_connections_total";

Labels result(const std::string& prefix, const std::string& r) { return {{"stat_prefix", prefix}, {"result", r}}; }

// An http: mapping with the listener-level filter `filter` (one flow mapping)
// and the virtual host body `vhost` (indented by 6 under `- name: all`).
std::string httpYaml(const std::string& filter, const std::string& vhost, const std::string& log = "") {
  std::string y;
  if (!log.empty()) y += "access_log: {path: " + log + ", format: json}\n";
  y += "http_filters:\n  - local_ratelimit: " + filter + "\n";
  y += "route_config:\n  virtual_hosts:\n    - name: all\n      domains: [\"*\"]\n" + vhost;
  return y;
}

int status(uint16_t port, const std::string& path, std::vector<std::string> extra = {}) {
  extra.push_back(localUrl(port, path));
  return curl(extra).status;
}

TEST(LocalRateLimit, RouteBucketAdmitsExactlyNThenAnswers429WithHeaders) {
  HttpUpstream up(describeRequest("c1"));
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(renderConfig(httpConfig(httpYaml("{stat_prefix: edge}", R"(      routes:
        - match: {prefix: /limited}
          route: {cluster: c1}
          per_filter_config:
            local_ratelimit:
              stat_prefix: limited
              token_bucket: {max_tokens: 5, tokens_per_fill: 5, fill_interval: 60s}
        - match: {prefix: /}
          route: {cluster: c1}
)",
                                                             log),
                                             {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  for (int i = 0; i < 5; ++i) {
    CurlResult r = curl({localUrl(port, "/limited/" + std::to_string(i))});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.describe();
  }
  for (int i = 5; i < 8; ++i) {
    CurlResult r = curl({localUrl(port, "/limited/" + std::to_string(i))});
    ASSERT_TRUE(r.ok()) << r.describe();
    ASSERT_EQ(r.status, 429) << "request " << i << ": " << r.describe();
    EXPECT_EQ(r.body, "local_rate_limited\n");
    EXPECT_EQ(r.header("x-ratelimit-limit"), "5") << r.describe();
    EXPECT_EQ(r.header("x-ratelimit-remaining"), "0") << r.describe();
    ASSERT_TRUE(r.header("retry-after")) << r.describe();
    const int retry = std::stoi(*r.header("retry-after"));
    EXPECT_GE(retry, 1);
    EXPECT_LE(retry, 60);
    EXPECT_EQ(r.header("x-ratelimit-reset"), r.header("retry-after")) << r.describe();
  }
  // The listener has no bucket of its own: other routes are not limited.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(status(port, "/free"), 200);
  EXPECT_EQ(up.requestCount(), 15u) << "a limited request reached the upstream";

  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("limited", "ok"), 5));
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("limited", "limited"), 3));
  EXPECT_EQ(metricOr0(proxy, kRequests, result("edge", "ok")), 0) << "the listener config has no bucket";
  auto e = waitJsonEntry(log, "path", "/limited/5");
  ASSERT_TRUE(e) << readFile(log);
  EXPECT_EQ(field(*e, "status"), "429") << e->dump();
  EXPECT_NE(field(*e, "response_flags").find("RL"), std::string::npos) << e->dump();
}

TEST(LocalRateLimit, BucketRefillsAfterTheInterval) {
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(
      httpYaml("{stat_prefix: refill, token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 300ms}}",
               "      routes: [{match: {prefix: /}, route: {cluster: c1}}]\n"),
      {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());

  // Drain the bucket (a fill may land in between: bounded loop).
  HttpReply r;
  int allowed = 0;
  for (int i = 0; i < 20; ++i) {
    r = client.roundTrip(getRequest("/r"));
    if (r.status != 200) break;
    ++allowed;
  }
  ASSERT_EQ(r.status, 429) << r.describe();
  EXPECT_GE(allowed, 2);
  EXPECT_EQ(r.header("retry-after"), "1") << "300 ms rounds up to 1 s: " << r.describe();
  // A 429 on HTTP/1 ends the request early: the proxy may close; use a new connection.
  std::this_thread::sleep_for(350ms);  // at least one whole interval
  RawHttpClient again(port);
  ASSERT_TRUE(again.connected());
  r = again.roundTrip(getRequest("/r"));
  EXPECT_EQ(r.status, 200) << "no refill after a whole interval: " << r.describe();
  EXPECT_TRUE(proxy.waitMetricAtLeast(kRequests, result("refill", "ok"), allowed + 1));
  EXPECT_TRUE(proxy.waitMetricAtLeast(kRequests, result("refill", "limited"), 1));
}

TEST(LocalRateLimit, VirtualHostAndRouteBucketsAreIndependent) {
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(httpYaml("{stat_prefix: edge}", R"(      per_filter_config:
        local_ratelimit: {stat_prefix: vhost, token_bucket: {max_tokens: 3, tokens_per_fill: 3, fill_interval: 60s}}
      routes:
        - match: {prefix: /own}
          route: {cluster: c1}
          per_filter_config:
            local_ratelimit: {stat_prefix: own, token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 60s}}
        - match: {prefix: /a}
          route: {cluster: c1}
        - match: {prefix: /b}
          route: {cluster: c1}
)"),
                                             {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  EXPECT_EQ(status(port, "/own"), 200);
  EXPECT_EQ(status(port, "/own"), 200);
  EXPECT_EQ(status(port, "/own"), 429);
  // /a and /b share the virtual host's bucket of 3, untouched by /own.
  EXPECT_EQ(status(port, "/a"), 200);
  EXPECT_EQ(status(port, "/b"), 200);
  EXPECT_EQ(status(port, "/a"), 200);
  EXPECT_EQ(status(port, "/b"), 429);
  EXPECT_EQ(status(port, "/a"), 429);
  EXPECT_EQ(status(port, "/own"), 429);
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("vhost", "ok"), 3));
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("vhost", "limited"), 2));
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("own", "ok"), 2));
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("own", "limited"), 2));
}

// Buckets are state of the built config: a reload that leaves a listener and
// its route table alone keeps them (spent tokens stay spent), while a
// changed route table gets new ones, and so does a changed listener.
TEST(LocalRateLimit, ReloadKeepsTheBucketsOfWhatItDidNotChange) {
  HttpUpstream up(describeRequest("c1"));
  auto configWith = [&](int route_tokens, const std::string& other_cluster, int listener_tokens) {
    return renderConfig(httpConfig(
        httpYaml("{stat_prefix: edge, token_bucket: {max_tokens: " + std::to_string(listener_tokens) +
                     ", tokens_per_fill: 1, fill_interval: 60s}}",
                 R"(      routes:
        - match: {prefix: /own}
          route: {cluster: c1}
          per_filter_config:
            local_ratelimit: {stat_prefix: own, token_bucket: {max_tokens: )" +
                     std::to_string(route_tokens) + R"(, tokens_per_fill: 1, fill_interval: 60s}}
        - match: {prefix: /}
          route: {cluster: c1}
)"),
        {cluster("c1", {up.port()}), cluster(other_cluster, {up.port()})}));
  };
  ProxyProcess proxy(configWith(1, "x1", 2));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  EXPECT_EQ(status(port, "/own"), 200);
  EXPECT_EQ(status(port, "/own"), 429);
  // Other paths spend the listener-level bucket (/own's route overrides it).
  EXPECT_EQ(status(port, "/"), 200);
  EXPECT_EQ(status(port, "/"), 200);
  EXPECT_EQ(status(port, "/"), 429);

  // Only a cluster is renamed: the listener and its table are the same, and
  // so are their buckets.
  proxy.writeConfig(configWith(1, "x2", 2));
  HttpResponse r = proxy.post("/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(status(port, "/own"), 429) << "an unrelated reload refilled the route's bucket";
  EXPECT_EQ(status(port, "/"), 429) << "an unrelated reload refilled the listener's bucket";

  // The route's limit changes: its table is built anew, with a full bucket.
  proxy.writeConfig(configWith(2, "x2", 2));
  r = proxy.post("/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(status(port, "/own"), 200);
  EXPECT_EQ(status(port, "/own"), 200);
  EXPECT_EQ(status(port, "/own"), 429);
  // Routes alone changed: the listener, and its bucket, stayed.
  EXPECT_EQ(status(port, "/"), 429);

  // The listener's own limit changes: it is replaced, with a full bucket.
  proxy.writeConfig(configWith(2, "x2", 3));
  r = proxy.post("/reload");
  ASSERT_EQ(r.status, 200) << r.body;
  const uint16_t new_port = proxy.listenerPort("web").value_or(0);  // a changed listener is bound anew
  EXPECT_EQ(status(new_port, "/"), 200);
}

TEST(LocalRateLimit, PerKeyByHeaderGivesEachKeyItsOwnBudget) {
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(
      httpYaml("{stat_prefix: users, per_key: {source: header, header: x-user, max_keys: 100}, "
               "token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 60s}}",
               "      routes: [{match: {prefix: /}, route: {cluster: c1}}]\n"),
      {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  for (const char* user : {"alice", "bob", "carol"}) {
    const std::vector<std::string> h = {"-H", std::string("x-user: ") + user};
    EXPECT_EQ(status(port, "/", h), 200) << user;
    EXPECT_EQ(status(port, "/", h), 200) << user;
    EXPECT_EQ(status(port, "/", h), 429) << user;
  }
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("users", "ok"), 6));
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("users", "limited"), 3));
  EXPECT_EQ(metricOr0(proxy, "sluice_local_ratelimit_key_table_full_total", {{"stat_prefix", "users"}}), 0);
}

TEST(LocalRateLimit, PerKeyByPathGivesEachPathItsOwnBudgetWhateverItsQuery) {
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(
      httpYaml("{stat_prefix: paths, per_key: {source: path, max_keys: 100}, "
               "token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 60s}}",
               "      routes: [{match: {prefix: /}, route: {cluster: c1}}]\n"),
      {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // Interleaved, so one shared bucket would run dry at the third request.
  EXPECT_EQ(status(port, "/a"), 200);
  EXPECT_EQ(status(port, "/b"), 200);
  // The key is the path without the query (README): a new query is no new budget.
  EXPECT_EQ(status(port, "/a?page=1"), 200);
  EXPECT_EQ(status(port, "/b?page=2"), 200);
  CurlResult a3 = curl({localUrl(port, "/a?page=3")});
  EXPECT_EQ(a3.status, 429) << "a third request for /a: " << a3.describe();
  EXPECT_EQ(a3.header("x-ratelimit-limit"), "2") << a3.describe();
  EXPECT_EQ(status(port, "/b"), 429) << "a third request for /b";
  // A longer path is another key.
  EXPECT_EQ(status(port, "/a/b"), 200);

  std::vector<std::string> targets;
  for (const auto& r : up.requests()) targets.push_back(r.target);
  EXPECT_EQ(targets, (std::vector<std::string>{"/a", "/b", "/a?page=1", "/b?page=2", "/a/b"}))
      << "limited requests reached the upstream, or a query was not forwarded as sent";
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("paths", "ok"), 5));
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("paths", "limited"), 2));
  EXPECT_EQ(metricOr0(proxy, "sluice_local_ratelimit_key_table_full_total", {{"stat_prefix", "paths"}}), 0);
}

TEST(LocalRateLimit, ShadowModeLetsEverythingThroughAndCounts) {
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess proxy(renderConfig(httpConfig(
      httpYaml("{stat_prefix: shadow, shadow: true, response_headers: true, "
               "token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 60s}}",
               "      routes: [{match: {prefix: /}, route: {cluster: c1}}]\n"),
      {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  for (int i = 0; i < 6; ++i) {
    CurlResult r = curl({localUrl(port, "/s")});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.describe();
    EXPECT_EQ(r.header("x-ratelimit-limit"), "2") << r.describe();
    EXPECT_EQ(r.header("x-ratelimit-remaining"), i == 0 ? "1" : "0") << r.describe();
    EXPECT_FALSE(r.header("retry-after")) << r.describe();
  }
  EXPECT_EQ(up.requestCount(), 6u);
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("shadow", "ok"), 2));
  EXPECT_TRUE(proxy.waitMetricEq(kRequests, result("shadow", "shadow_limited"), 4));
  EXPECT_EQ(metricOr0(proxy, kRequests, result("shadow", "limited")), 0);
}

// Two listeners, each with the L4 filter in front of its terminal filter.
std::string l4Config(uint16_t echo_port, uint16_t http_port) {
  return R"(admin: {address: 127.0.0.1:0}
workers: 2
listeners:
  - name: tcp
    address: 127.0.0.1:0
    local_ratelimit: {stat_prefix: tcp, token_bucket: {max_tokens: 3, tokens_per_fill: 3, fill_interval: 60s}}
    tcp_proxy: {cluster: echo}
  - name: web
    address: 127.0.0.1:0
    local_ratelimit: {stat_prefix: web, token_bucket: {max_tokens: 2, tokens_per_fill: 2, fill_interval: 60s}}
    http:
      route_config:
        virtual_hosts:
          - {name: all, domains: ["*"], routes: [{match: {prefix: /}, route: {cluster: backend}}]}
clusters:
  - name: echo
    connect_timeout: 1s
    endpoints: [{address: 127.0.0.1:)" +
         std::to_string(echo_port) + R"(}]
  - name: backend
    connect_timeout: 1s
    endpoints: [{address: 127.0.0.1:)" +
         std::to_string(http_port) + "}]\n";
}

TEST(LocalRateLimit, L4FilterRefusesConnectionsBeyondTheBucket) {
  TestServer echo(echoHandler());
  HttpUpstream up(describeRequest("backend"));
  ProxyProcess proxy(l4Config(echo.port(), up.port()));
  ASSERT_TRUE(proxy.start());
  auto tcp = proxy.waitListener("tcp");
  auto web = proxy.waitListener("web");
  ASSERT_TRUE(tcp && web);

  // Admitted connections stay open side by side and are proxied.
  std::vector<Fd> open;
  for (int i = 0; i < 3; ++i) {
    Fd c = connectLoopback(*tcp);
    ASSERT_TRUE(c);
    EXPECT_EQ(echoRoundTrip(c.get(), "hello " + std::to_string(i)), "") << "connection " << i;
    open.push_back(std::move(c));
  }
  // Beyond the bucket: the kernel completes the handshake, the proxy closes
  // at once, and the upstream never sees the connection.
  for (int i = 0; i < 2; ++i) {
    Fd c = connectLoopback(*tcp);
    ASSERT_TRUE(c);
    ReadToClose rc = readUntilClosed(c.get(), Deadline(3s));
    EXPECT_NE(rc.how, CloseKind::kTimeout) << "refused connection " << i << " was not closed";
    EXPECT_EQ(rc.bytes, 0u);
  }
  EXPECT_EQ(echo.acceptedCount(), 3);
  for (auto& c : open) EXPECT_EQ(echoRoundTrip(c.get(), "still here"), "");

  // In front of http: curl gets no response at all beyond the bucket.
  EXPECT_EQ(status(*web, "/"), 200);
  EXPECT_EQ(status(*web, "/"), 200);
  CurlResult r = curl({localUrl(*web, "/")});
  EXPECT_FALSE(r.ok()) << r.describe();
  EXPECT_EQ(r.status, 0) << r.describe();
  EXPECT_EQ(up.requestCount(), 2u);

  EXPECT_TRUE(proxy.waitMetricEq(kConnections, result("tcp", "ok"), 3));
  EXPECT_TRUE(proxy.waitMetricEq(kConnections, result("tcp", "limited"), 2));
  EXPECT_TRUE(proxy.waitMetricEq(kConnections, result("web", "ok"), 2));
  EXPECT_TRUE(proxy.waitMetricEq(kConnections, result("web", "limited"), 1));
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_cx_active", {{"listener", "tcp"}}, 3));
}

}  // namespace
}  // namespace sluice::itest
