// Cluster-wide circuit breakers through the real binary (two workers, so the
// limits must hold across them): requests beyond max_requests are answered
// 503 with flag UO at once, while the upstream never sees more than the
// limit; max_connections with a small pending queue; and a `priority: high`
// route counted against the `high` thresholds. Checked on the clients, on
// the upstream, in the access log, on /clusters and on /metrics.

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "tests/integration/support/access_log.h"
#include "tests/integration/support/http_client.h"
#include "tests/integration/support/http_harness.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/upstream_fleet.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

const Labels kC1{{"cluster", "c1"}};

Labels breakerLabels(const std::string& priority, const std::string& resource) {
  return {{"cluster", "c1"}, {"priority", priority}, {"resource", resource}};
}

bool hasLine(const std::string& text, const std::string& line) {
  return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

// Sends one GET per target at once, each on its own connection (all
// connected before any request goes out); replies are collected as they come.
class Burst {
 public:
  Burst(uint16_t port, const std::vector<std::string>& targets) : replies_(targets.size()) {
    for (size_t i = 0; i < targets.size(); ++i) {
      clients_.push_back(std::make_unique<RawHttpClient>(port));
      EXPECT_TRUE(clients_.back()->connected()) << "client " << i;
    }
    for (size_t i = 0; i < targets.size(); ++i) {
      threads_.emplace_back([this, i, target = targets[i]] {
        replies_[i] = clients_[i]->roundTrip(getRequest(target), 15s);
        ++done_;
      });
    }
  }
  ~Burst() { join(); }
  size_t done() const { return done_.load(); }
  bool waitDone(size_t n, Millis timeout) const { return waitUntil([&] { return done() >= n; }, timeout); }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  // After join().
  size_t count(int status) const {
    size_t n = 0;
    for (const auto& r : replies_) n += r.status == status;
    return n;
  }
  const std::vector<HttpReply>& replies() const { return replies_; }

 private:
  std::vector<std::unique_ptr<RawHttpClient>> clients_;
  std::vector<HttpReply> replies_;
  std::atomic<size_t> done_{0};
  std::vector<std::thread> threads_;
};

// Cluster c1: one endpoint on `port`, with `breakers` (a YAML flow mapping)
// as its circuit_breakers.
std::string breakerCluster(const std::string& breakers, uint16_t port) {
  return R"(
    - name: c1
      connect_timeout: 1s
      circuit_breakers: )" + breakers + R"(
      endpoints: )" + endpointsFlow({port});
}

std::vector<std::string> targets(const std::string& prefix, size_t n) {
  std::vector<std::string> t;
  for (size_t i = 0; i < n; ++i) t.push_back(prefix + std::to_string(i));
  return t;
}

