// Cluster (one worker's view of a cluster): host picks across priority levels
// by published health, panic, ejected and half-open hosts, passive-health
// outcome reporting to the HealthEventSink, and what ClusterManager::update
// carries over. Configs come from YAML through the real loader; stats blocks
// and ClusterShared are built here as the main thread would.
#include "proxy/upstream/cluster_manager.h"

#include <gtest/gtest.h>

#include <map>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "config/loader.h"
#include "proxy/stats/stats.h"

namespace sluice::upstream {
namespace {

// Records every event a worker would post to the main thread.
class FakeSink final : public HealthEventSink {
 public:
  struct Failure {
    std::string cluster, host;
    EjectCause cause;
    bool operator==(const Failure& o) const {
      return std::tie(cluster, host, cause) == std::tie(o.cluster, o.host, o.cause);
    }
  };
  struct Probe {
    std::string cluster, host;
    bool success;
    bool operator==(const Probe& o) const {
      return std::tie(cluster, host, success) == std::tie(o.cluster, o.host, o.success);
    }
  };
  void consecutiveFailures(const std::string& cluster, const std::string& host, EjectCause cause) override {
    failures.push_back({cluster, host, cause});
  }
  void probeResult(const std::string& cluster, const std::string& host, bool success) override {
    probes.push_back({cluster, host, success});
  }
  std::vector<Failure> failures;
  std::vector<Probe> probes;
};

void PrintTo(const FakeSink::Failure& f, std::ostream* os) {
  *os << "{" << f.cluster << ", " << f.host << ", " << ejectCauseName(f.cause) << "}";
}
void PrintTo(const FakeSink::Probe& p, std::ostream* os) {
  *os << "{" << p.cluster << ", " << p.host << ", " << (p.success ? "success" : "failure") << "}";
}

struct Endpoint {
  uint16_t port;
  uint32_t priority = 0;
  uint32_t weight = 1;
};

std::string addr(uint16_t port) { return "127.0.0.1:" + std::to_string(port); }

// One cluster "c"; `extra` is indented cluster-level YAML (e.g. lb settings).
std::string clusterYaml(const std::vector<Endpoint>& eps, const std::string& extra = "") {
  std::string y = "clusters:\n  - name: c\n" + extra + "    endpoints:\n";
  for (const auto& e : eps)
    y += "      - {address: " + addr(e.port) + ", priority: " + std::to_string(e.priority) +
         ", weight: " + std::to_string(e.weight) + "}\n";
  return y;
}

const char* const kOutlier = "    outlier_detection: {consecutive_5xx: 3, consecutive_gateway_failure: 3}\n";

// What the main thread owns (stats scopes, ClusterShared) plus one worker's manager.
class ClusterEnv {
 public:
  ClusterEnv() { manager_.setHealthEventSink(&sink); }

  Cluster& apply(const std::string& yaml) {
    const config::LoadResult r = config::loadString(yaml, "t.yaml");
    EXPECT_TRUE(r.errors.empty()) << r.errorText();
    if (!r.config) throw std::runtime_error("config did not load");
    return apply(r.config);
  }

  Cluster& apply(const std::shared_ptr<const config::Config>& config) {
    std::map<std::string, ClusterStatsRefs> refs;
    for (const auto& cc : config->clusters) {
      ClusterStatsRefs& ref = refs[cc.name];
      ref.cluster = &store_.cluster(cc.name);
      ref.shared = &shared(cc.name);
      for (const auto& ep : config->endpointsOf(cc)) {
        ref.hosts.push_back(&store_.host(cc.name, ep.address.str()));
        ref.host_shared.push_back(&ref.shared->host(ep.address.str()));
      }
    }
    manager_.update(config, refs);
    Cluster* c = manager_.get("c");
    EXPECT_NE(c, nullptr);
    return *c;
  }

