// Smooth weighted round robin: exact shares, spreading, skipping tried hosts, member subsets.
#include <gtest/gtest.h>

#include <map>

#include "proxy/upstream/round_robin_lb.h"

namespace sluice::upstream {
namespace {

std::vector<Host> hosts(std::initializer_list<uint32_t> weights) {
  std::vector<Host> out;
  uint16_t port = 1000;
  for (uint32_t w : weights) {
    const std::string name = "127.0.0.1:" + std::to_string(port++);
    out.push_back(Host{*net::Address::parse(name), w, nullptr, name});
  }
  return out;
}

std::vector<uint32_t> all(const std::vector<Host>& hs) {
  std::vector<uint32_t> m;
  for (uint32_t i = 0; i < hs.size(); ++i) m.push_back(i);
  return m;
}

struct SkipFirst : LbContext {
  bool shouldSkip(const Host& h) const override { return h.address.port() == 1000; }
};
struct SkipAll : LbContext {
  bool shouldSkip(const Host&) const override { return true; }
};

TEST(RoundRobinLbTest, EqualWeightsRotate) {
  RoundRobinLb lb;
  auto hs = hosts({1, 1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  std::vector<size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(*lb.choose(nullptr));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobinLbTest, WeightsGiveExactSharesAndSpread) {
  RoundRobinLb lb;
  auto hs = hosts({5, 1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  std::vector<size_t> picks;
  for (int i = 0; i < 7; ++i) picks.push_back(*lb.choose(nullptr));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 0, 1, 0, 2, 0, 0}));
  std::map<size_t, int> count;
  for (int i = 0; i < 70000; ++i) ++count[*lb.choose(nullptr)];
  EXPECT_EQ(count[0], 50000);
  EXPECT_EQ(count[1], 10000);
  EXPECT_EQ(count[2], 10000);
}

TEST(RoundRobinLbTest, DistributionMatchesWeights) {
  RoundRobinLb lb;
  auto hs = hosts({1, 2, 3, 4});
  auto m = all(hs);
  lb.refresh(hs, m);
  std::map<size_t, int> count;
  for (int i = 0; i < 100000; ++i) ++count[*lb.choose(nullptr)];
  for (size_t i = 0; i < 4; ++i) EXPECT_EQ(count[i], 10000 * static_cast<int>(i + 1));
}

TEST(RoundRobinLbTest, SkipsHostsTheCallerTried) {
  RoundRobinLb lb;
  auto hs = hosts({1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  SkipFirst ctx;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*lb.choose(&ctx), 1u);
}

TEST(RoundRobinLbTest, SkippedHostKeepsItsScore) {
  // Skipping a hands its turn to b; a's score is untouched, so the rotation
  // continues c, a, b instead of starting over.
  RoundRobinLb lb;
  auto hs = hosts({1, 1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  SkipFirst ctx;
  EXPECT_EQ(*lb.choose(&ctx), 1u);
  std::vector<size_t> picks;
  for (int i = 0; i < 3; ++i) picks.push_back(*lb.choose(nullptr));
  EXPECT_EQ(picks, (std::vector<size_t>{2, 0, 1}));
}

TEST(RoundRobinLbTest, AllSkippedStillPicksSomething) {
  RoundRobinLb lb;
  auto hs = hosts({1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  SkipAll ctx;
  EXPECT_TRUE(lb.choose(&ctx).has_value());
}

TEST(RoundRobinLbTest, EmptyMembersHaveNoHost) {
  RoundRobinLb lb;
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  auto hs = hosts({1, 1});
  lb.refresh(hs, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

TEST(RoundRobinLbTest, OnlyMembersArePicked) {
  RoundRobinLb lb;
  auto hs = hosts({1, 1, 1, 1});
  std::vector<uint32_t> m{1, 3};
  lb.refresh(hs, m);
  std::map<size_t, int> count;
  for (int i = 0; i < 100; ++i) ++count[*lb.choose(nullptr)];
  EXPECT_EQ(count.size(), 2u);
  EXPECT_EQ(count[1], 50);
  EXPECT_EQ(count[3], 50);
}

TEST(RoundRobinLbTest, RefreshKeepsScoresOfRemainingHosts) {
  // Weights 5,1,1: after a,a (scores -4,2,2) the next pick is b. A refresh
  // with the same hosts must not restart the cycle at a.
  RoundRobinLb lb;
  auto hs = hosts({5, 1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  EXPECT_EQ(*lb.choose(nullptr), 0u);
  EXPECT_EQ(*lb.choose(nullptr), 0u);
  auto copy = hosts({5, 1, 1});
  lb.refresh(copy, m);
  EXPECT_EQ(*lb.choose(nullptr), 1u);
  // Different hosts at the same indices start from zero.
  auto other = hosts({5, 1, 1});
  for (auto& h : other) h.name = "other-" + h.name;
  lb.refresh(other, m);
  EXPECT_EQ(*lb.choose(nullptr), 0u);
  EXPECT_EQ(*lb.choose(nullptr), 0u);
  EXPECT_EQ(*lb.choose(nullptr), 1u);
}

}  // namespace
}  // namespace sluice::upstream
