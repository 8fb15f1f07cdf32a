// Smooth weighted round robin: exact shares, spreading, and skipping tried hosts.
#include <gtest/gtest.h>

#include <map>

#include "proxy/upstream/round_robin_lb.h"

namespace sluice::upstream {
namespace {

std::vector<Host> hosts(std::initializer_list<uint32_t> weights) {
  std::vector<Host> out;
  uint16_t port = 1000;
  for (uint32_t w : weights) out.push_back(Host{*net::Address::parse("127.0.0.1:" + std::to_string(port++)), w});
  return out;
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
  std::vector<size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(*lb.choose(hs, nullptr));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(RoundRobinLbTest, WeightsGiveExactSharesAndSpread) {
  RoundRobinLb lb;
  auto hs = hosts({5, 1, 1});
  std::vector<size_t> picks;
  for (int i = 0; i < 7; ++i) picks.push_back(*lb.choose(hs, nullptr));
  EXPECT_EQ(picks, (std::vector<size_t>{0, 0, 1, 0, 2, 0, 0}));
  std::map<size_t, int> count;
  for (int i = 0; i < 70000; ++i) ++count[*lb.choose(hs, nullptr)];
  EXPECT_EQ(count[0], 50000);
  EXPECT_EQ(count[1], 10000);
  EXPECT_EQ(count[2], 10000);
}

TEST(RoundRobinLbTest, SkipsHostsTheCallerTried) {
  RoundRobinLb lb;
  auto hs = hosts({1, 1});
  SkipFirst ctx;
  for (int i = 0; i < 4; ++i) EXPECT_EQ(*lb.choose(hs, &ctx), 1u);
}

TEST(RoundRobinLbTest, AllSkippedStillPicksSomething) {
  RoundRobinLb lb;
  auto hs = hosts({1, 1});
  SkipAll ctx;
  EXPECT_TRUE(lb.choose(hs, &ctx).has_value());
}

TEST(RoundRobinLbTest, EmptyClusterHasNoHost) {
  RoundRobinLb lb;
  std::vector<Host> none;
  EXPECT_FALSE(lb.choose(none, nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