  ClusterShared& shared(const std::string& cluster = "c") {
    auto& slot = shared_[cluster];
    if (!slot) slot = std::make_unique<ClusterShared>();
    return *slot;
  }
  HostShared& host(uint16_t port) { return shared().host(addr(port)); }
  ClusterManager& manager() { return manager_; }

  FakeSink sink;

 private:
  stats::StatsStore store_{1};
  std::map<std::string, std::unique_ptr<ClusterShared>> shared_;
  ClusterManager manager_{0};
};

uint16_t portOf(const Cluster& c, const Cluster::Pick& p) { return c.hosts().at(p.host).address.port(); }

// `n` picks without an LbContext; each must find a host.
std::vector<Cluster::Pick> picks(Cluster& c, int n) {
  std::vector<Cluster::Pick> out;
  for (int i = 0; i < n; ++i) {
    const auto p = c.pick(nullptr);
    EXPECT_TRUE(p.has_value());
    if (!p) break;
    out.push_back(*p);
  }
  return out;
}

// Port -> number of picks (no LbContext); none may be a probe.
std::map<uint16_t, int> countPicks(Cluster& c, int n) {
  std::map<uint16_t, int> out;
  for (const Cluster::Pick& p : picks(c, n)) {
    EXPECT_FALSE(p.probe);
    ++out[portOf(c, p)];
  }
  return out;
}

std::vector<uint16_t> pickSequence(Cluster& c, int n) {
  std::vector<uint16_t> out;
  for (int i = 0; i < n; ++i) {
    const auto p = c.pick(nullptr);
    if (!p) break;
    out.push_back(portOf(c, *p));
  }
  return out;
}

// Reports `outcomes` in order for a non-probe pick of host 0.
void report(Cluster& c, std::initializer_list<HostOutcome> outcomes) {
  for (HostOutcome o : outcomes) c.reportOutcome(Cluster::Pick{0, false}, o);
}

void setBreaker(HostShared& h, HostBreaker b, int32_t probes = 0) {
  h.probes_left.store(probes);
  h.breaker.store(static_cast<uint8_t>(b));
}

struct KeyContext final : LbContext {
  explicit KeyContext(uint64_t k) : key(k) {}
  std::optional<uint64_t> hashKey() const override { return key; }
  uint64_t key;
};

// --- picking ----------------------------------------------------------------

TEST(ClusterPickTest, RoundRobinAcrossHosts) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  EXPECT_EQ(pickSequence(c, 6), (std::vector<uint16_t>{1001, 1002, 1003, 1001, 1002, 1003}));
  EXPECT_FALSE(c.panic());
}

TEST(ClusterPickTest, HealthyPriorityZeroTakesAllTraffic) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001, 0}, {1002, 0}, {1003, 1}, {1004, 1}}));
  const auto counts = countPicks(c, 1000);
  EXPECT_EQ(counts, (std::map<uint16_t, int>{{1001, 500}, {1002, 500}}));
}

TEST(ClusterPickTest, DegradedPriorityZeroSpillsToPriorityOne) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001, 0}, {1002, 0}, {1003, 1}, {1004, 1}}));
  env.host(1002).active_hc_failed.store(true);
  env.shared().publishHealth();
  // P0 health = 1 * 140 / 2 = 70%; P1 (2 of 2 healthy) takes the other 30%.
  const int n = 10000;
  auto counts = countPicks(c, n);
  EXPECT_EQ(counts.count(1002), 0u) << "a failed host is not picked";
  EXPECT_NEAR(counts[1001], 7000, 300);  // binomial sd ~46
  EXPECT_NEAR(counts[1003] + counts[1004], 3000, 300);
  EXPECT_NEAR(counts[1003], counts[1004], 2) << "round robin within P1";
  EXPECT_FALSE(c.panic());

  // Recovery moves everything back to P0.
  env.host(1002).active_hc_failed.store(false);
  env.shared().publishHealth();
  counts = countPicks(c, 1000);
  EXPECT_EQ(counts[1001] + counts[1002], 1000);
}

