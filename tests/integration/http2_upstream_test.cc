// The HTTP/2 upstream pool through the real binary, against Node's http2
// server (tests/integration/support/h2_server.js): HTTP/1 and HTTP/2 clients
// share multiplexed streams on one upstream connection; a stream the host
// refuses (REFUSED_STREAM) is retried with `retry_on: refused-stream`; a host
// that sends GOAWAY has its connection drained and the next request opens a
// new one, with nothing failed.

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/command.h"
#include "tests/integration/support/config.h"
#include "tests/integration/support/grpc_node.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
const Labels kUp{{"cluster", "up"}};

// h2_server.js as a child; killed and reaped at the end.
class H2Upstream {
 public:
  H2Upstream() {
    argv_ = nodeScript("h2_server.js");
    argv_.push_back("0");
  }
  ~H2Upstream() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  ::testing::AssertionResult start() {
    pid_ = spawnCommand(argv_, dir_.path() + "/out", dir_.path() + "/err");
    const ChildReady ready = waitForReadyLine(pid_, dir_.path() + "/out", "listening ", Millis(10000));
    if (!ready.port) return ::testing::AssertionFailure() << "h2_server.js did not start";
    port_ = *ready.port;
    return ::testing::AssertionSuccess();
  }
  uint16_t port() const { return port_; }

