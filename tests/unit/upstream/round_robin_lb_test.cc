// Smooth weighted round robin: exact shares, spreading, skipping tried hosts, member subsets.
#include <gtest/gtest.h>

#include <map>

#include "proxy/upstream/round_robin_lb.h"
#include "tests/unit/upstream/lb_test_support.h"

namespace sluice::upstream {
namespace {

using namespace lbtest;

// The next `n` picks without an LbContext.
std::vector<size_t> sequence(LoadBalancer& lb, int n) {
  std::vector<size_t> picks;
  for (int i = 0; i < n; ++i) picks.push_back(*lb.choose(nullptr));
  return picks;
}

TEST(RoundRobinLbTest, EqualWeightsRotate) {
  RoundRobinLb lb;
  auto hs = portHosts({1, 1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  EXPECT_EQ(sequence(lb, 6), (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobinLbTest, WeightsGiveExactSharesAndSpread) {
  RoundRobinLb lb;
  auto hs = portHosts({5, 1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  EXPECT_EQ(sequence(lb, 7), (std::vector<size_t>{0, 0, 1, 0, 2, 0, 0}));
  auto count = countPicks(lb, 70000);
  EXPECT_EQ(count[0], 50000);
  EXPECT_EQ(count[1], 10000);
  EXPECT_EQ(count[2], 10000);
}

TEST(RoundRobinLbTest, DistributionMatchesWeights) {
  RoundRobinLb lb;
  auto hs = portHosts({1, 2, 3, 4});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  auto count = countPicks(lb, 100000);
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(count[i], 10000 * static_cast<int>(i + 1));
}

TEST(RoundRobinLbTest, SkipsHostsTheCallerTried) {
  RoundRobinLb lb;
  auto hs = portHosts({1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*lb.choose(&ctx), 1u);
}

TEST(RoundRobinLbTest, SkippedHostKeepsItsScore) {
  // Skipping a hands its turn to b; a's score is untouched, so the rotation
  // continues c, a, b instead of starting over.
  RoundRobinLb lb;
  auto hs = portHosts({1, 1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000};
  EXPECT_EQ(*lb.choose(&ctx), 1u);
  EXPECT_EQ(sequence(lb, 3), (std::vector<size_t>{2, 0, 1}));
}

TEST(RoundRobinLbTest, AllSkippedStillPicksSomething) {
  RoundRobinLb lb;
  auto hs = portHosts({1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000, 1001};
  EXPECT_TRUE(lb.choose(&ctx).has_value());
}

TEST(RoundRobinLbTest, EmptyMembersHaveNoHost) {
  RoundRobinLb lb;
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  auto hs = portHosts({1, 1});
  lb.refresh(hs, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

TEST(RoundRobinLbTest, OnlyMembersArePicked) {
  RoundRobinLb lb;
  auto hs = portHosts({1, 1, 1, 1});
  std::vector<uint32_t> m{1, 3};
  lb.refresh(hs, m);
  auto count = countPicks(lb, 100);
  EXPECT_EQ(count.size(), 2u);
  EXPECT_EQ(count[1], 50);
  EXPECT_EQ(count[3], 50);
}

TEST(RoundRobinLbTest, RefreshKeepsScoresOfRemainingHosts) {
  // Weights 5,1,1: after a,a (scores -4,2,2) the next pick is b. A refresh
  // with the same hosts must not restart the cycle at a.
  RoundRobinLb lb;
  auto hs = portHosts({5, 1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  EXPECT_EQ(*lb.choose(nullptr), 0u);
  EXPECT_EQ(*lb.choose(nullptr), 0u);
  auto copy = portHosts({5, 1, 1});
  lb.refresh(copy, m);
  EXPECT_EQ(*lb.choose(nullptr), 1u);
  // Different hosts at the same indices start from zero.
  auto other = portHosts({5, 1, 1});
  for (auto& h : other) h.name = "other-" + h.name;
  lb.refresh(other, m);
  EXPECT_EQ(*lb.choose(nullptr), 0u);
  EXPECT_EQ(*lb.choose(nullptr), 0u);
  EXPECT_EQ(*lb.choose(nullptr), 1u);
}

}  // namespace
}  // namespace sluice::upstream