TEST(ClusterPickTest, WholePriorityZeroDownSendsEverythingToPriorityOne) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001, 0}, {1002, 1}}));
  env.host(1001).active_hc_failed.store(true);
  env.shared().publishHealth();
  EXPECT_EQ(countPicks(c, 500), (std::map<uint16_t, int>{{1002, 500}}));
}

TEST(ClusterPickTest, HealthChangeIsSeenOnlyWhenVersionMoves) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  EXPECT_EQ(countPicks(c, 3).size(), 3u);
  env.host(1002).active_hc_failed.store(true);  // not published yet
  EXPECT_EQ(countPicks(c, 3).count(1002), 1u);
  env.shared().publishHealth();
  EXPECT_EQ(countPicks(c, 30).count(1002), 0u);
}

TEST(ClusterPickTest, PanicBalancesOverAllHosts) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  env.host(1001).active_hc_failed.store(true);
  env.host(1002).active_hc_failed.store(true);
  env.shared().publishHealth();
  // 1 * 140 / 3 = 46% < panic_threshold 50%.
  EXPECT_TRUE(c.panic());
  EXPECT_EQ(countPicks(c, 300), (std::map<uint16_t, int>{{1001, 100}, {1002, 100}, {1003, 100}}));
}

TEST(ClusterPickTest, PanicThresholdZeroDisablesPanic) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1003}}, "    panic_threshold: 0\n"));
  env.host(1001).active_hc_failed.store(true);
  env.host(1002).active_hc_failed.store(true);
  env.shared().publishHealth();
  EXPECT_FALSE(c.panic());
  EXPECT_EQ(countPicks(c, 30), (std::map<uint16_t, int>{{1003, 30}}));
}

TEST(ClusterPickTest, EjectedHostsAreExcluded) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  setBreaker(env.host(1002), HostBreaker::Open);
  env.shared().publishHealth();
  EXPECT_FALSE(c.panic());  // 2 * 140 / 3 = 93%
  EXPECT_EQ(countPicks(c, 300), (std::map<uint16_t, int>{{1001, 150}, {1003, 150}}));
}

TEST(ClusterPickTest, RepeatedAddressIsOneHostForHealth) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1001}, {1003}}));
  EXPECT_EQ(countPicks(c, 400), (std::map<uint16_t, int>{{1001, 200}, {1002, 100}, {1003, 100}}));
  setBreaker(env.host(1001), HostBreaker::Open);
  env.shared().publishHealth();
  // Both entries are out: 2 of 4 usable, 2 * 140 / 4 = 70%, no panic.
  EXPECT_FALSE(c.panic());
  EXPECT_EQ(countPicks(c, 200), (std::map<uint16_t, int>{{1002, 100}, {1003, 100}}));
}

TEST(ClusterPickTest, HalfOpenHostTakesOnlyAsManyPicksAsProbeSlots) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  setBreaker(env.host(1002), HostBreaker::HalfOpen, 1);
  env.shared().publishHealth();

  std::optional<Cluster::Pick> probe;
  int to_1002 = 0;
  for (const Cluster::Pick& p : picks(c, 30)) {
    if (portOf(c, p) == 1002) {
      ++to_1002;
      EXPECT_TRUE(p.probe);
      probe = p;
    } else {
      EXPECT_FALSE(p.probe);
    }
  }
  EXPECT_EQ(to_1002, 1);
  EXPECT_EQ(env.host(1002).probes_left.load(), 0);
  ASSERT_TRUE(probe);

  // The probe request ended without an outcome: its slot comes back, and one more probe goes out.
  c.abandon(*probe);
  EXPECT_EQ(env.host(1002).probes_left.load(), 1);
  to_1002 = 0;
  for (const Cluster::Pick& p : picks(c, 30)) {
    if (portOf(c, p) == 1002) {
      ++to_1002;
      EXPECT_TRUE(p.probe);
    }
  }
  EXPECT_EQ(to_1002, 1);

  // Refilled by the main thread (no version bump needed: slots are read live).
  env.host(1002).probes_left.store(2);
  to_1002 = 0;
  for (const Cluster::Pick& p : picks(c, 30)) to_1002 += portOf(c, p) == 1002;
  EXPECT_EQ(to_1002, 2);
}

