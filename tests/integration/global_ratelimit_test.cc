// Global rate limiting through Redis with the real binary: two Sluice
// processes sharing one redis-server and one limit accept about the limit
// together (not each), 429s carry retry-after and x-ratelimit-*; with Redis
// stopped, failure_mode allow lets requests through and deny answers 503,
// both counted as errors; with Redis back on the same port the proxies
// reconnect and limit again.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "tests/integration/support/config.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/http_upstream.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/unit/redis/redis_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;
using ::sluice::testing::RedisServer;

std::string limitedHttp(const RedisServer& redis, int per_second, const std::string& failure_mode,
                        const std::string& stat_prefix) {
  return R"(
http_filters:
  - ratelimit:
      stat_prefix: )" + stat_prefix + R"(
      redis: {address: )" + redis.address() + R"(, timeout: 250ms}
      domain: itest
      limit: {requests_per_unit: )" + std::to_string(per_second) + R"(, unit: second, burst: 0}
      descriptors: [{key: generic, value: all}]
      failure_mode: )" + failure_mode + R"(
route_config:
  virtual_hosts:
    - name: all
      domains: ["*"]
      routes:
        - match: {prefix: /}
          route: {cluster: c1}
)";
}

// Keep-alive GETs to one proxy, reconnecting after a closed connection.
class Sender {
 public:
  explicit Sender(uint16_t port) : port_(port) {}
  HttpReply get(const std::string& path) {
    for (int attempt = 0; attempt < 2; ++attempt) {
      if (!client_ || !client_->connected()) client_ = std::make_unique<RawHttpClient>(port_);
      HttpReply r = client_->roundTrip(getRequest(path), 3000ms);
      if (r.status != 0 && r.complete) return r;
      client_.reset();
    }
    return {};
  }

 private:
  uint16_t port_;
  std::unique_ptr<RawHttpClient> client_;
};

double sumMetric(const ProxyProcess& a, const ProxyProcess& b, const std::string& name, const Labels& labels) {
  return metricOr0(a, name, labels) + metricOr0(b, name, labels);
}

TEST(GlobalRateLimit, TwoProxiesShareOneLimit) {
  if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
  RedisServer redis;
  ASSERT_TRUE(redis.start());
  HttpUpstream up(describeRequest("c1"));
  constexpr int kPerSecond = 20;
  ProxyProcess p1(renderConfig(httpConfig(limitedHttp(redis, kPerSecond, "allow", "shared"), {cluster("c1", {up.port()})})));
  ProxyProcess p2(renderConfig(httpConfig(limitedHttp(redis, kPerSecond, "allow", "shared"), {cluster("c1", {up.port()})})));
  uint16_t port1 = 0, port2 = 0;
  ASSERT_TRUE(startHttpProxy(p1, &port1));
  ASSERT_TRUE(startHttpProxy(p2, &port2));
  Sender s1(port1), s2(port2);

  // 200 requests a second (ten times the limit) for 2 s, alternating.
  int ok[2] = {0, 0}, limited = 0, other = 0;
  std::optional<HttpReply> a429;
  const auto start = Clock::now();
  auto next = start;
  int i = 0;
  for (; Clock::now() - start < 2000ms; ++i) {
    std::this_thread::sleep_until(next);
    next += 5ms;
    HttpReply r = (i % 2 == 0 ? s1 : s2).get("/r/" + std::to_string(i));
    if (r.status == 200) {
      ++ok[i % 2];
    } else if (r.status == 429) {
      ++limited;
      if (!a429) a429 = r;
    } else {
      ++other;
      ADD_FAILURE() << "request " << i << ": " << r.describe();
    }
  }
  const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  const int accepted = ok[0] + ok[1];
  // GCRA with no burst: the first request, then one per 50 ms, whichever proxy it reaches.
  const double expected = 1 + kPerSecond * seconds;
  EXPECT_GE(accepted, expected * 0.85) << "sent " << i << " in " << seconds << " s";
  EXPECT_LE(accepted, expected * 1.15 + 1) << "sent " << i << " in " << seconds << " s; each proxy alone would allow "
                                           << expected;
  EXPECT_GT(ok[0], 0);
  EXPECT_GT(ok[1], 0);
  EXPECT_EQ(accepted + limited + other, i);
  EXPECT_EQ(up.requestCount(), static_cast<size_t>(accepted));
  ASSERT_TRUE(a429.has_value());
  EXPECT_EQ(a429->header("x-ratelimit-limit"), std::to_string(kPerSecond));
  EXPECT_EQ(a429->header("x-ratelimit-remaining"), "0");
  EXPECT_EQ(a429->header("retry-after"), "1");

  const Labels ok_labels{{"stat_prefix", "shared"}, {"result", "ok"}};
  const Labels over_labels{{"stat_prefix", "shared"}, {"result", "over_limit"}};
  EXPECT_EQ(sumMetric(p1, p2, "sluice_ratelimit_requests_total", ok_labels), accepted);
  EXPECT_EQ(sumMetric(p1, p2, "sluice_ratelimit_requests_total", over_labels), limited);
  EXPECT_EQ(sumMetric(p1, p2, "sluice_ratelimit_requests_total", {{"stat_prefix", "shared"}, {"result", "error"}}), 0);
  EXPECT_GE(sumMetric(p1, p2, "sluice_redis_connects_total", {{"address", redis.address()}}), 2);
}

