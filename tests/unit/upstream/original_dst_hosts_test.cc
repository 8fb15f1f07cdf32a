// An original_dst cluster's hosts on one worker: one host (and one pool per
// protocol) per destination, made on first use and found again (keep-alive
// reuse), kept while used or busy, removed with their pools after a
// cleanup interval unused; and ClusterManager::originalDstPool keeping
// them across config swaps. Time is the timer queue's, set by the test.
#include "proxy/upstream/original_dst_hosts.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include "config/loader.h"
#include "proxy/event/loop.h"
#include "proxy/upstream/cluster_manager.h"

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;

ip::Address address(const std::string& text) { return *ip::Address::parse(text); }

class OriginalDstHostsTest : public ::testing::Test {
 protected:
  // Moves the clock on and runs what is due.
  void advance(event::Duration d) {
    now_ += d;
    timers_.setNow(now_);
    timers_.runExpired();
  }

  event::MonoTime now_ = event::MonoTime(std::chrono::hours(1));
  event::TimerQueue timers_;
  OriginalDstHosts hosts_{timers_};
};

TEST_F(OriginalDstHostsTest, OneHostPerDestination) {
  timers_.setNow(now_);
  auto& a = hosts_.pick(address("10.0.0.1:80"), 5s);
  EXPECT_EQ(&hosts_.pick(address("10.0.0.1:80"), 5s), &a);
  EXPECT_NE(&hosts_.pick(address("10.0.0.1:81"), 5s), &a);  // another port
  EXPECT_NE(&hosts_.pick(address("10.0.0.2:80"), 5s), &a);
  auto& v6 = hosts_.pick(address("[2001:db8::1]:80"), 5s);
  EXPECT_NE(&v6, &a);
  EXPECT_EQ(&hosts_.pick(address("[2001:db8::1]:80"), 5s), &v6);
  EXPECT_EQ(hosts_.size(), 4u);
  EXPECT_EQ(a.host.name, "10.0.0.1:80");
  EXPECT_EQ(a.host.stats, &a.stats);
  EXPECT_EQ(v6.host.name, "[2001:db8::1]:80");
}

TEST_F(OriginalDstHostsTest, UnusedHostGoesAfterAWholeInterval) {
  timers_.setNow(now_);
  hosts_.pick(address("10.0.0.1:80"), 5s);
  EXPECT_TRUE(hosts_.sweepArmed());
  advance(4s);
  EXPECT_EQ(hosts_.size(), 1u);
  // The first sweep finds it used since it was made: it stays one more interval.
  advance(1s);
  EXPECT_EQ(hosts_.size(), 1u);
  advance(5s);
  EXPECT_EQ(hosts_.size(), 0u);
  EXPECT_FALSE(hosts_.sweepArmed());  // nothing left to sweep
}

TEST_F(OriginalDstHostsTest, UseKeepsAHost) {
  timers_.setNow(now_);
  auto* first = &hosts_.pick(address("10.0.0.1:80"), 5s);
  hosts_.pick(address("10.0.0.2:80"), 5s);
  for (int i = 0; i < 3; ++i) {
    advance(5s);
    EXPECT_EQ(&hosts_.pick(address("10.0.0.1:80"), 5s), first);
  }
  EXPECT_EQ(hosts_.size(), 1u);  // 10.0.0.2 went; 10.0.0.1, picked every interval, stayed
}

TEST_F(OriginalDstHostsTest, ABusyHostIsNotRemoved) {
  timers_.setNow(now_);
  auto& e = hosts_.pick(address("10.0.0.1:80"), 5s);
  e.stats.rq_active.inc();  // a request holds one of its streams
  advance(5s);
  advance(5s);
  advance(5s);
  EXPECT_EQ(hosts_.size(), 1u);
  e.stats.rq_active.dec();
  advance(5s);
  EXPECT_EQ(hosts_.size(), 0u);
}

TEST_F(OriginalDstHostsTest, TheLastIntervalGivenIsUsed) {
  timers_.setNow(now_);
  hosts_.pick(address("10.0.0.1:80"), 5s);
  advance(5s);
  hosts_.pick(address("10.0.0.2:80"), 1s);  // a reload shortened it
  advance(5s);
  EXPECT_EQ(hosts_.size(), 1u);  // 10.0.0.1 went; 10.0.0.2 was used since
  advance(1s);
  EXPECT_EQ(hosts_.size(), 0u);
}

// A pool that only counts: what the manager made, updated and destroyed.
struct PoolCounts {
  int made = 0, updated = 0, destroyed = 0;
};

class CountingPool final : public HttpConnPool {
 public:
  CountingPool(Protocol p, PoolCounts& counts, const PoolSettings& s) : protocol_(p), counts_(counts), settings(s) {
    ++counts_.made;
  }
  ~CountingPool() override { ++counts_.destroyed; }
  Protocol protocol() const override { return protocol_; }
  PendingStream* newStream(http::MessageDecoder&, StreamCallbacks&, PoolCallbacks&, RoutingPriority) override {
    return nullptr;
  }
  void update(const Host&, const PoolSettings& s, stats::ClusterStats*) override {
    ++counts_.updated;
    settings = s;
  }