// The main thread stores a host's new state, then bumps the health version.
// A worker that picks in between still has the half-open membership: the
// host whose probe just failed (open again) must take nothing, or it gets a
// request past half_open_max_requests (seen under load with two workers).
TEST(ClusterPickTest, AHostReEjectedBeforeTheVersionMovesTakesNoPick) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  setBreaker(env.host(1002), HostBreaker::HalfOpen, 1);
  env.shared().publishHealth();
  (void)picks(c, 3);  // the membership now holds the half-open host
  setBreaker(env.host(1002), HostBreaker::Open);  // re-ejected; version not bumped yet
  int to_1002 = 0;
  for (const Cluster::Pick& p : picks(c, 60)) to_1002 += portOf(c, p) == 1002;
  EXPECT_EQ(to_1002, 0) << "a re-ejected host took requests";
  env.shared().publishHealth();
  to_1002 = 0;
  for (const Cluster::Pick& p : picks(c, 60)) to_1002 += portOf(c, p) == 1002;
  EXPECT_EQ(to_1002, 0);
}

TEST(ClusterPickTest, AbandonOfNonProbeGivesNothingBack) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}}));
  setBreaker(env.host(1002), HostBreaker::HalfOpen, 0);
  env.shared().publishHealth();
  const auto p = c.pick(nullptr);
  ASSERT_TRUE(p);
  EXPECT_EQ(portOf(c, *p), 1001);
  c.abandon(*p);
  EXPECT_EQ(env.host(1002).probes_left.load(), 0);
  EXPECT_EQ(env.host(1001).probes_left.load(), 0);
}

// Pick's contract: half-open hosts take part only while they have probe
// slots. A level whose only usable host is half-open with no slot left still
// counts as healthy in the priority load, so its share of traffic does not
// spill to a healthy lower level but goes to the half-open host as ordinary
// (non-probe) requests.
TEST(ClusterPickTest, HalfOpenHostWithoutSlotsDoesNotTakeNonProbeTraffic) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001, 0}, {1002, 1}}));
  setBreaker(env.host(1001), HostBreaker::HalfOpen, 1);
  env.shared().publishHealth();
  int probes = 0;
  int unprobed_to_half_open = 0;
  for (const Cluster::Pick& p : picks(c, 200)) {
    if (p.probe) ++probes;
    if (portOf(c, p) == 1001 && !p.probe) ++unprobed_to_half_open;
  }
  EXPECT_EQ(probes, 1);
  EXPECT_EQ(unprobed_to_half_open, 0) << "requests sent to a half-open host outside its probe slots";
}

TEST(ClusterPickTest, OnlyHalfOpenHostsOutOfSlotsGiveNoHost) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}));
  setBreaker(env.host(1001), HostBreaker::HalfOpen, 1);
  env.shared().publishHealth();
  const auto probe = c.pick(nullptr);
  ASSERT_TRUE(probe);
  EXPECT_TRUE(probe->probe);
  EXPECT_FALSE(c.pick(nullptr)) << "the only host is busy probing";
  c.abandon(*probe);
  const auto again = c.pick(nullptr);
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->probe);
}

TEST(ClusterPickTest, SingleEjectedHostIsStillPickedInPanic) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}));
  EXPECT_TRUE(c.pick(nullptr).has_value());
  // A single ejected host: no health anywhere is always panic, so traffic still flows.
  setBreaker(env.host(1001), HostBreaker::Open);
  env.shared().publishHealth();
  EXPECT_TRUE(c.panic());
  const auto p = c.pick(nullptr);
  ASSERT_TRUE(p);
  EXPECT_EQ(portOf(c, *p), 1001);
}

