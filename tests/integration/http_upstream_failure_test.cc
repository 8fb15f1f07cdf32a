// Upstream failures on the HTTP path, through the real binary: a refused
// connect (503 UF), a route timeout (504 UT), an upstream that closes or
// resets mid-response (the client sees a cut-short response, UC), one that
// closes before answering, one that answers garbage (502 UPE), and a pooled
// connection the upstream dropped while idle. Each is checked on the client,
// in the access log and in /metrics, and the proxy keeps serving.

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const Labels kWeb{{"listener", "web"}};
const Labels kC1{{"cluster", "c1"}};

HttpUpstream::Handler failingUpstream() {
  return byPathPrefix({{"/timeout", neverAnswer()},
                       {"/truncate", closeMidResponse(1000000, 1000)},
                       {"/reset-mid", closeMidResponse(1000000, 1000, /*reset=*/true)},
                       {"/drop", closeWithoutResponse()},
                       {"/garbage", garbageResponse()}},
                      describeRequest("c1"));
}

class HttpUpstreamFailure : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = logs_.path() + "/access.log";
    const std::string yaml = R"(
      access_log: {path: )" + log_ + R"(, format: json}
      route_config:
        virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
              - match: {prefix: /refused}
                route: {cluster: dead}
              - match: {prefix: /timeout}
                route: {cluster: c1, timeout: 300ms}
              - match: {prefix: /}
                route: {cluster: c1}
    )";
    proxy_ = std::make_unique<ProxyProcess>(
        renderConfig(httpConfig(yaml, {cluster("c1", {up_.port()}), cluster("dead", {dead_.port()})})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }

  // The access log entry for `path`; fails the test when it never appears.
  nlohmann::json logEntry(const std::string& path) {
    auto e = waitJsonEntry(log_, "path", path);
    EXPECT_TRUE(e) << "no access log entry for " << path << "; log:\n" << readFile(log_);
    return e.value_or(nlohmann::json::object());
  }

  // A plain request still works on a fresh connection.
  void expectStillServing() {
    EXPECT_TRUE(proxy_->running());
    RawHttpClient client(port_);
    ASSERT_TRUE(client.connected());
    HttpReply r = client.roundTrip(getRequest("/ok"));
    EXPECT_TRUE(r.complete) << r.describe();
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_EQ(r.body, "c1 GET /ok\n") << r.describe();
  }

  HttpUpstream up_{failingUpstream()};
  DeadPort dead_;
  TempDir logs_;
  std::string log_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(HttpUpstreamFailure, ConnectRefusedIs503WithUF) {
  CurlResult r = curl({localUrl(port_, "/refused")});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.status, 503) << r.describe();
  auto e = logEntry("/refused");
  EXPECT_EQ(field(e, "status"), "503") << e.dump();
  EXPECT_NE(field(e, "response_flags").find("UF"), std::string::npos) << e.dump();
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_cluster_upstream_cx_connect_fail_total", {{"cluster", "dead"}}, 1));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_5xx_total", kWeb, 1));
  expectStillServing();
}

TEST_F(HttpUpstreamFailure, RouteTimeoutIs504WithUT) {
  RawHttpClient client(port_);
  ASSERT_TRUE(client.connected());
  auto start = Clock::now();
  HttpReply r = client.roundTrip(getRequest("/timeout"), 5s);
  const long long elapsed = msSince(start);
  EXPECT_EQ(r.status, 504) << r.describe();
  EXPECT_GE(elapsed, 280) << "504 before the 300 ms route timeout";
  EXPECT_LE(elapsed, 2000);
  ASSERT_TRUE(up_.waitForRequests(1, 1s));
  EXPECT_EQ(up_.requests()[0].target, "/timeout");
  auto e = logEntry("/timeout");
  EXPECT_EQ(field(e, "status"), "504") << e.dump();
  EXPECT_NE(field(e, "response_flags").find("UT"), std::string::npos) << e.dump();
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_cluster_upstream_rq_timeout_total", kC1, 1));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_5xx_total", kWeb, 1));
  // The abandoned upstream request must not answer a later one.
  expectStillServing();
  expectStillServing();
}