TEST(GlobalRateLimit, RedisDownFollowsTheFailureModeThenRecovers) {
  if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
  RedisServer redis;
  ASSERT_TRUE(redis.start());
  HttpUpstream up(describeRequest("c1"));
  ProxyProcess allow(renderConfig(httpConfig(limitedHttp(redis, 5, "allow", "open"), {cluster("c1", {up.port()})})));
  ProxyProcess deny(renderConfig(httpConfig(limitedHttp(redis, 5, "deny", "closed"), {cluster("c1", {up.port()})})));
  uint16_t allow_port = 0, deny_port = 0;
  ASSERT_TRUE(startHttpProxy(allow, &allow_port));
  ASSERT_TRUE(startHttpProxy(deny, &deny_port));
  Sender to_allow(allow_port), to_deny(deny_port);

  // Limiting works: a quick burst of 10 meets 429s.
  auto burst = [](Sender& s, std::map<int, int>& statuses) {
    statuses.clear();
    for (int i = 0; i < 10; ++i) ++statuses[s.get("/b").status];
  };
  std::map<int, int> statuses;
  burst(to_deny, statuses);
  EXPECT_GT(statuses[429], 0);
  EXPECT_GT(statuses[200], 0);

  redis.stop();
  for (int i = 0; i < 10; ++i) {
    HttpReply a = to_allow.get("/down");
    EXPECT_EQ(a.status, 200) << "failure_mode allow, request " << i << ": " << a.describe();
    HttpReply d = to_deny.get("/down");
    EXPECT_EQ(d.status, 503) << "failure_mode deny, request " << i << ": " << d.describe();
  }
  EXPECT_GE(metricOr0(allow, "sluice_ratelimit_requests_total", {{"stat_prefix", "open"}, {"result", "error"}}), 10);
  EXPECT_GE(metricOr0(allow, "sluice_ratelimit_requests_total",
                      {{"stat_prefix", "open"}, {"result", "failure_mode_allowed"}}),
            10);
  EXPECT_GE(metricOr0(deny, "sluice_ratelimit_requests_total", {{"stat_prefix", "closed"}, {"result", "error"}}), 10);
  EXPECT_EQ(metricOr0(deny, "sluice_ratelimit_requests_total",
                      {{"stat_prefix", "closed"}, {"result", "failure_mode_allowed"}}),
            0);

  // Back on the same port: the deny proxy serves again once a worker has
  // reconnected (backoff is at most 5 s), and limits again.
  ASSERT_TRUE(redis.start());
  const bool back = waitUntil([&] { return to_deny.get("/up").status == 200; }, 9000ms);
  ASSERT_TRUE(back) << "the proxy did not reconnect to redis";
  EXPECT_TRUE(deny.waitMetricAtLeast("sluice_redis_connected", {{"address", redis.address()}}, 1));
  // Every worker is back within the backoff cap; then a burst is limited again.
  std::this_thread::sleep_for(100ms);
  bool limited_again = waitUntil(
      [&] {
        burst(to_deny, statuses);
        return statuses[429] > 0 && statuses[503] == 0;
      },
      6000ms);
  EXPECT_TRUE(limited_again) << "429: " << statuses[429] << ", 503: " << statuses[503] << ", 200: " << statuses[200];
}

}  // namespace
}  // namespace sluice::itest