// --- outcomes -----------------------------------------------------------------

TEST(ClusterOutcomeTest, Consecutive5xxReportedOnceAtThreshold) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}, kOutlier));
  report(c, {HostOutcome::Error5xx, HostOutcome::Error5xx});
  EXPECT_TRUE(env.sink.failures.empty());
  report(c, {HostOutcome::Error5xx});
  ASSERT_EQ(env.sink.failures.size(), 1u);
  EXPECT_EQ(env.sink.failures[0], (FakeSink::Failure{"c", addr(1001), EjectCause::Consecutive5xx}));
  report(c, {HostOutcome::Error5xx, HostOutcome::Error5xx});
  EXPECT_EQ(env.sink.failures.size(), 1u) << "not again at 4 and 5";
  EXPECT_TRUE(env.sink.probes.empty());
}

TEST(ClusterOutcomeTest, SuccessResetsTheRun) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}, kOutlier));
  report(c, {HostOutcome::Error5xx, HostOutcome::Error5xx, HostOutcome::Success});
  EXPECT_EQ(env.host(1001).consecutive_5xx.load(), 0u);
  report(c, {HostOutcome::Error5xx, HostOutcome::Error5xx});
  EXPECT_TRUE(env.sink.failures.empty());
  report(c, {HostOutcome::Error5xx});
  EXPECT_EQ(env.sink.failures.size(), 1u);
}

TEST(ClusterOutcomeTest, GatewayFailuresCountInBothRuns) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}, kOutlier));
  report(c, {HostOutcome::GatewayFailure, HostOutcome::GatewayFailure, HostOutcome::GatewayFailure});
  EXPECT_EQ(env.sink.failures,
            (std::vector<FakeSink::Failure>{{"c", addr(1001), EjectCause::Consecutive5xx},
                                            {"c", addr(1001), EjectCause::ConsecutiveGatewayFailure}}));
  report(c, {HostOutcome::GatewayFailure});
  EXPECT_EQ(env.sink.failures.size(), 2u);
}

TEST(ClusterOutcomeTest, NonGateway5xxResetsOnlyTheGatewayRun) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}, "    outlier_detection: {consecutive_5xx: 0, consecutive_gateway_failure: 3}\n"));
  report(c, {HostOutcome::GatewayFailure, HostOutcome::GatewayFailure, HostOutcome::Error5xx});
  EXPECT_EQ(env.host(1001).consecutive_gateway_failure.load(), 0u);
  report(c, {HostOutcome::GatewayFailure, HostOutcome::GatewayFailure});
  EXPECT_TRUE(env.sink.failures.empty()) << "consecutive_5xx: 0 is off, and the gateway run was broken";
  report(c, {HostOutcome::GatewayFailure});
  EXPECT_EQ(env.sink.failures,
            (std::vector<FakeSink::Failure>{{"c", addr(1001), EjectCause::ConsecutiveGatewayFailure}}));
}

TEST(ClusterOutcomeTest, FiveXxRunSpansGatewayAndOtherFailures) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}, kOutlier));
  report(c, {HostOutcome::GatewayFailure, HostOutcome::Error5xx, HostOutcome::GatewayFailure});
  EXPECT_EQ(env.sink.failures, (std::vector<FakeSink::Failure>{{"c", addr(1001), EjectCause::Consecutive5xx}}));
}

