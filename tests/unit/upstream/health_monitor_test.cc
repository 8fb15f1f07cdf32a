// HealthMonitor on a real loop on the test thread: what it publishes to
// HostShared / ClusterShared for ejection, expiry into half-open, probe
// results, interval-based failure-percentage ejection from per-worker stats
// deltas, active checks, start() and identityOf(). Waits end as soon as their
// condition holds and are bounded by a deadline.
#include "proxy/upstream/health_monitor.h"

#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tests/unit/tls/tls_test_support.h"

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;
using event::Loop;

// Runs the loop until pred() holds or `deadline` passes; returns pred().
bool runUntil(Loop& loop, const std::function<bool()>& pred, event::Duration deadline = 2s) {
  std::unique_ptr<event::Timer> poll;
  poll = loop.createTimer([&] {
    if (pred())
      loop.exit();
    else
      poll->enable(event::Duration(1));
  });
  auto stop = loop.createTimer([&] { loop.exit(); });
  poll->enable(event::Duration(0));
  stop->enable(deadline);
  loop.run();
  return pred();
}

// One loop turn, so loop.now() is current.
void turn(Loop& loop) {
  loop.post([&] { loop.exit(); });
  loop.run();
}

std::string addr(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// A cluster with the endpoints of its load assignment beside it.
struct TestCluster : config::ClusterConfig {
  std::vector<config::EndpointConfig> endpoints;
};

TestCluster clusterWith(std::vector<uint16_t> ports) {
  TestCluster cc;
  cc.name = "c";
  for (uint16_t p : ports) cc.endpoints.push_back({*ip::Address::parse(addr(p)), 1, 0, {}});
  return cc;
}

config::OutlierDetectionConfig fastOutlier() {
  config::OutlierDetectionConfig od;
  od.consecutive_5xx = 3;
  od.consecutive_gateway_failure = 3;
  od.base_ejection_time = 50ms;
  od.max_ejection_time = 1s;
  od.max_ejection_percent = 100;
  od.half_open_max_requests = 2;
  od.interval = 20ms;
  return od;
}

// The main thread's per-cluster state plus the monitor under test.
class MonitorEnv {
 public:
  explicit MonitorEnv(TestCluster cc, size_t workers = 2) : cc_(std::move(cc)) {
    // Like the server: one HostShared and one stats scope per address.
    std::map<std::string, stats::PerWorker<stats::HostStats>*> by_address;
    for (const auto& ep : cc_.endpoints) {
      hosts.push_back(&shared.host(ep.address.str()));
      auto& block = by_address[ep.address.str()];
      if (!block) block = owned_stats.emplace_back(std::make_unique<stats::PerWorker<stats::HostStats>>(workers)).get();
      stats.push_back(block);
    }
  }
  HealthMonitor& make() {
    monitor = std::make_unique<HealthMonitor>(loop, cc_, cc_.endpoints, shared, hosts, stats, nullptr,
                                              util::threadRandomSource());
    return *monitor;
  }
  HostBreaker breaker(size_t i) const { return hosts[i]->breakerState(); }
  uint64_t version() const { return shared.health_version.load(); }

  Loop loop;
  ClusterShared shared;
  std::vector<std::unique_ptr<stats::PerWorker<stats::HostStats>>> owned_stats;
  std::vector<HostShared*> hosts;
  std::vector<stats::PerWorker<stats::HostStats>*> stats;  // parallel to endpoints
  std::unique_ptr<HealthMonitor> monitor;

 private:
  TestCluster cc_;
};

TestCluster outlierCluster() {
  auto cc = clusterWith({1001, 1002, 1003});
  cc.outlier_detection = fastOutlier();
  return cc;
}

TEST(HealthMonitorTest, ConsecutiveFailuresEjectThenHalfOpenAfterEjectionTime) {
  MonitorEnv env(outlierCluster());
  HealthMonitor& m = env.make();
  m.start();
  turn(env.loop);
  env.hosts[1]->consecutive_5xx.store(3);
  const uint64_t v0 = env.version();
  const auto t0 = std::chrono::steady_clock::now();
  m.onConsecutiveFailures(addr(1002), EjectCause::Consecutive5xx);
  EXPECT_EQ(env.breaker(1), HostBreaker::Open);
  EXPECT_GT(env.version(), v0);
  EXPECT_EQ(env.hosts[1]->consecutive_5xx.load(), 0u) << "a new run starts after ejection";
  EXPECT_EQ(env.breaker(0), HostBreaker::Closed);
  EXPECT_EQ(m.view(1).breaker, BreakerState::Open);
  EXPECT_EQ(m.view(1).ejections, 1u);
  EXPECT_EQ(m.view(1).last_cause, EjectCause::Consecutive5xx);
  EXPECT_GT(m.view(1).ejected_ms_left, 0);
  EXPECT_LE(m.view(1).ejected_ms_left, 50);

  const uint64_t v1 = env.version();
  ASSERT_TRUE(runUntil(env.loop, [&] { return env.breaker(1) == HostBreaker::HalfOpen; }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 45ms);
  EXPECT_GT(env.version(), v1);
  EXPECT_EQ(env.hosts[1]->probes_left.load(), 2) << "half_open_max_requests slots";
  EXPECT_EQ(m.view(1).breaker, BreakerState::HalfOpen);
}

TEST(HealthMonitorTest, ProbeSuccessCloses) {
  MonitorEnv env(outlierCluster());
  HealthMonitor& m = env.make();
  m.start();
  turn(env.loop);
  m.onConsecutiveFailures(addr(1001), EjectCause::ConsecutiveGatewayFailure);
  ASSERT_TRUE(runUntil(env.loop, [&] { return env.breaker(0) == HostBreaker::HalfOpen; }));
  const uint64_t v = env.version();
  m.onProbeResult(addr(1001), true);
  EXPECT_EQ(env.breaker(0), HostBreaker::Closed);
  EXPECT_EQ(env.hosts[0]->probes_left.load(), 0);
  EXPECT_GT(env.version(), v);
  EXPECT_EQ(m.view(0).breaker, BreakerState::Closed);
  // Later probe results (other slots) are ignored once closed.
  m.onProbeResult(addr(1001), false);
  EXPECT_EQ(env.breaker(0), HostBreaker::Closed);
}

TEST(HealthMonitorTest, ProbeFailureReopensForLonger) {
  MonitorEnv env(outlierCluster());
  HealthMonitor& m = env.make();
  m.start();
  turn(env.loop);
  m.onConsecutiveFailures(addr(1003), EjectCause::Consecutive5xx);
  ASSERT_TRUE(runUntil(env.loop, [&] { return env.breaker(2) == HostBreaker::HalfOpen; }));
  m.onProbeResult(addr(1003), false);
  EXPECT_EQ(env.breaker(2), HostBreaker::Open);
  EXPECT_EQ(env.hosts[2]->probes_left.load(), 0);
  EXPECT_EQ(m.view(2).ejections, 2u);
  EXPECT_GT(m.view(2).ejected_ms_left, 50) << "second ejection is base * 2";
  const auto t0 = std::chrono::steady_clock::now();
  ASSERT_TRUE(runUntil(env.loop, [&] { return env.breaker(2) == HostBreaker::HalfOpen; }));
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 90ms);
  EXPECT_EQ(env.hosts[2]->probes_left.load(), 2);
}

TEST(HealthMonitorTest, EventsForUnknownHostsOrWrongStateAreIgnored) {
  MonitorEnv env(outlierCluster());
  HealthMonitor& m = env.make();
  m.start();
  turn(env.loop);
  const uint64_t v = env.version();
  m.onConsecutiveFailures("127.0.0.1:9", EjectCause::Consecutive5xx);
  m.onProbeResult(addr(1001), false);  // not half-open
  EXPECT_EQ(env.version(), v);
  for (size_t i = 0; i < 3; ++i) EXPECT_EQ(env.breaker(i), HostBreaker::Closed);
}

TEST(HealthMonitorTest, EjectionLimitResetsTheRunSoItReportsAgain) {
  auto cc = outlierCluster();
  cc.outlier_detection->max_ejection_percent = 0;  // only the first host may go
  MonitorEnv env(cc);
  HealthMonitor& m = env.make();
  m.start();
  turn(env.loop);
  m.onConsecutiveFailures(addr(1001), EjectCause::Consecutive5xx);
  ASSERT_EQ(env.breaker(0), HostBreaker::Open);
  env.hosts[1]->consecutive_5xx.store(3);
  env.hosts[1]->consecutive_gateway_failure.store(2);
  m.onConsecutiveFailures(addr(1002), EjectCause::Consecutive5xx);
  EXPECT_EQ(env.breaker(1), HostBreaker::Closed);
  EXPECT_EQ(env.hosts[1]->consecutive_5xx.load(), 0u);
  EXPECT_EQ(env.hosts[1]->consecutive_gateway_failure.load(), 0u);
}

TEST(HealthMonitorTest, FailurePercentageEjectsFromStatsDeltas) {
  auto cc = outlierCluster();
  cc.outlier_detection->failure_percentage = config::OutlierDetectionConfig::FailurePercentage{50, 2, 10};
  MonitorEnv env(cc);
  // History before start() is not this monitor's business: host 1 looks
  // terrible in totals, but start() takes them as the baseline.
  env.stats[1]->worker(0).rq_total.inc(1000);
  env.stats[1]->worker(0).rq_error.inc(1000);
  HealthMonitor& m = env.make();
  m.start();
  turn(env.loop);
  // One window: host 0 fails 15 of 20 (split across workers), the others are fine.
  env.stats[0]->worker(0).rq_total.inc(10);
  env.stats[0]->worker(1).rq_total.inc(10);
  env.stats[0]->worker(0).rq_error.inc(8);
  env.stats[0]->worker(1).rq_error.inc(7);
  env.stats[1]->worker(1).rq_total.inc(20);
  env.stats[2]->worker(0).rq_total.inc(20);
  env.stats[2]->worker(1).rq_error.inc(1);
  env.stats[2]->worker(1).rq_total.inc(1);
  ASSERT_TRUE(runUntil(env.loop, [&] { return env.breaker(0) == HostBreaker::Open; }));
  EXPECT_EQ(m.view(0).last_cause, EjectCause::FailurePercentage);
  EXPECT_EQ(env.breaker(1), HostBreaker::Closed) << "pre-start totals must not count";
  EXPECT_EQ(env.breaker(2), HostBreaker::Closed);

  // Later windows look only at new requests: host 1 now fails, host 2 stays fine.
  env.stats[1]->worker(0).rq_total.inc(10);
  env.stats[1]->worker(0).rq_error.inc(10);
  env.stats[2]->worker(0).rq_total.inc(10);
  ASSERT_TRUE(runUntil(env.loop, [&] { return env.breaker(1) == HostBreaker::Open; }));
  EXPECT_EQ(env.breaker(2), HostBreaker::Closed);
}

TEST(HealthMonitorTest, FailurePercentageNeedsRequestVolume) {
  auto cc = outlierCluster();
  cc.outlier_detection->failure_percentage = config::OutlierDetectionConfig::FailurePercentage{50, 1, 10};
  MonitorEnv env(cc);
  HealthMonitor& m = env.make();
  m.start();
  turn(env.loop);
  env.stats[0]->worker(0).rq_total.inc(9);
  env.stats[0]->worker(0).rq_error.inc(9);
  // A few intervals (20ms each) pass without an ejection.
  EXPECT_FALSE(runUntil(env.loop, [&] { return env.breaker(0) == HostBreaker::Open; }, 120ms));
  EXPECT_EQ(m.view(0).ejections, 0u);
}

// A repeated endpoint address is one host: its entries share HostShared and
// stats, so an ejection of the address must cost the max_ejection_percent
// budget once and end entirely when its probe succeeds.
TEST(HealthMonitorTest, RepeatedAddressIsEjectedAndRestoredAsOneHost) {
  auto cc = clusterWith({1001, 1002, 1001, 1003, 1004});
  cc.outlier_detection = fastOutlier();
  // 2 may be out, counting the 5 entries or the 4 addresses.
  cc.outlier_detection->max_ejection_percent = 50;
  cc.outlier_detection->failure_percentage = config::OutlierDetectionConfig::FailurePercentage{50, 1, 10};
  MonitorEnv env(cc);
  ASSERT_EQ(env.hosts[0], env.hosts[2]);
  HealthMonitor& m = env.make();
  m.start();
  turn(env.loop);
  ASSERT_EQ(env.stats[0], env.stats[2]);
  env.stats[0]->worker(0).rq_total.inc(20);
  env.stats[0]->worker(0).rq_error.inc(20);
  ASSERT_TRUE(runUntil(env.loop, [&] { return env.breaker(0) == HostBreaker::Open; }));
  ASSERT_TRUE(runUntil(env.loop, [&] { return env.breaker(0) == HostBreaker::HalfOpen; }));
  m.onProbeResult(addr(1001), true);
  EXPECT_EQ(env.breaker(0), HostBreaker::Closed);
  EXPECT_EQ(m.view(2).breaker, m.view(0).breaker) << "entries of one address disagree about its state";

  // Only 1002 is out now, so 1003 still fits the budget of 2.
  m.onConsecutiveFailures(addr(1002), EjectCause::Consecutive5xx);
  EXPECT_EQ(env.breaker(1), HostBreaker::Open);
  m.onConsecutiveFailures(addr(1003), EjectCause::Consecutive5xx);
  EXPECT_EQ(env.breaker(3), HostBreaker::Open) << "ejection budget still held by the restored address";
}

TEST(HealthMonitorTest, StartResetsPublishedState) {
  MonitorEnv env(outlierCluster());
  {
    // A previous monitor for the same hosts (replaced on reload) left host 1 ejected.
    HealthMonitor& old = env.make();
    old.start();
    turn(env.loop);
    old.onConsecutiveFailures(addr(1002), EjectCause::Consecutive5xx);
    ASSERT_EQ(env.breaker(1), HostBreaker::Open);
  }
  env.hosts[0]->active_hc_failed.store(true);
  env.hosts[2]->breaker.store(static_cast<uint8_t>(HostBreaker::HalfOpen));
  env.hosts[2]->probes_left.store(3);
  env.hosts[2]->consecutive_5xx.store(2);
  env.hosts[2]->consecutive_gateway_failure.store(1);

  HealthMonitor& m = env.make();  // replaces (destroys) the old one
  const uint64_t v = env.version();
  m.start();
  EXPECT_GT(env.version(), v);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_FALSE(env.hosts[i]->active_hc_failed.load()) << i;
    EXPECT_EQ(env.breaker(i), HostBreaker::Closed) << i;
    EXPECT_EQ(env.hosts[i]->probes_left.load(), 0) << i;
    EXPECT_EQ(env.hosts[i]->consecutive_5xx.load(), 0u) << i;
    EXPECT_EQ(env.hosts[i]->consecutive_gateway_failure.load(), 0u) << i;
  }
  // The old monitor's expiry timer is gone with it: nothing turns half-open.
  EXPECT_FALSE(runUntil(env.loop, [&] { return env.breaker(1) != HostBreaker::Closed; }, 120ms));
}

