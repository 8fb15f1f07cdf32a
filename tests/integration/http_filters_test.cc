// HTTP filters through the real binary: fault (abort answers locally and
// the upstream sees nothing; delay holds the request), header_mutation
// (request headers seen by the upstream, response headers seen by the
// client), and the order of the chain (a local reply runs through the
// encoder filters).

#include <gtest/gtest.h>

#include <string>

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

const Labels kWeb{{"listener", "web"}};

// `filters` is the body of http_filters (a YAML list, indented 2).
std::string filtersYaml(const std::string& log, const std::string& filters) {
  return "access_log: {path: " + log + ", format: json}\nhttp_filters:\n" + filters + R"(
route_config:
  virtual_hosts:
    - name: all
      domains: ["*"]
      routes:
        - match: {prefix: /}
          route: {cluster: c1}
)";
}

TEST(HttpFilters, FaultAbortAnswersWithoutTheUpstream) {
  HttpUpstream up(describeRequest("c1"));
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(renderConfig(httpConfig(
      filtersYaml(log, "  - fault: {abort: {http_status: 503, percentage: 100}}"), {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  for (int i = 0; i < 5; ++i) {
    CurlResult r = curl({localUrl(port, "/abort/" + std::to_string(i))});
    ASSERT_TRUE(r.ok()) << r.describe();
    EXPECT_EQ(r.status, 503) << r.describe();
  }
  EXPECT_EQ(up.connections(), 0) << "an aborted request reached the upstream";
  EXPECT_EQ(up.requestCount(), 0u);
  auto e = waitJsonEntry(log, "path", "/abort/0");
  ASSERT_TRUE(e) << readFile(log);
  EXPECT_EQ(field(*e, "status"), "503") << e->dump();
  EXPECT_NE(field(*e, "response_flags").find("FI"), std::string::npos) << e->dump();
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_5xx_total", kWeb, 5));
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_total", {{"cluster", "c1"}}), 0);
}

TEST(HttpFilters, FaultWithZeroPercentNeverFires) {
  HttpUpstream up(describeRequest("c1"));
  TempDir logs;
  ProxyProcess proxy(renderConfig(
      httpConfig(filtersYaml(logs.path() + "/a.log",
                             "  - fault: {abort: {http_status: 503, percentage: 0}, delay: {fixed_delay: 2s, percentage: 0}}"),
                 {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  auto start = Clock::now();
  for (int i = 0; i < 20; ++i) {
    HttpReply r = client.roundTrip(getRequest("/z"));
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.describe();
  }
  EXPECT_LT(msSince(start), 1500) << "a 0% delay was applied";
  EXPECT_EQ(up.requestCount(), 20u);
}

TEST(HttpFilters, FaultDelayHoldsTheRequest) {
  HttpUpstream up(describeRequest("c1"));
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(renderConfig(httpConfig(
      filtersYaml(log, "  - fault: {delay: {fixed_delay: 200ms, percentage: 100}}"), {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 3; ++i) {
    const std::string path = "/delayed/" + std::to_string(i);
    auto start = Clock::now();
    HttpReply r = client.roundTrip(getRequest(path), 5s);
    const long long elapsed = msSince(start);
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.body, "c1 GET " + path + "\n") << r.describe();
    EXPECT_GE(elapsed, 200) << "the response came before the 200 ms delay";
    EXPECT_LT(elapsed, 2000);
  }
  EXPECT_EQ(up.requestCount(), 3u);
  auto e = waitJsonEntry(log, "path", "/delayed/0");
  ASSERT_TRUE(e) << readFile(log);
  EXPECT_NE(field(*e, "response_flags").find("DI"), std::string::npos) << e->dump();
}

TEST(HttpFilters, FaultDelayThenAbort) {
  HttpUpstream up(describeRequest("c1"));
  TempDir logs;
  ProxyProcess proxy(renderConfig(httpConfig(
      filtersYaml(logs.path() + "/a.log",
                  "  - fault: {delay: {fixed_delay: 200ms, percentage: 100}, abort: {http_status: 429, percentage: 100}}"),
      {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  auto start = Clock::now();
  CurlResult r = curl({localUrl(port, "/both")});
  EXPECT_EQ(r.status, 429) << r.describe();
  EXPECT_GE(msSince(start), 200);
  EXPECT_EQ(up.connections(), 0);
}

TEST(HttpFilters, HeaderMutationOnRequestAndResponse) {
  HttpUpstream up(describeRequest("c1", {{"server", "upstream-x"}, {"x-upstream-private", "p"}}));
  TempDir logs;
  ProxyProcess proxy(renderConfig(httpConfig(filtersYaml(logs.path() + "/a.log", R"(  - header_mutation:
      request_headers_to_add: [{name: x-a, value: "1"}, {name: x-env, value: prod}]
      request_headers_to_remove: [x-internal]
      response_headers_to_add: [{name: x-served-by, value: sluice}]
      response_headers_to_remove: [server, x-upstream-private])"),
                                             {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  CurlResult r = curl({"-H", "x-internal: secret", "-H", "x-env: dev", "-H", "x-other: o", localUrl(port, "/m")});
  ASSERT_TRUE(r.ok()) << r.describe();
  ASSERT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("x-served-by"), "sluice") << r.describe();
  EXPECT_FALSE(r.header("x-upstream-private")) << r.describe();
  EXPECT_NE(r.header("server"), "upstream-x") << r.describe();
  auto seen = up.lastRequest();
  ASSERT_TRUE(seen);
  EXPECT_EQ(seen->header("x-a"), "1") << seen->describe();
  EXPECT_EQ(seen->header("x-env"), "prod") << "append: false replaces: " << seen->describe();
  EXPECT_EQ(countHeader(seen->headers, "x-env"), 1u) << seen->describe();
  EXPECT_FALSE(seen->header("x-internal")) << seen->describe();
  EXPECT_EQ(seen->header("x-other"), "o") << seen->describe();
}

TEST(HttpFilters, LocalReplyRunsThroughEarlierEncoderFilters) {
  HttpUpstream up(describeRequest("c1"));
  TempDir logs;
  ProxyProcess proxy(renderConfig(httpConfig(filtersYaml(logs.path() + "/a.log", R"(  - header_mutation:
      response_headers_to_add: [{name: x-served-by, value: sluice}]
  - fault: {abort: {http_status: 503, percentage: 100}})"),
                                             {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  CurlResult r = curl({localUrl(port, "/x")});
  EXPECT_EQ(r.status, 503) << r.describe();
  EXPECT_EQ(r.header("x-served-by"), "sluice") << "the fault's local reply skipped header_mutation: " << r.describe();
  EXPECT_EQ(up.connections(), 0);
}

}  // namespace
}  // namespace sluice::itest