TEST(ClusterOutcomeTest, RunsAreSharedBetweenWorkers) {
  ClusterEnv w0;
  Cluster& c0 = w0.apply(clusterYaml({{1001}}, kOutlier));
  // A second worker's manager over the same ClusterShared.
  ClusterManager m1(0);
  FakeSink sink1;
  m1.setHealthEventSink(&sink1);
  stats::StatsStore store(1);
  const auto r = config::loadString(clusterYaml({{1001}}, kOutlier), "t.yaml");
  ASSERT_TRUE(r.config);
  ClusterStatsRefs refs{&store.cluster("c"), {&store.host("c", addr(1001))}, &w0.shared(), {&w0.host(1001)}};
  m1.update(r.config, {{"c", refs}});
  Cluster& c1 = *m1.get("c");
  const Cluster::Pick p{0, false};
  c0.reportOutcome(p, HostOutcome::Error5xx);
  c1.reportOutcome(p, HostOutcome::Error5xx);
  c0.reportOutcome(p, HostOutcome::Error5xx);
  EXPECT_EQ(w0.sink.failures.size(), 1u);
  EXPECT_TRUE(sink1.failures.empty());
  c1.reportOutcome(p, HostOutcome::Error5xx);
  EXPECT_EQ(w0.sink.failures.size() + sink1.failures.size(), 1u);
}

TEST(ClusterOutcomeTest, ProbeOutcomeGoesToSink) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}}, kOutlier));
  setBreaker(env.host(1002), HostBreaker::HalfOpen, 2);
  env.shared().publishHealth();
  std::vector<Cluster::Pick> probes;
  for (const Cluster::Pick& p : picks(c, 10))
    if (p.probe) probes.push_back(p);
  ASSERT_EQ(probes.size(), 2u);
  c.reportOutcome(probes[0], HostOutcome::Success);
  c.reportOutcome(probes[1], HostOutcome::GatewayFailure);
  EXPECT_EQ(env.sink.probes, (std::vector<FakeSink::Probe>{{"c", addr(1002), true}, {"c", addr(1002), false}}));
  // A non-probe outcome never reports a probe.
  c.reportOutcome(Cluster::Pick{0, false}, HostOutcome::Error5xx);
  EXPECT_EQ(env.sink.probes.size(), 2u);
}

TEST(ClusterOutcomeTest, WithoutOutlierDetectionOnlyProbesAreReported) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}));
  EXPECT_FALSE(c.wantsOutcome(Cluster::Pick{0, false}));
  EXPECT_TRUE(c.wantsOutcome(Cluster::Pick{0, true}));
  for (int i = 0; i < 10; ++i) c.reportOutcome(Cluster::Pick{0, false}, HostOutcome::GatewayFailure);
  EXPECT_TRUE(env.sink.failures.empty());
  EXPECT_EQ(env.host(1001).consecutive_5xx.load(), 0u);
  EXPECT_EQ(env.host(1001).consecutive_gateway_failure.load(), 0u);
  c.reportOutcome(Cluster::Pick{0, true}, HostOutcome::Success);
  EXPECT_EQ(env.sink.probes, (std::vector<FakeSink::Probe>{{"c", addr(1001), true}}));
}

TEST(ClusterOutcomeTest, WithOutlierDetectionEveryOutcomeIsWanted) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}}, kOutlier));
  EXPECT_TRUE(c.wantsOutcome(Cluster::Pick{0, false}));
  EXPECT_TRUE(c.wantsOutcome(Cluster::Pick{0, true}));
}

TEST(ClusterOutcomeTest, RepeatedAddressSharesItsRun) {
  ClusterEnv env;
  Cluster& c = env.apply(clusterYaml({{1001}, {1002}, {1001}}, kOutlier));
  c.reportOutcome(Cluster::Pick{0, false}, HostOutcome::Error5xx);
  c.reportOutcome(Cluster::Pick{2, false}, HostOutcome::Error5xx);
  c.reportOutcome(Cluster::Pick{0, false}, HostOutcome::Error5xx);
  EXPECT_EQ(env.sink.failures, (std::vector<FakeSink::Failure>{{"c", addr(1001), EjectCause::Consecutive5xx}}));
}

// --- updates ------------------------------------------------------------------

