// Upstream connect failures through the real binary: refused endpoints are
// skipped, connect timeouts fall over to the next host, and a cluster with
// no reachable host closes the downstream within the attempt budget.

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <sstream>
#include <string>

#include "tests/integration/support/config.h"
#include "tests/integration/support/net.h"
#include "tests/integration/support/proxy_process.h"
#include "tests/integration/support/test_server.h"

namespace sluice::itest {
namespace {

using namespace std::chrono_literals;

// VALUE of "CLUSTER::HOST::FIELD::VALUE" from GET /clusters.
std::optional<double> clusterStat(const std::string& text, const std::string& cluster,
                                  const std::string& host, const std::string& field) {
  std::string prefix = cluster + "::" + host + "::" + field + "::";
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind(prefix, 0) == 0) return std::strtod(line.c_str() + prefix.size(), nullptr);
  }
  return std::nullopt;
}

TEST(TcpProxyFailure, RefusedEndpointIsSkipped) {
  DeadPort dead;
  {
    int err = 0;
    ASSERT_FALSE(connectLoopback(dead.port(), 1s, &err));
    ASSERT_EQ(err, ECONNREFUSED) << "the dead port must refuse connects";
  }
  TestServer echo(echoHandler());
  ProxyProcess proxy(renderConfig(simpleConfig({dead.port(), echo.port()})));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);

  // Round robin over [dead, live]: with 10 connections spread over 2 workers
  // some worker picks the dead host first at least once.
  for (int i = 0; i < 10; ++i) {
    Fd client = connectLoopback(*port);
    ASSERT_TRUE(client) << "connection " << i;
    EXPECT_EQ(echoRoundTrip(client.get(), "ping " + std::to_string(i)), "") << "connection " << i;
  }
  EXPECT_EQ(echo.acceptedCount(), 10);
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_cluster_upstream_cx_connect_fail_total",
                                      {{"cluster", "c1"}}, 1));

  std::string dead_host = "127.0.0.1:" + std::to_string(dead.port());
  std::string live_host = "127.0.0.1:" + std::to_string(echo.port());
  // Per-host stats in /clusters agree: the failures are the dead host's.
  HttpResponse clusters;
  bool agreed = waitUntil(
      [&] {
        clusters = proxy.get("/clusters");
        auto dead_fails = clusterStat(clusters.body, "c1", dead_host, "cx_connect_fail");
        auto live_total = clusterStat(clusters.body, "c1", live_host, "cx_total");
        auto live_fails = clusterStat(clusters.body, "c1", live_host, "cx_connect_fail");
        return dead_fails && *dead_fails >= 1 && live_total && *live_total >= 10 && live_fails &&
               *live_fails == 0;
      },
      5s);
  EXPECT_TRUE(agreed) << "want c1::" << dead_host << "::cx_connect_fail >= 1, c1::" << live_host
                      << "::cx_total >= 10 and its cx_connect_fail == 0; GET /clusters ("
                      << clusters.status << "):\n"
                      << clusters.body;
}

TEST(TcpProxyFailure, ConnectTimeoutFallsOverToNextHost) {
  Blackhole hole;
  ASSERT_TRUE(hole.verify()) << "cannot make connects time out on this kernel";
  TestServer echo(echoHandler());
  ConfigSpec spec = simpleConfig({hole.port(), echo.port()});
  spec.clusters[0].connect_timeout = "200ms";
  ProxyProcess proxy(renderConfig(spec));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);

  // 4 connections over 2 workers: some worker's round robin starts one of
  // them on the blackhole.
  for (int i = 0; i < 4; ++i) {
    auto start = Clock::now();
    Fd client = connectLoopback(*port);
    ASSERT_TRUE(client);
    EXPECT_EQ(echoRoundTrip(client.get(), "ping " + std::to_string(i), 5s), "")
        << "connection " << i;
    EXPECT_LT(msSince(start), 2000) << "connection " << i << " took too long to fall over";
  }
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_cluster_upstream_cx_connect_timeout_total",
                                      {{"cluster", "c1"}}, 1));
}

TEST(TcpProxyFailure, AllHostsTimingOutClosesDownstreamAfterAttempts) {
  Blackhole hole;
  ASSERT_TRUE(hole.verify()) << "cannot make connects time out on this kernel";
  ConfigSpec spec = simpleConfig({hole.port()});
  spec.clusters[0].connect_timeout = "200ms";
  spec.listeners[0].max_connect_attempts = 3;
  ProxyProcess proxy(renderConfig(spec));
  ASSERT_TRUE(proxy.start());
  auto port = proxy.waitListener("l1");
  ASSERT_TRUE(port);

  auto start = Clock::now();
  Fd client = connectLoopback(*port);
  ASSERT_TRUE(client);
  sendAll(client.get(), "hello?", Deadline(1s));
  ReadToClose r = readUntilClosed(client.get(), Deadline(5s));
  long long ms = msSince(start);
  EXPECT_NE(r.how, CloseKind::kTimeout) << "downstream still open after 5 s";
  EXPECT_EQ(r.bytes, 0u);
  // 3 attempts x 200 ms, plus margin.
  EXPECT_LT(ms, 3 * 200 + 1400) << "closed after " << ms << " ms";
  EXPECT_GE(ms, 150) << "closed after " << ms << " ms, before even one connect timeout";
  EXPECT_TRUE(proxy.waitMetricAtLeast("sluice_cluster_upstream_cx_connect_timeout_total",
                                      {{"cluster", "c1"}}, 1));
}

}  // namespace
}  // namespace sluice::itest