TEST(HealthMonitorTest, ActiveCheckFailurePublishesHealth) {
  // Bound but not listening: every connect is refused.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in sa{};
  sa.sin_family = AF_INET;
  sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&sa), sizeof(sa)), 0);
  socklen_t len = sizeof(sa);
  getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);

  auto cc = clusterWith({ntohs(sa.sin_port)});
  config::HealthCheckConfig hc;
  hc.interval = 20ms;
  hc.no_traffic_interval = 20ms;
  hc.timeout = 200ms;
  hc.tcp = config::HealthCheckConfig::Tcp{};
  cc.health_check = hc;
  MonitorEnv env(cc);
  HealthMonitor& m = env.make();
  EXPECT_TRUE(m.hasActiveCheck());
  EXPECT_FALSE(m.hasOutlierDetection());
  const uint64_t v = env.version();
  m.start();
  EXPECT_TRUE(runUntil(env.loop, [&] { return env.hosts[0]->active_hc_failed.load(); }));
  EXPECT_GT(env.version(), v + 1);  // start() and the flip
  EXPECT_FALSE(m.view(0).active_healthy);
  EXPECT_FALSE(env.hosts[0]->usable());
  ::close(fd);
}

// With `tls`, checks connect through the main thread's view of the
// cluster's provider; a reload that replaces the provider (useTls) applies
// to the next checks without rebuilding the monitor.
TEST(HealthMonitorTest, ActiveChecksUseTheClusterTls) {
  const auto& pki = tls::testing::TestPki::get();
  ASSERT_TRUE(pki.ok()) << pki.dir();
  event::Loop loop;  // first: outlives the listener and the monitor
  tls::ServerTlsConfig server;
  server.certificates.push_back({pki.path("server.crt"), pki.path("server.key")});
  server.ca_bundle_path = pki.path("root.crt");
  server.require_client_cert = true;
  auto server_ctx = tls::testing::buildServer(server);
  ASSERT_TRUE(server_ctx);
  tls::testing::TlsListener upstream(loop, [&] { return server_ctx; });
  upstream.on_data = [](tls::testing::Peer& p, const std::string& s) {
    if (s.find("\r\n\r\n") != std::string::npos) p.send("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
  };
  auto provider = [&](const std::string& ca) {
    tls::ClientTlsConfig c;
    c.cert_chain_path = pki.path("client.crt");
    c.private_key_path = pki.path("client.key");
    c.ca_bundle_path = pki.path(ca);
    c.sni = "localhost";
    return tls::CertificateProvider::createClient("cluster/c", c).provider;
  };
  const auto good = provider("root.crt");
  const auto wrong_ca = provider("other.crt");
  ASSERT_TRUE(good && wrong_ca);

  auto cc = clusterWith({upstream.port()});
  config::HealthCheckConfig hc;
  hc.interval = 20ms;
  hc.no_traffic_interval = 20ms;
  hc.timeout = 5s;
  hc.unhealthy_threshold = 1;
  hc.http = config::HealthCheckConfig::Http{};
  cc.health_check = hc;
  {
    ClusterShared shared;
    std::vector<HostShared*> hosts{&shared.host(addr(upstream.port()))};
    stats::PerWorker<stats::HostStats> host_stats(1);
    HealthMonitor m(loop, cc, cc.endpoints, shared, hosts, {&host_stats}, good, util::threadRandomSource());
    m.start();
    ASSERT_TRUE(runUntil(loop, [&] { return m.view(0).checks.successes >= 2; }, 5s)) << m.view(0).checks.failures;
    EXPECT_EQ(m.view(0).checks.failures, 0u);
    EXPECT_TRUE(hosts[0]->usable());

    m.useTls(wrong_ca);
    ASSERT_TRUE(runUntil(loop, [&] { return hosts[0]->active_hc_failed.load(); }, 5s));
    EXPECT_EQ(m.view(0).checks.timeouts, 0u);

    m.useTls(good);
    ASSERT_TRUE(runUntil(loop, [&] { return !hosts[0]->active_hc_failed.load(); }, 5s));
  }
  runUntil(loop, [] { return false; }, 20ms);  // the monitor's deferred deletions
}

std::string identityOf(const TestCluster& cc) { return HealthMonitor::identityOf(cc, cc.endpoints); }

TEST(HealthMonitorTest, IdentityFollowsEndpointsHealthCheckAndOutlierDetection) {
  const auto base = outlierCluster();
  EXPECT_EQ(identityOf(base), identityOf(outlierCluster()));

  auto lb = base;
  lb.lb_policy = config::LbPolicy::Maglev;
  lb.connect_timeout = 1s;
  EXPECT_EQ(identityOf(lb), identityOf(base)) << "not health settings";

  auto eps = base;
  eps.endpoints.pop_back();
  EXPECT_NE(identityOf(eps), identityOf(base));

  auto port = base;
  port.endpoints[0].address = *ip::Address::parse("127.0.0.1:2001");
  EXPECT_NE(identityOf(port), identityOf(base));

  auto od = base;
  od.outlier_detection->half_open_max_requests = 3;
  EXPECT_NE(identityOf(od), identityOf(base));

  auto od_off = base;
  od_off.outlier_detection.reset();
  EXPECT_NE(identityOf(od_off), identityOf(base));

  auto fp = base;
  fp.outlier_detection->failure_percentage = config::OutlierDetectionConfig::FailurePercentage{};
  EXPECT_NE(identityOf(fp), identityOf(base));

  config::HealthCheckConfig hc;
  hc.http = config::HealthCheckConfig::Http{};
  auto with_hc = base;
  with_hc.health_check = hc;
  EXPECT_NE(identityOf(with_hc), identityOf(base));
  auto hc_path = with_hc;
  hc_path.health_check->http->path = "/ready";
  EXPECT_NE(identityOf(hc_path), identityOf(with_hc));
  auto hc_jitter = with_hc;
  hc_jitter.health_check->jitter = 5ms;
  EXPECT_NE(identityOf(hc_jitter), identityOf(with_hc));

  // The monitor remembers the identity it was built from.
  MonitorEnv env(base);
  EXPECT_EQ(env.make().identity(), identityOf(base));
}

}  // namespace
}  // namespace sluice::upstream
