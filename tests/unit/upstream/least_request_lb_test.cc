// Least request (power of d choices): load avoidance, weights, skips, subsets.
#include <gtest/gtest.h>

#include <memory>

#include "proxy/upstream/least_request_lb.h"
#include "tests/unit/upstream/lb_test_support.h"

namespace sluice::upstream {
namespace {

using namespace lbtest;

// Hosts with their own stats blocks, as a worker has.
struct Fixture {
  explicit Fixture(const std::vector<uint32_t>& weights) : hosts(portHosts(weights)), members(allMembers(hosts)) {
    for (Host& h : hosts) {
      stats.push_back(std::make_unique<stats::HostStats>());
      h.stats = stats.back().get();
    }
  }
  std::vector<std::unique_ptr<stats::HostStats>> stats;
  std::vector<Host> hosts;
  std::vector<uint32_t> members;
};

TEST(LeastRequestLbTest, IdleHostsShareByWeight) {
  SeededRandom random(7);
  LeastRequestLb lb(random);
  Fixture f({1, 2, 3, 4});
  lb.refresh(f.hosts, f.members);
  EXPECT_TRUE(sharesFollowWeights(countPicks(lb, 100000), 100000, f.hosts));
}

TEST(LeastRequestLbTest, EqualLoadStillHonoursWeights) {
  SeededRandom random(7);
  LeastRequestLb lb(random);
  Fixture f({1, 2, 3, 4});
  for (auto& s : f.stats) s->rq_active.inc(3);
  lb.refresh(f.hosts, f.members);
  EXPECT_TRUE(sharesFollowWeights(countPicks(lb, 100000), 100000, f.hosts));
}

TEST(LeastRequestLbTest, PrefersHostWithFewerActiveRequests) {
  SeededRandom random(7);
  LeastRequestLb lb(random);
  Fixture f({1, 1});
  f.stats[0]->rq_active.inc(5);
  lb.refresh(f.hosts, f.members);
  // Host 0 wins only when both draws land on it: 1/4 of picks.
  auto count = countPicks(lb, 100000);
  EXPECT_NEAR(count[0] / 100000.0, 0.25, 0.02);
  // The load is read live: once host 1 is busier, it loses.
  f.stats[1]->rq_active.inc(10);
  count = countPicks(lb, 100000);
  EXPECT_NEAR(count[1] / 100000.0, 0.25, 0.02);
}

TEST(LeastRequestLbTest, MoreChoicesAvoidLoadHarder) {
  SeededRandom random(7);
  LeastRequestLb lb(random, 5);
  Fixture f({1, 1, 1, 1});
  for (size_t i = 1; i < 4; ++i) f.stats[i]->rq_active.inc(1);
  lb.refresh(f.hosts, f.members);
  // Host 0 loses only if all five draws miss it: (3/4)^5 = 0.237.
  auto count = countPicks(lb, 100000);
  EXPECT_NEAR(count[0] / 100000.0, 1 - 0.2373, 0.02);
}

TEST(LeastRequestLbTest, NullStatsCountAsIdle) {
  SeededRandom random(7);
  LeastRequestLb lb(random);
  Fixture f({1, 1});
  f.hosts[0].stats = nullptr;
  f.stats[1]->rq_active.inc(1);
  lb.refresh(f.hosts, f.members);
  auto count = countPicks(lb, 10000);
  EXPECT_NEAR(count[0] / 10000.0, 0.75, 0.03);
}

TEST(LeastRequestLbTest, SkippedHostsAreAvoided) {
  SeededRandom random(7);
  LeastRequestLb lb(random);
  Fixture f({100, 1, 100});
  f.stats[1]->rq_active.inc(50);  // busiest, but the only one not skipped
  lb.refresh(f.hosts, f.members);
  SkipPorts ctx;
  ctx.ports = {1000, 1002};
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(*lb.choose(&ctx), 1u);
}

TEST(LeastRequestLbTest, AllSkippedStillPicksSomething) {
  SeededRandom random(7);
  LeastRequestLb lb(random);
  Fixture f({1, 1});
  lb.refresh(f.hosts, f.members);
  SkipPorts ctx;
  ctx.ports = {1000, 1001};
  EXPECT_TRUE(lb.choose(&ctx).has_value());
}

TEST(LeastRequestLbTest, OnlyMembersArePicked) {
  SeededRandom random(7);
  LeastRequestLb lb(random);
  Fixture f({1, 1, 1, 1});
  f.stats[1]->rq_active.inc(100);
  std::vector<uint32_t> m{1, 3};
  lb.refresh(f.hosts, m);
  auto count = countPicks(lb, 10000);
  EXPECT_EQ(count.size(), 2u);
  EXPECT_GT(count[3], count[1]);
}

TEST(LeastRequestLbTest, EmptyMembersHaveNoHost) {
  SeededRandom random(7);
  LeastRequestLb lb(random);
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  Fixture f({1});
  lb.refresh(f.hosts, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