 private:
  TempDir dir_;
  std::vector<std::string> argv_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

class Http2Upstream : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(up_.start());
    ClusterSpec c = cluster("up", {up_.port()});
    c.extra_lines = {"protocol: http2"};
    proxy_ = std::make_unique<ProxyProcess>(renderConfig(httpConfig(R"(
      route_config:
        virtual_hosts:
          - name: all
            domains: ["*"]
            routes:
              - match: {prefix: /refuse-once}
                route: {cluster: up, retry_policy: {retry_on: [refused-stream], num_retries: 2}}
              - match: {prefix: /}
                route: {cluster: up}
    )", {c})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  H2Upstream up_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(Http2Upstream, Http1AndHttp2ClientsShareOneMultiplexedConnection) {
  // 100 requests, 20 at a time over HTTP/2 and 4 HTTP/1 clients, while
  // /slow keeps streams open: all on one upstream connection per worker.
  std::thread h1([&] {
    for (int i = 0; i < 10; ++i) EXPECT_EQ(curl({localUrl(port_, "/h1-" + std::to_string(i))}).status, 200);
  });
  const CommandResult r = runCommand({"h2load", "-n", "100", "-c", "1", "-m", "20", localUrl(port_, "/slow")},
                                     Millis(30000));
  h1.join();
  EXPECT_NE(r.out.find("100 succeeded, 0 failed"), std::string::npos) << r.out << r.err;
  CurlResult one = curl({localUrl(port_, "/x")});
  EXPECT_EQ(one.status, 200);
  EXPECT_EQ(one.header("x-path"), "/x");
  // One worker's pool opens one connection and multiplexes; a second worker may open its own.
  EXPECT_LE(metricOr0(*proxy_, "sluice_cluster_upstream_cx_total", kUp), 2);
  EXPECT_GE(metricOr0(*proxy_, "sluice_cluster_upstream_cx_reused_total", kUp), 100);
}

// Clients that leave with streams in flight (h2load -D stops at its
// deadline with up to 400 requests open; /slow answers after 300 ms): each
// upstream stream is reset, and both ends of a stream may let go of it in
// one turn. It is freed once and the proxy lives (it crashed when a stream
// was erased twice).
TEST_F(Http2Upstream, ClientsLeavingMidStreamResetTheirUpstreamStreamsAndTheProxyLives) {
  for (int round = 0; round < 4; ++round) {
    runCommand({"h2load", "-c", "8", "-m", "50", "-D", "1", localUrl(port_, "/slow")}, Millis(15000));
    ASSERT_TRUE(proxy_->running()) << "round " << round;
  }
  CurlResult r = curl({"--http2-prior-knowledge", localUrl(port_, "/after")});
  EXPECT_EQ(r.status, 200) << r.describe();
}

TEST_F(Http2Upstream, RefusedStreamIsRetried) {
  CurlResult r = curl({localUrl(port_, "/refuse-once/a")});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_EQ(metricOr0(*proxy_, "sluice_cluster_upstream_rq_retry_total", kUp), 1);
}

TEST_F(Http2Upstream, GoawayDrainsTheConnectionAndNothingFails) {
  for (int i = 0; i < 5; ++i) {
    CurlResult r = curl({"--http2-prior-knowledge", localUrl(port_, "/goaway-" + std::to_string(i))});
    EXPECT_EQ(r.status, 200) << r.describe();
    std::this_thread::sleep_for(50ms);  // the GOAWAY arrives after the answer
  }
  // Each GOAWAY closed a connection, so each request after it needed a new one.
  EXPECT_GE(metricOr0(*proxy_, "sluice_cluster_upstream_cx_total", kUp), 5);
  EXPECT_TRUE(waitUntil([&] { return metricOr0(*proxy_, "sluice_cluster_upstream_cx_active", kUp) <= 1; }, 3s));
}

// 1 GiB each way between an HTTP/1.1 client and the HTTP/2 upstream, and
// between an HTTP/2 client and an HTTP/1.1 upstream (the other half of the
// pairing is in http2_downstream_test.cc's 64 MiB case and here): flow
// control carries the bytes through with the proxy's memory bounded.
constexpr uint64_t kGiB = 1024ull * 1024 * 1024;
constexpr long kRssBudgetKb = 64 * 1024;

CommandResult pipeCurl(const std::string& shell_pipeline) {
  return runCommand({"sh", "-c", shell_pipeline}, Millis(120000));
}

TEST_F(Http2Upstream, OneGibEachWayBetweenAnHttp1ClientAndAnHttp2Upstream) {
  const std::string url = localUrl(port_, "");
  ASSERT_EQ(curl({url + "/warm-up"}).status, 200);
  const long baseline = proxy_->rssKb().value_or(0);
  RssSampler rss(*proxy_);
  const CommandResult down = pipeCurl("curl -sS --http1.1 -o /dev/null -w '%{http_code} %{size_download}' '" + url +
                                      "/big?" + std::to_string(kGiB) + "'");
  EXPECT_EQ(down.out, "200 " + std::to_string(kGiB)) << down.err;
  const CommandResult up = pipeCurl("head -c " + std::to_string(kGiB) +
                                    " /dev/zero | curl -sS --http1.1 -o /dev/null -D - -T - -X POST '" + url +
                                    "/sink'");
  EXPECT_NE(up.out.find("x-received: " + std::to_string(kGiB)), std::string::npos) << up.out << up.err;
  rss.stop();
  // Growth, not the peak: sanitizer builds start far higher.
  EXPECT_LT(rss.peakKb() - baseline, kRssBudgetKb) << "proxy RSS grew by " << (rss.peakKb() - baseline) / 1024 << " MiB";
}

TEST(Http2Bodies, OneGibUploadFromAnHttp2ClientToAnHttp1Upstream) {
  HttpUpstream up(echoBody());
  ProxyProcess proxy(renderConfig(httpConfig(routeAllTo("c1"), {cluster("c1", {up.port()})})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  ASSERT_EQ(curl({"--http2-prior-knowledge", localUrl(port, "/warm-up")}).status, 200);
  const long baseline = proxy.rssKb().value_or(0);
  RssSampler rss(proxy);
  const CommandResult r = pipeCurl("head -c " + std::to_string(kGiB) +
                                   " /dev/zero | curl -sS --http2-prior-knowledge -o /dev/null -D - -T - -X POST '" +
                                   localUrl(port, "/echo") + "'");
  rss.stop();
  EXPECT_NE(r.out.find("x-body-bytes: " + std::to_string(kGiB)), std::string::npos) << r.out << r.err;
  EXPECT_LT(rss.peakKb() - baseline, kRssBudgetKb) << "proxy RSS grew by " << (rss.peakKb() - baseline) / 1024 << " MiB";
}

}  // namespace
}  // namespace sluice::itest