  Protocol protocol_;
  PoolCounts& counts_;
  PoolSettings settings;
};

class OriginalDstPoolTest : public ::testing::Test {
 protected:
  OriginalDstPoolTest() {
    manager_.setLoop(loop_);
    manager_.setPoolFactory([this](Protocol p, event::Loop&, const Host&, const PoolSettings& s, stats::ClusterStats*) {
      return std::make_unique<CountingPool>(p, counts_, s);
    });
  }
  ~OriginalDstPoolTest() override = default;

  Cluster& apply(const std::string& yaml) {
    const config::LoadResult r = config::loadString(yaml, "t.yaml");
    EXPECT_TRUE(r.errors.empty()) << r.errorText();
    std::map<std::string, ClusterStatsRefs> refs;
    for (const auto& cc : r.config->clusters) {
      ClusterStatsRefs& ref = refs[cc.name];
      ref.cluster = &store_.cluster(cc.name);
      ref.shared = &shared_;
      for (const auto& ep : r.config->endpointsOf(cc)) {
        ref.hosts.push_back(&store_.host(cc.name, ep.address.str()));
        ref.host_shared.push_back(&shared_.host(ep.address.str()));
      }
    }
    manager_.update(r.config, refs);
    return *manager_.get("pass");
  }

  void advance(event::Duration d) {
    now_ += d;
    loop_.timers().setNow(now_);
    loop_.timers().runExpired();
  }

  event::MonoTime now_ = event::MonoTime(std::chrono::hours(1));
  event::Loop loop_;
  PoolCounts counts_;
  stats::StatsStore store_{1};
  ClusterShared shared_;
  ClusterManager manager_{0};
};

constexpr const char* kPass = "clusters:\n  - name: pass\n    type: original_dst\n    cleanup_interval: 2s\n";

TEST_F(OriginalDstPoolTest, ADestinationKeepsItsPoolAcrossRequestsAndReloads) {
  loop_.timers().setNow(now_);
  Cluster& c = apply(kPass);
  auto a = manager_.originalDstPool(c, address("10.0.0.1:80"), Protocol::Http1);
  EXPECT_EQ(a.host.name, "10.0.0.1:80");
  auto again = manager_.originalDstPool(c, address("10.0.0.1:80"), Protocol::Http1);
  EXPECT_EQ(&again.pool, &a.pool);  // the next request reuses its keep-alive connections
  EXPECT_NE(&manager_.originalDstPool(c, address("10.0.0.2:80"), Protocol::Http1).pool, &a.pool);
  EXPECT_NE(&manager_.originalDstPool(c, address("10.0.0.1:80"), Protocol::Http2).pool, &a.pool);
  EXPECT_EQ(counts_.made, 3);

  // A reload keeps the hosts and their pools, which take its settings.
  Cluster& reloaded = apply(std::string(kPass) + "    connect_timeout: 7s\n");
  auto after = manager_.originalDstPool(reloaded, address("10.0.0.1:80"), Protocol::Http1);
  EXPECT_EQ(&after.pool, &a.pool);
  EXPECT_EQ(counts_.made, 3);
  EXPECT_EQ(counts_.updated, 2);  // both of that host's pools
  EXPECT_EQ(static_cast<CountingPool&>(after.pool).settings.connect_timeout, 7s);
}

TEST_F(OriginalDstPoolTest, IdleDestinationsAreRemovedWithTheirPools) {
  loop_.timers().setNow(now_);
  Cluster& c = apply(kPass);
  manager_.originalDstPool(c, address("10.0.0.1:80"), Protocol::Http1);
  manager_.originalDstPool(c, address("10.0.0.2:80"), Protocol::Http1);
  OriginalDstHosts* hosts = manager_.originalDstHosts("pass");
  ASSERT_NE(hosts, nullptr);
  EXPECT_EQ(hosts->size(), 2u);
  advance(2s);
  manager_.originalDstPool(c, address("10.0.0.1:80"), Protocol::Http1);
  advance(2s);
  EXPECT_EQ(hosts->size(), 1u);
  EXPECT_EQ(counts_.destroyed, 1);
  advance(2s);
  advance(2s);
  EXPECT_EQ(hosts->size(), 0u);
  EXPECT_EQ(counts_.destroyed, 2);
  // A destination seen again gets a new pool.
  manager_.originalDstPool(c, address("10.0.0.2:80"), Protocol::Http1);
  EXPECT_EQ(counts_.made, 3);
}

TEST_F(OriginalDstPoolTest, OtherClustersHaveNoOriginalDstHosts) {
  apply(std::string(kPass) + "  - name: svc\n    endpoints: [{address: 127.0.0.1:1}]\n");
  EXPECT_EQ(manager_.originalDstHosts("svc"), nullptr);
  EXPECT_EQ(manager_.originalDstHosts("pass"), nullptr);  // made by its first request
}

}  // namespace
}  // namespace sluice::upstream
