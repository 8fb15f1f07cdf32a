// Weighted random: shares follow weights, skips, member subsets.
#include <gtest/gtest.h>

#include <map>

#include "proxy/upstream/random_lb.h"
#include "tests/unit/upstream/lb_test_support.h"

namespace sluice::upstream {
namespace {

using namespace lbtest;

TEST(RandomLbTest, DistributionFollowsWeights) {
  SeededRandom random(42);
  RandomLb lb(random);
  auto hs = portHosts({1, 2, 3, 4});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  EXPECT_TRUE(sharesFollowWeights(countPicks(lb, 100000), 100000, hs));
}

TEST(RandomLbTest, SkippedHostsAreAvoided) {
  SeededRandom random(42);
  RandomLb lb(random);
  auto hs = portHosts({100, 100, 1, 100});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000, 1001, 1003};  // only the lightest host is left
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(*lb.choose(&ctx), 2u);
}

TEST(RandomLbTest, SkippingKeepsOtherSharesWeighted) {
  SeededRandom random(42);
  RandomLb lb(random);
  auto hs = portHosts({1, 1, 3});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000};
  auto count = countPicks(lb, 100000, &ctx);
  EXPECT_EQ(count[0], 0);
  EXPECT_NEAR(count[2] / 100000.0, 0.75, 0.02);
}

TEST(RandomLbTest, AllSkippedStillPicksSomething) {
  SeededRandom random(42);
  RandomLb lb(random);
  auto hs = portHosts({1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000, 1001};
  EXPECT_TRUE(lb.choose(&ctx).has_value());
}

TEST(RandomLbTest, OnlyMembersArePicked) {
  SeededRandom random(42);
  RandomLb lb(random);
  auto hs = portHosts({1, 1, 1, 1});
  std::vector<uint32_t> m{0, 2};
  lb.refresh(hs, m);
  auto count = countPicks(lb, 10000);
  EXPECT_EQ(count.size(), 2u);
  EXPECT_GT(count[0], 0);
  EXPECT_GT(count[2], 0);
}

TEST(RandomLbTest, EmptyMembersHaveNoHost) {
  SeededRandom random(42);
  RandomLb lb(random);
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  auto hs = portHosts({1});
  lb.refresh(hs, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
