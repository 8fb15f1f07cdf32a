// Active health checks, priority levels and panic mode through the real
// binary: a killed backend is marked /failed_active_hc and gets no more
// requests, a restarted one comes back; a host whose health endpoint fails
// is taken out although it serves, and so is one whose check times out;
// priority 1 takes traffic only when priority 0 cannot; below the panic
// threshold the cluster balances over every host. Also the shipped
// config/examples/upstream.yaml, run as is (ports aside).

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const std::string kHttpCheck =
    "health_check: {interval: 200ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 1, "
    "http: {path: /healthz}}";

// Kills a backend under steady load, checks that it is marked and that no
// request fails or reaches it after that, restarts it on the same port and
// checks it takes traffic again. `check` is the cluster's health_check.
void killAndRestartUnderLoad(const std::string& check) {
  BackendProcess b1("b1"), b2("b2"), b3("b3");
  for (auto* b : {&b1, &b2, &b3}) ASSERT_TRUE(b->start());
  ProxyProcess proxy(upstreamConfig(routeAllTo("c1"), R"(
    - name: c1
      connect_timeout: 1s
      )" + check + R"(
      endpoints: )" + endpointsFlow({b1.port(), b2.port(), b3.port()})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  for (auto* b : {&b1, &b2, &b3}) ASSERT_TRUE(waitChecked(proxy, "c1", b->address()));

  SteadyLoad load(port, 3);
  ASSERT_TRUE(waitUntil([&] { return load.completed() >= 150; }, 20s));
  ASSERT_EQ(Tally{load.snapshot()}.errors(), 0u) << Tally{load.snapshot()}.describe();

  const auto killed = Clock::now();
  b2.kill();
  ASSERT_TRUE(waitFailedActiveHc(proxy, "c1", b2.address()));
  const auto marked = Clock::now();
  // Two failed checks 200 ms apart (the first may come up to 200 ms late).
  EXPECT_LT(std::chrono::duration_cast<Millis>(marked - killed).count(), 2000);
  EXPECT_EQ(metricOr0(proxy, "sluice_host_active_check_healthy", {{"cluster", "c1"}, {"host", b2.address()}}), 0);
  EXPECT_EQ(metricOr0(proxy, "sluice_host_healthy", {{"cluster", "c1"}, {"host", b2.address()}}), 0);
  EXPECT_GE(metricOr0(proxy, "sluice_host_health_checks_total",
                      {{"cluster", "c1"}, {"host", b2.address()}, {"result", "failure"}}),
            2);

  ASSERT_TRUE(load.waitStartedAfter(marked, 200, 20s));
  const Tally after{startedAfter(load.snapshot(), marked)};
  EXPECT_EQ(after.errors(), 0u) << "requests failed after b2 was marked: " << after.describe();
  EXPECT_EQ(after.to("b2"), 0u) << after.describe();
  EXPECT_GT(after.to("b1"), 30u) << after.describe();
  EXPECT_GT(after.to("b3"), 30u) << after.describe();

  ASSERT_TRUE(b2.start());
  ASSERT_TRUE(waitHealthy(proxy, "c1", b2.address()));
  const auto back = Clock::now();
  ASSERT_TRUE(load.waitStartedAfter(back, 200, 20s));
  const Tally again{startedAfter(load.snapshot(), back)};
  load.stop();
  EXPECT_EQ(again.errors(), 0u) << again.describe();
  EXPECT_GT(again.to("b2"), 30u) << "the restarted host takes traffic again: " << again.describe();
  EXPECT_EQ(metricOr0(proxy, "sluice_host_active_check_healthy", {{"cluster", "c1"}, {"host", b2.address()}}), 1);
}

TEST(UpstreamActiveHealthCheck, HttpCheckTakesAKilledHostOutAndARestartedOneBackIn) {
  killAndRestartUnderLoad(kHttpCheck);
}

TEST(UpstreamActiveHealthCheck, TcpConnectCheckTakesAKilledHostOutAndARestartedOneBackIn) {
  killAndRestartUnderLoad(
      "health_check: {interval: 200ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 1, tcp: {}}");
}

TEST(UpstreamActiveHealthCheck, HostFailingItsHealthEndpointIsTakenOutThoughItServes) {
  ControlledUpstream a("a"), b("b");
  b.setHealthStatus(500);
  ProxyProcess proxy(upstreamConfig(routeAllTo("c1"), R"(
    - name: c1
      connect_timeout: 1s
      health_check: {interval: 200ms, timeout: 1s, unhealthy_threshold: 2, healthy_threshold: 2,
                     http: {path: /healthz, expected_statuses: ["200-299"]}}
      endpoints: )" + endpointsFlow({a.port(), b.port()})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  // Before its first check a host is assumed healthy; one failure marks it.
  ASSERT_TRUE(waitFailedActiveHc(proxy, "c1", b.address()));
  EXPECT_EQ(clusterField(proxy, "c1", a.address(), "health_flags"), "healthy");
  EXPECT_GE(b.healthChecks(), 1u);

  const uint64_t served = b.served();
  const Tally t = sendRequests(port, 100, 4);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  EXPECT_EQ(t.to("a"), 100u) << t.describe();
  EXPECT_EQ(b.served(), served) << "a host failing its health check got requests";

  // Two passes (healthy_threshold 2) bring it back.
  b.setHealthStatus(204);
  ASSERT_TRUE(waitHealthy(proxy, "c1", b.address()));
  const Tally back = sendRequests(port, 100, 4);
  EXPECT_EQ(back.errors(), 0u) << back.describe();
  EXPECT_GE(back.to("b"), 30u) << back.describe();
  EXPECT_GE(metricOr0(proxy, "sluice_host_health_checks_total",
                      {{"cluster", "c1"}, {"host", b.address()}, {"result", "success"}}),
            2);
}

// A health endpoint that never answers: the check times out and counts as
// a failure. The check request carries the configured path and Host.
TEST(UpstreamActiveHealthCheck, CheckThatTimesOutMarksTheHostUnhealthy) {
  ControlledUpstream a("a");
  HttpUpstream b(byPathPrefix({{"/status/ready", neverAnswer()}}, describeRequest("b")));
  const std::string b_address = "127.0.0.1:" + std::to_string(b.port());
  ProxyProcess proxy(upstreamConfig(routeAllTo("c1"), R"(
    - name: c1
      connect_timeout: 1s
      health_check: {interval: 200ms, timeout: 300ms, unhealthy_threshold: 2,
                     http: {path: /status/ready, host: hc.example}}
      endpoints: )" + endpointsFlow({a.port(), b.port()})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  ASSERT_TRUE(waitFailedActiveHc(proxy, "c1", b_address));
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_host_health_checks_total",
                                      {{"cluster", "c1"}, {"host", b_address}, {"result", "timeout"}}, 1));
  ASSERT_TRUE(b.waitForRequests(1, 5s));
  const UpstreamRequest check = b.requests().front();
  EXPECT_EQ(check.method, "GET");
  EXPECT_EQ(check.target, "/status/ready");
  EXPECT_EQ(check.header("host"), "hc.example") << check.describe();
  const Tally t = sendRequests(port, 40, 2);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  EXPECT_EQ(t.to("a"), 40u) << t.describe();
}

// Priority 0: a and b; priority 1: c. Health decided by the test through the
// health endpoint (a host "down" also resets every request).
class UpstreamPriorities : public ::testing::Test {
 protected:
  void SetUp() override {
    proxy_ = std::make_unique<ProxyProcess>(upstreamConfig(routeAllTo("c1"), R"(
      - name: c1
        connect_timeout: 1s
        )" + kHttpCheck + R"(
        endpoints: )" + weightedEndpoints({{a_.port(), 1, 0}, {b_.port(), 1, 0}, {c_.port(), 1, 1}})));
    ASSERT_TRUE(startHttpProxy(*proxy_, &port_));
    for (auto* up : {&a_, &b_, &c_}) ASSERT_TRUE(waitChecked(*proxy_, "c1", up->address()));
  }

  ControlledUpstream a_{"a"}, b_{"b"}, c_{"c"};
  std::unique_ptr<ProxyProcess> proxy_;
  uint16_t port_ = 0;
};

TEST_F(UpstreamPriorities, LowerPriorityTakesTrafficOnlyWhenTheFirstLevelCannot) {
  EXPECT_EQ(clusterField(*proxy_, "c1", c_.address(), "priority"), "1");
  Tally t = sendRequests(port_, 200, 4);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  EXPECT_EQ(t.to("c"), 0u) << "priority 1 got traffic while priority 0 was healthy: " << t.describe();
  EXPECT_GT(t.to("a"), 50u) << t.describe();
  EXPECT_GT(t.to("b"), 50u) << t.describe();

  // Half of level 0 gone: 1/2 x 140% overprovisioning = 70%, the rest spills to c.
  a_.setDown(true);
  ASSERT_TRUE(waitFailedActiveHc(*proxy_, "c1", a_.address()));
  t = sendRequests(port_, 400, 4);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  EXPECT_EQ(t.to("a"), 0u) << t.describe();
  EXPECT_GT(t.to("c"), 400 * 15 / 100) << "about 30% should spill to priority 1: " << t.describe();
  EXPECT_LT(t.to("c"), 400 * 45 / 100) << "about 30% should spill to priority 1: " << t.describe();

  // All of level 0 gone: everything to c, without errors.
  b_.setDown(true);
  ASSERT_TRUE(waitFailedActiveHc(*proxy_, "c1", b_.address()));
  const uint64_t a_served = a_.served(), b_served = b_.served();
  t = sendRequests(port_, 200, 4);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  EXPECT_EQ(t.to("c"), 200u) << t.describe();
  EXPECT_EQ(a_.served(), a_served);
  EXPECT_EQ(b_.served(), b_served);

  // Level 0 back: c is idle again.
  a_.setDown(false);
  b_.setDown(false);
  ASSERT_TRUE(waitHealthy(*proxy_, "c1", a_.address()));
  ASSERT_TRUE(waitHealthy(*proxy_, "c1", b_.address()));
  t = sendRequests(port_, 200, 4);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  EXPECT_EQ(t.to("c"), 0u) << t.describe();
}

// Three hosts in one level, two failing their checks: 1/3 x 140% = 46% is
// below the 50% panic threshold, so c1 balances over all three (requests to
// the unhealthy ones fail: that is what panic means). c2 is the same with
// panic disabled: everything goes to its one healthy host.
TEST(UpstreamPanic, BelowThePanicThresholdTrafficGoesToEveryHost) {
  ControlledUpstream a("a"), b("b"), c("c"), d("d"), e("e"), f("f");
  for (auto* up : {&b, &c, &e, &f}) {
    up->setHealthStatus(503);
    up->setStatus(503);
  }
  ProxyProcess proxy(upstreamConfig(routeByPrefix({{"/panic", "{cluster: c1}"}, {"/", "{cluster: c2}"}}), R"(
    - name: c1
      connect_timeout: 1s
      )" + kHttpCheck + R"(
      endpoints: )" + endpointsFlow({a.port(), b.port(), c.port()}) + R"(
    - name: c2
      connect_timeout: 1s
      panic_threshold: 0
      )" + kHttpCheck + R"(
      endpoints: )" + endpointsFlow({d.port(), e.port(), f.port()})));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));
  for (auto* up : {&b, &c}) ASSERT_TRUE(waitFailedActiveHc(proxy, "c1", up->address()));
  for (auto* up : {&e, &f}) ASSERT_TRUE(waitFailedActiveHc(proxy, "c2", up->address()));
  ASSERT_TRUE(waitChecked(proxy, "c1", a.address()));
  ASSERT_TRUE(waitChecked(proxy, "c2", d.address()));

  const Tally panic = sendRequests(port, 600, 4, "/panic");
  SCOPED_TRACE(panic.describe());
  EXPECT_GT(a.served(), 120u) << "a";
  EXPECT_GT(b.served(), 120u) << "b: panic spreads traffic to unhealthy hosts too";
  EXPECT_GT(c.served(), 120u) << "c: panic spreads traffic to unhealthy hosts too";
  EXPECT_EQ(panic.to("a"), a.served());
  EXPECT_EQ(panic.count(503), b.served() + c.served());

  const Tally healthy_only = sendRequests(port, 200, 4, "/");
  EXPECT_EQ(healthy_only.errors(), 0u) << "panic_threshold 0: " << healthy_only.describe();
  EXPECT_EQ(healthy_only.to("d"), 200u) << healthy_only.describe();
  EXPECT_EQ(e.served() + f.served(), 0u);
}

// config/examples/upstream.yaml with its ports swapped for free ones.
TEST(UpstreamExample, ShippedUpstreamExampleRunsAndDetectsAKilledBackend) {
  BackendProcess b1("b1"), b2("b2"), b3("b3");
  for (auto* b : {&b1, &b2, &b3}) ASSERT_TRUE(b->start());
  std::string yaml;
  ASSERT_TRUE(shippedExample("upstream.yaml",
                             {{"address: 127.0.0.1:9901", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:10000", "address: 127.0.0.1:0"},
                              {"address: 127.0.0.1:18091", "address: " + b1.address()},
                              {"address: 127.0.0.1:18092", "address: " + b2.address()},
                              {"address: 127.0.0.1:18093", "address: " + b3.address()}},
                             &yaml));
  ProxyProcess proxy(yaml);
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port, "edge"));

  EXPECT_EQ(clusterField(proxy, "backend", b1.address(), "weight"), "1");
  const Tally t = sendRequests(port, 60, 3);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
  for (const auto* b : {&b1, &b2, &b3}) EXPECT_GT(t.to(b->name()), 5u) << t.describe();
  // The access log goes to /dev/stdout, which the harness keeps in stdout.log.
  EXPECT_TRUE(waitJsonEntry(proxy.dir() + "/stdout.log", "upstream_cluster", "backend", 5s))
      << readFile(proxy.dir() + "/stdout.log");

  for (const auto* b : {&b1, &b2, &b3}) ASSERT_TRUE(waitChecked(proxy, "backend", b->address()));
  const auto killed = Clock::now();
  b2.kill();
  // interval 1s + jitter 100ms, unhealthy_threshold 2.
  ASSERT_TRUE(waitFailedActiveHc(proxy, "backend", b2.address(), 10s));
  EXPECT_LE(msSince(killed), 3000) << "failed_active_hc later than ~3 s after the kill";
  const Tally without = sendRequests(port, 60, 3);
  EXPECT_EQ(without.errors(), 0u) << without.describe();
  EXPECT_EQ(without.to("b2"), 0u) << without.describe();

  ASSERT_TRUE(b2.start());
  ASSERT_TRUE(waitHealthy(proxy, "backend", b2.address(), 10s));
  const Tally back = sendRequests(port, 60, 3);
  EXPECT_EQ(back.errors(), 0u) << back.describe();
  EXPECT_GT(back.to("b2"), 5u) << back.describe();
}

}  // namespace
}  // namespace sluice::itest