TEST_F(HttpUpstreamFailure, UpstreamCloseMidResponseCutsTheClientShort) {
  for (const std::string path : {"/truncate", "/reset-mid"}) {
    SCOPED_TRACE(path);
    RawHttpClient client(port_);
    ASSERT_TRUE(client.connected());
    HttpReply r = client.roundTrip(getRequest(path), 5s);
    // The head had gone out already: the client gets a 200 whose body
    // stops short, and the connection ends (never a hang, never a second
    // response glued on).
    EXPECT_EQ(r.status, 200) << r.describe();
    EXPECT_FALSE(r.complete) << r.describe();
    EXPECT_LT(r.body_bytes, 1000000u) << r.describe();
    EXPECT_NE(r.error.find("body ended"), std::string::npos) << r.describe();
    EXPECT_EQ(r.error.find("timed out"), std::string::npos) << "the proxy left the client hanging: " << r.describe();
    auto e = logEntry(path);
    EXPECT_NE(field(e, "response_flags").find("UC"), std::string::npos) << e.dump();
  }
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_cluster_upstream_rq_reset_total", kC1, 2));
  expectStillServing();
}

TEST_F(HttpUpstreamFailure, UpstreamCloseBeforeResponseIs5xxWithUC) {
  CurlResult r = curl({localUrl(port_, "/drop")});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_TRUE(r.status == 502 || r.status == 503) << r.describe();
  auto e = logEntry("/drop");
  EXPECT_NE(field(e, "response_flags").find("UC"), std::string::npos) << e.dump();
  EXPECT_TRUE(proxy_->waitMetricAtLeast("sluice_cluster_upstream_rq_reset_total", kC1, 1));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_5xx_total", kWeb, 1));
  expectStillServing();
}

TEST_F(HttpUpstreamFailure, GarbageResponseIs502WithUPE) {
  CurlResult r = curl({localUrl(port_, "/garbage")});
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.status, 502) << r.describe();
  EXPECT_EQ(r.body.find("SPAM"), std::string::npos) << "upstream garbage leaked to the client: " << r.describe();
  auto e = logEntry("/garbage");
  EXPECT_EQ(field(e, "status"), "502") << e.dump();
  EXPECT_NE(field(e, "response_flags").find("UPE"), std::string::npos) << e.dump();
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_cluster_upstream_rq_protocol_error_total", kC1, 1));
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_5xx_total", kWeb, 1));
  expectStillServing();
}

// Answers keep-alive, then closes anyway: the pooled connection is dead by
// the time the next request comes. The FIN either arrives together with the
// response or later, while the connection sits idle in the pool.
class PooledConnectionClosedByTheUpstream : public ::testing::TestWithParam<int> {};

TEST_P(PooledConnectionClosedByTheUpstream, IsNotUsedAgain) {
  HttpUpstream up(respondThenClose("fine\n", std::chrono::milliseconds(GetParam())));
  ProxyProcess proxy(renderConfig(httpConfig(R"(
    route_config:
      virtual_hosts:
        - name: all
          domains: ["*"]
          routes:
            - match: {prefix: /}
              route: {cluster: c1}
  )", {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  RawHttpClient client(port);
  ASSERT_TRUE(client.connected());
  for (int i = 0; i < 6; ++i) {
    HttpReply r = client.roundTrip(getRequest("/n/" + std::to_string(i)));
    EXPECT_EQ(r.status, 200) << "request " << i << ": " << r.describe();
    EXPECT_EQ(r.body, "fine\n") << "request " << i << ": " << r.describe();
    std::this_thread::sleep_for(150ms);  // the upstream's close has reached the proxy
  }
  EXPECT_EQ(up.requestCount(), 6u);
  EXPECT_EQ(up.connections(), 6);
  EXPECT_EQ(metricOr0(proxy, "sluice_listener_downstream_rq_5xx_total", kWeb), 0);
}

INSTANTIATE_TEST_SUITE_P(CloseDelayMs, PooledConnectionClosedByTheUpstream, ::testing::Values(0, 50));

}  // namespace
}  // namespace sluice::itest
