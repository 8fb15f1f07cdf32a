// Weighted random: shares follow weights, skips, member subsets.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "proxy/upstream/random_lb.h"

namespace sluice::upstream {
namespace {

class SeededRandom : public util::RandomSource {
 public:
  uint64_t next() override { return rng_(); }

 private:
  std::mt19937_64 rng_{42};
};

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

struct SkipPorts : LbContext {
  std::vector<uint16_t> ports;
  bool shouldSkip(const Host& h) const override {
    return std::find(ports.begin(), ports.end(), h.address.port()) != ports.end();
  }
};

TEST(RandomLbTest, DistributionFollowsWeights) {
  SeededRandom random;
  RandomLb lb(random);
  auto hs = hosts({1, 2, 3, 4});
  auto m = all(hs);
  lb.refresh(hs, m);
  std::map<size_t, int> count;
  constexpr int kPicks = 100000;
  for (int i = 0; i < kPicks; ++i) ++count[*lb.choose(nullptr)];
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(count[i] / double(kPicks), (i + 1) / 10.0, 0.02) << i;
}

TEST(RandomLbTest, SkippedHostsAreAvoided) {
  SeededRandom random;
  RandomLb lb(random);
  auto hs = hosts({100, 100, 1, 100});
  auto m = all(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000, 1001, 1003};  // only the lightest host is left
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(*lb.choose(&ctx), 2u);
}

TEST(RandomLbTest, SkippingKeepsOtherSharesWeighted) {
  SeededRandom random;
  RandomLb lb(random);
  auto hs = hosts({1, 1, 3});
  auto m = all(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000};
  std::map<size_t, int> count;
  for (int i = 0; i < 100000; ++i) ++count[*lb.choose(&ctx)];
  EXPECT_EQ(count[0], 0);
  EXPECT_NEAR(count[2] / 100000.0, 0.75, 0.02);
}

TEST(RandomLbTest, AllSkippedStillPicksSomething) {
  SeededRandom random;
  RandomLb lb(random);
  auto hs = hosts({1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  SkipPorts ctx;
  ctx.ports = {1000, 1001};
  EXPECT_TRUE(lb.choose(&ctx).has_value());
}

TEST(RandomLbTest, OnlyMembersArePicked) {
  SeededRandom random;
  RandomLb lb(random);
  auto hs = hosts({1, 1, 1, 1});
  std::vector<uint32_t> m{0, 2};
  lb.refresh(hs, m);
  std::map<size_t, int> count;
  for (int i = 0; i < 10000; ++i) ++count[*lb.choose(nullptr)];
  EXPECT_EQ(count.size(), 2u);
  EXPECT_GT(count[0], 0);
  EXPECT_GT(count[2], 0);
}

TEST(RandomLbTest, EmptyMembersHaveNoHost) {
  SeededRandom random;
  RandomLb lb(random);
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  auto hs = hosts({1});
  lb.refresh(hs, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