TEST(UpstreamCircuitBreakers, RequestsBeyondMaxRequestsGet503UOAtOnce) {
  ControlledUpstream up("u");
  up.hold();
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(upstreamConfig(routeAllTo("c1", log), breakerCluster("{max_requests: 2}", up.port())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  Burst burst(port, targets("/r/", 10));
  // The 8 over the limit are answered while the upstream still holds the 2
  // it got: they did not wait for a slot.
  ASSERT_TRUE(burst.waitDone(8, 10s)) << burst.done() << " of 10 answered";
  ASSERT_TRUE(waitUntil([&] { return up.inFlight() == 2; }, 5s)) << up.inFlight();
  EXPECT_EQ(burst.done(), 8u);
  const std::string page = proxy.get("/clusters").body;
  EXPECT_TRUE(hasLine(page, "c1::circuit_breakers::normal::requests::2/2")) << page;
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_circuit_breaker_active", breakerLabels("normal", "requests")), 2);
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_circuit_breaker_limit", breakerLabels("normal", "requests")), 2);
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_circuit_breaker_open", breakerLabels("normal", "requests")), 1);

  up.release();
  burst.join();
  EXPECT_EQ(burst.count(200), 2u);
  EXPECT_EQ(burst.count(503), 8u);
  EXPECT_EQ(up.maxInFlight(), 2) << "the upstream saw more than max_requests at once";
  EXPECT_EQ(up.served(), 2u);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_overflow_total", kC1, 8));

  JsonLines j = waitJsonLines(log, 10);
  ASSERT_EQ(j.entries.size(), 10u) << readFile(log);
  size_t uo = 0;
  for (const auto& e : j.entries) {
    if (field(e, "status") == "503") {
      uo += field(e, "response_flags").find("UO") != std::string::npos;
      EXPECT_EQ(field(e, "details"), "upstream_rq_overflow") << e.dump();
    } else {
      EXPECT_EQ(field(e, "status"), "200") << e.dump();
    }
  }
  EXPECT_EQ(uo, 8u) << readFile(log);

  // Slots are given back: the gauge drops and requests pass again.
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_circuit_breaker_active", breakerLabels("normal", "requests"), 0));
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_circuit_breaker_open", breakerLabels("normal", "requests")), 0);
  const Tally t = sendRequests(port, 20, 2);
  EXPECT_EQ(t.errors(), 0u) << t.describe();
}

// One connection to the cluster in all (across both workers) and one
// request that may wait for it: the rest overflow with 503 UO.
TEST(UpstreamCircuitBreakers, MaxConnectionsWithAShortPendingQueueOverflows) {
  ControlledUpstream up("u");
  up.hold();
  TempDir logs;
  const std::string log = logs.path() + "/access.log";
  ProxyProcess proxy(upstreamConfig(routeAllTo("c1", log),
                                    breakerCluster("{max_connections: 1, max_pending_requests: 1}", up.port())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  // The first request alone: it takes the one connection and is held.
  Burst first(port, {"/first"});
  ASSERT_TRUE(waitUntil([&] { return up.inFlight() == 1; }, 5s));
  Burst rest(port, targets("/r/", 6));
  // At most one waits (for the held connection); the others overflow now.
  ASSERT_TRUE(rest.waitDone(5, 10s)) << rest.done() << " of 6 answered";
  EXPECT_TRUE(hasLine(proxy.get("/clusters").body, "c1::circuit_breakers::normal::connections::1/1"))
      << proxy.get("/clusters").body;
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_circuit_breaker_open", breakerLabels("normal", "connections")), 1);
  up.release();
  first.join();
  rest.join();

  EXPECT_EQ(first.count(200), 1u);
  const size_t overflowed = rest.count(503);
  EXPECT_GE(overflowed, 5u);
  EXPECT_EQ(rest.count(200) + overflowed, 6u);
  EXPECT_EQ(up.connections(), 1) << "max_connections 1 across workers";
  EXPECT_EQ(up.maxInFlight(), 1);
  EXPECT_EQ(up.served(), 1u + rest.count(200));
  const double cx = metricOr0(proxy, "sluice_cluster_upstream_cx_overflow_total", kC1);
  const double pending = metricOr0(proxy, "sluice_cluster_upstream_rq_pending_overflow_total", kC1);
  EXPECT_GE(cx + pending, static_cast<double>(overflowed)) << "cx " << cx << ", pending " << pending;
  EXPECT_EQ(metricOr0(proxy, "sluice_cluster_upstream_rq_overflow_total", kC1), 0) << "max_requests was not reached";
  JsonLines j = waitJsonLines(log, 7);
  size_t uo = 0;
  for (const auto& e : j.entries) uo += field(e, "response_flags").find("UO") != std::string::npos;
  EXPECT_EQ(uo, overflowed) << readFile(log);
}

TEST(UpstreamCircuitBreakers, HighPriorityRouteUsesTheHighThresholds) {
  ControlledUpstream up("u");
  up.hold();
  ProxyProcess proxy(upstreamConfig(
      routeByPrefix({{"/high", "{cluster: c1, priority: high}"}, {"/", "{cluster: c1}"}}),
      breakerCluster("{max_requests: 1, high: {max_requests: 3}}", up.port())));
  uint16_t port = 0;
  ASSERT_TRUE(startHttpProxy(proxy, &port));

  Burst normal(port, {"/normal"});
  ASSERT_TRUE(waitUntil([&] { return up.inFlight() == 1; }, 5s));
  // Normal is saturated: the next normal request overflows at once.
  const Tally overflow = sendRequests(port, 1, 1, "/normal-2");
  EXPECT_EQ(overflow.count(503), 1u) << overflow.describe();
  // High still passes: up to 3 of its own.
  Burst high(port, targets("/high/", 4));
  ASSERT_TRUE(high.waitDone(1, 10s));
  ASSERT_TRUE(waitUntil([&] { return up.inFlight() == 4; }, 5s)) << "in flight: " << up.inFlight();
  const std::string page = proxy.get("/clusters").body;
  EXPECT_TRUE(hasLine(page, "c1::circuit_breakers::normal::requests::1/1")) << page;
  EXPECT_TRUE(hasLine(page, "c1::circuit_breakers::high::requests::3/3")) << page;
  up.release();
  normal.join();
  high.join();
  EXPECT_EQ(normal.count(200), 1u);
  EXPECT_EQ(high.count(200), 3u);
  EXPECT_EQ(high.count(503), 1u);
  EXPECT_EQ(up.served(), 4u);
  EXPECT_TRUE(proxy.waitMetricEq("sluice_cluster_upstream_rq_overflow_total", kC1, 2));
}

}  // namespace
}  // namespace sluice::itest
