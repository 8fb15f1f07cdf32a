// The four request timeouts through the real binary, each with its own
// status, response flag (access log) and counter: the route timeout (504 UT),
// the per-try timeout (504 UPT), the stream idle timeout (408 SI) and the
// max stream duration (408 DT before a response, a reset after).

#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/command.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const Labels kC1{{"cluster", "c1"}};
const Labels kWeb{{"listener", "web"}};

std::string cluster(uint16_t port) {
  return R"(
    - name: c1
      connect_timeout: 500ms
      endpoints: )" + endpointsFlow({port});
}

class HttpTimeouts : public ::testing::Test {
 protected:
  // Starts a proxy whose `http:` mapping is `http_extra` (timeouts) plus one
  // route `route` (a flow mapping) to the held upstream.
  void start(const std::string& http_extra, const std::string& route) {
    up_.hold();
    log_ = logs_.path() + "/access.log";
    proxy_ = std::make_unique<ProxyProcess>(upstreamConfig(
        "access_log: {path: " + log_ + ", format: json}\n" + http_extra + routeByPrefix({{"/", route}}),
        cluster(up_.port())));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
  }
  void TearDown() override { up_.release(); }

  std::string flagsOf(const std::string& path) {
    const auto e = waitJsonEntry(log_, "path", path, 5s);
    return e ? field(*e, "response_flags") : "(no access log entry)";
  }

  ControlledUpstream up_{"u"};
  TempDir logs_;
  std::string log_;
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(HttpTimeouts, RouteTimeoutIs504UT) {
  start("", "{cluster: c1, timeout: 300ms}");
  const CurlResult r = curl({localUrl(port_, "/route")});
  EXPECT_EQ(r.status, 504) << r.describe();
  EXPECT_GE(r.time_total, 0.28);
  EXPECT_EQ(flagsOf("/route"), "UT");
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_cluster_upstream_rq_timeout_total", kC1, 1));
}

TEST_F(HttpTimeouts, PerTryTimeoutIs504UPTOnceRetriesAreUsedUp) {
  start("", "{cluster: c1, timeout: 5s, retry_policy: {retry_on: [5xx], num_retries: 1, per_try_timeout: 200ms, "
            "retry_back_off: {base_interval: 1ms}}}");
  const CurlResult r = curl({localUrl(port_, "/try")});
  EXPECT_EQ(r.status, 504) << r.describe();
  EXPECT_GE(r.time_total, 0.38) << "two attempts of 200 ms";
  EXPECT_LT(r.time_total, 2.0);
  EXPECT_EQ(flagsOf("/try"), "URX,UPT");
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_cluster_upstream_rq_per_try_timeout_total", kC1, 2));
  EXPECT_EQ(up_.served(), 2u);
}

TEST_F(HttpTimeouts, StreamIdleTimeoutIs408SI) {
  start("stream_idle_timeout: 300ms\n", "{cluster: c1, timeout: 10s}");
  const CurlResult r = curl({localUrl(port_, "/idle")});
  EXPECT_EQ(r.status, 408) << r.describe();
  EXPECT_EQ(flagsOf("/idle"), "SI");
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_idle_timeout_total", kWeb, 1));
}

TEST_F(HttpTimeouts, MaxStreamDurationIs408DTBeforeAResponse) {
  start("max_stream_duration: 300ms\n", "{cluster: c1, timeout: 10s}");
  const CurlResult r = curl({localUrl(port_, "/long")});
  EXPECT_EQ(r.status, 408) << r.describe();
  EXPECT_GE(r.time_total, 0.28);
  EXPECT_EQ(flagsOf("/long"), "DT");
  EXPECT_TRUE(proxy_->waitMetricEq("sluice_listener_downstream_rq_max_duration_reached_total", kWeb, 1));
}

TEST(HttpTimeoutsStreaming, MaxStreamDurationResetsAResponseInProgress) {
  // Headers at once, then a byte every 50 ms for 2 s: never idle, but too long.
  HttpUpstream up([](const UpstreamRequest&, UpstreamExchange& ex) {
    if (!ex.send("HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n")) return;
    for (int i = 0; i < 40; ++i) {
      std::this_thread::sleep_for(50ms);
      if (!ex.send("x")) return;
    }
  });
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(upstreamConfig("access_log: {path: " + log + ", format: json}\n" +
                                        "max_stream_duration: 500ms\nstream_idle_timeout: 10s\n" +
                                        routeByPrefix({{"/", "{cluster: c1, timeout: 10s}"}}),
                                    cluster(up.port())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  const CurlResult r = curl({localUrl(port, "/stream")});
  EXPECT_EQ(r.status, 200) << r.describe();
  EXPECT_FALSE(r.ok()) << "the response should have been cut short: " << r.describe();
  EXPECT_LT(r.body.size(), 40u);
  EXPECT_LT(r.time_total, 1.5);
  const auto e = waitJsonEntry(log, "path", "/stream", 5s);
  ASSERT_TRUE(e);
  EXPECT_EQ(field(*e, "response_flags"), "DT");
  EXPECT_TRUE(proxy.waitMetricEq("sluice_listener_downstream_rq_max_duration_reached_total", kWeb, 1));
}

}  // namespace
}  // namespace sluice::itest
