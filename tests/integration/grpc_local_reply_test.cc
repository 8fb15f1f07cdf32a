// What a gRPC client gets when Sluice answers a gRPC call itself, through
// the real binary with curl speaking HTTP/2 as a gRPC client would: HTTP 200
// with grpc-status and grpc-message in a trailers-only response (never a text
// body), with gRPC's HTTP-to-gRPC status mapping; DEADLINE_EXCEEDED when the
// deadline Sluice enforced came from grpc-timeout; `retry_on: unavailable`
// retrying a trailers-only UNAVAILABLE; and the gRPC status in the access log.

#include <gtest/gtest.h>

#include <atomic>
#include <string>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// A unary gRPC call's request, as far as the proxy cares: HTTP/2 POST with
// content-type application/grpc (the 5-byte frame is an empty message).
CurlResult grpcCall(uint16_t port, const std::string& path, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"--http2-prior-knowledge", "-X", "POST", "-H", "content-type: application/grpc",
                                   "-H", "te: trailers", "--data-binary", std::string("\0\0\0\0\0", 5)};
  args.insert(args.end(), extra.begin(), extra.end());
  args.push_back(localUrl(port, path));
  return curl(args);
}

std::string routes(const std::string& log) {
  return R"(
    access_log: {path: )" + log + R"(, format: json}
    route_config:
      virtual_hosts:
        - name: svc
          domains: ["*"]
          routes:
            - match: {prefix: /dead.Service/}
              route: {cluster: dead}
            - match: {prefix: /slow.Service/}
              route: {cluster: live, timeout: 10s}
            - match: {prefix: /flaky.Service/}
              route: {cluster: live, retry_policy: {retry_on: [unavailable], num_retries: 2}}
  )";
}

class GrpcLocalReply : public ::testing::Test {
 protected:
  void SetUp() override {
    log_ = dir_.path() + "/access.json";
    ConfigSpec spec =
        httpConfig(routes(log_), {cluster("dead", {dead_.port()}), cluster("live", {up_.port()})});
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(spec));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }

  std::atomic<int> flaky_calls_{0};
  HttpUpstream up_{byPathPrefix(
      {{"/slow.Service/", neverAnswer()},
       {"/flaky.Service/",
        [this](const UpstreamRequest&, UpstreamExchange& ex) {
          // The first call: a trailers-only UNAVAILABLE; then OK.
          if (flaky_calls_.fetch_add(1) == 0) {
            ex.respond(200, "", {{"content-type", "application/grpc"}, {"grpc-status", "14"}, {"grpc-message", "busy"}});
          } else {
            ex.respond(200, "", {{"content-type", "application/grpc"}, {"grpc-status", "0"}});
          }
        }}},
      describeRequest("live"))};
  DeadPort dead_;
  TempDir dir_;
  std::string log_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(GrpcLocalReply, NoHealthyUpstreamIsUnavailableInATrailersOnlyResponse) {
  CurlResult r = grpcCall(port_, "/dead.Service/Call");
  ASSERT_TRUE(r.ok()) << r.describe();
  EXPECT_EQ(r.status, 200) << "a gRPC client cannot read an HTTP error: " << r.describe();
  EXPECT_EQ(r.header("content-type"), "application/grpc");
  EXPECT_EQ(r.header("grpc-status"), "14") << r.describe();
  EXPECT_TRUE(r.header("grpc-message").has_value()) << r.describe();
  EXPECT_TRUE(r.body.empty()) << "trailers-only: no body, got " << r.body;
  const auto e = waitJsonEntry(log_, "path", "/dead.Service/Call");
  ASSERT_TRUE(e);
  EXPECT_EQ(field(*e, "grpc_status"), "14");
  EXPECT_EQ(field(*e, "protocol"), "HTTP/2");
  EXPECT_EQ(metricOr0(*proxy_, "sluice_route_grpc_rq_total",
                      {{"route_config", "web"}, {"route", "svc/0"}, {"grpc_status", "14"}}),
            1);
}

TEST_F(GrpcLocalReply, NoRouteIsUnimplemented) {
  CurlResult r = grpcCall(port_, "/nowhere.Service/Call");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("grpc-status"), "12") << r.describe();
}

TEST_F(GrpcLocalReply, GrpcTimeoutCapsTheRouteTimeoutAndAnswersDeadlineExceeded) {
  const auto start = Clock::now();
  CurlResult r = grpcCall(port_, "/slow.Service/Call", {"-H", "grpc-timeout: 300m"});
  const long long took = msSince(start);
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("grpc-status"), "4") << r.describe();
  EXPECT_GE(took, 250);
  EXPECT_LT(took, 3000) << "the route's 10 s timeout was used, not the client's 300 ms deadline";
  // A malformed grpc-timeout is ignored: the route timeout stands (so the
  // call is still pending when curl gives up).
  CurlResult bad = grpcCall(port_, "/slow.Service/Call", {"-H", "grpc-timeout: soon", "--max-time", "1"});
  EXPECT_EQ(bad.status, 0) << bad.describe();
}

TEST_F(GrpcLocalReply, RetryOnUnavailableRetriesATrailersOnlyUnavailable) {
  CurlResult r = grpcCall(port_, "/flaky.Service/Call");
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(r.header("grpc-status"), "0") << r.describe();
  EXPECT_EQ(flaky_calls_.load(), 2);
}

TEST(GrpcNonGrpc, PlainHttp2RequestsStillGetHttpErrors) {
  DeadPort dead;
  ProxyProcess proxy(renderConfig(httpConfig(R"(
    route_config:
      virtual_hosts:
        - name: svc
          domains: ["*"]
          routes: [{match: {prefix: /}, route: {cluster: dead}}]
  )", {cluster("dead", {dead.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  CurlResult r = curl({"--http2-prior-knowledge", localUrl(port, "/x")});
  EXPECT_EQ(r.status, 503) << r.describe();
  EXPECT_FALSE(r.header("grpc-status").has_value());
}

}  // namespace
}  // namespace sluice::itest