TEST(ClusterManagerTest, SameEndpointsKeepRoundRobinRotation) {
  ClusterEnv env;
  const std::string yaml = clusterYaml({{1001}, {1002}, {1003}});
  Cluster* c = &env.apply(yaml);
  EXPECT_EQ(pickSequence(*c, 1), (std::vector<uint16_t>{1001}));
  c = &env.apply(yaml);  // a new snapshot with the same endpoints
  EXPECT_EQ(pickSequence(*c, 5), (std::vector<uint16_t>{1002, 1003, 1001, 1002, 1003}));
}

TEST(ClusterManagerTest, ChangedEndpointsStartAfresh) {
  ClusterEnv env;
  Cluster* c = &env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  EXPECT_EQ(pickSequence(*c, 1), (std::vector<uint16_t>{1001}));
  c = &env.apply(clusterYaml({{1001}, {1002}, {1003}, {1004}}));
  EXPECT_EQ(pickSequence(*c, 4), (std::vector<uint16_t>{1001, 1002, 1003, 1004}));
}

// Resources that arrive one by one may bring a cluster before its load
// assignment: it has no hosts (its requests get 503) until that arrives.
TEST(ClusterManagerTest, ClusterWithoutItsLoadAssignmentHasNoHosts) {
  ClusterEnv env;
  const config::LoadResult r = config::loadString(clusterYaml({{1001}, {1002}}), "t.yaml");
  ASSERT_TRUE(r.config) << r.errorText();
  auto partial = std::make_shared<config::Config>(*r.config);
  partial->load_assignments.clear();
  Cluster* c = &env.apply(partial);
  EXPECT_TRUE(c->hosts().empty());
  EXPECT_FALSE(c->pick(nullptr));
  c = &env.apply(r.config);  // it arrives
  EXPECT_EQ(pickSequence(*c, 2), (std::vector<uint16_t>{1001, 1002}));
}

TEST(ClusterManagerTest, HealthSurvivesUpdate) {
  ClusterEnv env;
  Cluster* c = &env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  setBreaker(env.host(1002), HostBreaker::Open);
  env.shared().publishHealth();
  EXPECT_EQ(countPicks(*c, 4).count(1002), 0u);
  c = &env.apply(clusterYaml({{1001}, {1002}, {1003}}));
  EXPECT_EQ(countPicks(*c, 30).count(1002), 0u) << "a fresh Cluster must read the published health";
}

TEST(ClusterManagerTest, OldClusterStaysUsableForOutcomes) {
  ClusterEnv env;
  Cluster& old = env.apply(clusterYaml({{1001}}, kOutlier));
  auto keep = old.shared_from_this();
  env.apply(clusterYaml({{1001}, {1002}}, kOutlier));
  for (int i = 0; i < 3; ++i) keep->reportOutcome(Cluster::Pick{0, false}, HostOutcome::Error5xx);
  EXPECT_EQ(env.sink.failures, (std::vector<FakeSink::Failure>{{"c", addr(1001), EjectCause::Consecutive5xx}}));
}

// A reload that changes only a balancer setting (here maglev's table size)
// must take effect: the worker's balancer state may be carried over only when
// it was built from the same settings.
TEST(ClusterManagerTest, ChangedLbSettingsWithSameEndpointsTakeEffect) {
  const std::vector<Endpoint> eps{{1001}, {1002}, {1003}};
  const std::string small = clusterYaml(eps, "    lb_policy: maglev\n    maglev: {table_size: 7}\n");
  const std::string large = clusterYaml(eps, "    lb_policy: maglev\n    maglev: {table_size: 65537}\n");
  auto picks = [](Cluster& c) {
    std::vector<size_t> out;
    for (uint64_t k = 0; k < 2000; ++k) {
      const KeyContext ctx(k * 7919);
      out.push_back(c.pick(&ctx)->host);
    }
    return out;
  };
  ClusterEnv fresh;
  const auto want = picks(fresh.apply(large));

  ClusterEnv env;
  picks(env.apply(small));
  EXPECT_EQ(picks(env.apply(large)), want) << "still balancing with the old 7-slot maglev table";
}

}  // namespace
}  // namespace sluice::upstream
