// Least request (power of d choices): load avoidance, weights, skips, subsets.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <random>

#include "proxy/upstream/least_request_lb.h"

namespace sluice::upstream {
namespace {

class SeededRandom : public util::RandomSource {
 public:
  uint64_t next() override { return rng_(); }

 private:
  std::mt19937_64 rng_{7};
};

// Hosts with their own stats blocks, as a worker has.
struct Fixture {
  explicit Fixture(std::initializer_list<uint32_t> weights) {
    uint16_t port = 1000;
    for (uint32_t w : weights) {
      stats.push_back(std::make_unique<stats::HostStats>());
      const std::string name = "127.0.0.1:" + std::to_string(port++);
      hosts.push_back(Host{*net::Address::parse(name), w, stats.back().get(), name});
      members.push_back(static_cast<uint32_t>(members.size()));
    }
  }
  std::vector<std::unique_ptr<stats::HostStats>> stats;
  std::vector<Host> hosts;
  std::vector<uint32_t> members;
};

struct SkipPorts : LbContext {
  std::vector<uint16_t> ports;
  bool shouldSkip(const Host& h) const override {
    return std::find(ports.begin(), ports.end(), h.address.port()) != ports.end();
  }
};

std::map<size_t, int> countPicks(LoadBalancer& lb, int n, const LbContext* ctx = nullptr) {
  std::map<size_t, int> count;
  for (int i = 0; i < n; ++i) ++count[*lb.choose(ctx)];
  return count;
}

TEST(LeastRequestLbTest, IdleHostsShareByWeight) {
  SeededRandom random;
  LeastRequestLb lb(random);
  Fixture f({1, 2, 3, 4});
  lb.refresh(f.hosts, f.members);
  auto count = countPicks(lb, 100000);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(count[i] / 100000.0, (i + 1) / 10.0, 0.02) << i;
}

TEST(LeastRequestLbTest, EqualLoadStillHonoursWeights) {
  SeededRandom random;
  LeastRequestLb lb(random);
  Fixture f({1, 2, 3, 4});
  for (auto& s : f.stats) s->rq_active.inc(3);
  lb.refresh(f.hosts, f.members);
  auto count = countPicks(lb, 100000);
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(count[i] / 100000.0, (i + 1) / 10.0, 0.02) << i;
}

TEST(LeastRequestLbTest, PrefersHostWithFewerActiveRequests) {
  SeededRandom random;
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
  SeededRandom random;
  LeastRequestLb lb(random, 5);
  Fixture f({1, 1, 1, 1});
  for (size_t i = 1; i < 4; ++i) f.stats[i]->rq_active.inc(1);
  lb.refresh(f.hosts, f.members);
  // Host 0 loses only if all five draws miss it: (3/4)^5 = 0.237.
  auto count = countPicks(lb, 100000);
  EXPECT_NEAR(count[0] / 100000.0, 1 - 0.2373, 0.02);
}

TEST(LeastRequestLbTest, NullStatsCountAsIdle) {
  SeededRandom random;
  LeastRequestLb lb(random);
  Fixture f({1, 1});
  f.hosts[0].stats = nullptr;
  f.stats[1]->rq_active.inc(1);
  lb.refresh(f.hosts, f.members);
  auto count = countPicks(lb, 10000);
  EXPECT_NEAR(count[0] / 10000.0, 0.75, 0.03);
}

TEST(LeastRequestLbTest, SkippedHostsAreAvoided) {
  SeededRandom random;
  LeastRequestLb lb(random);
  Fixture f({100, 1, 100});
  f.stats[1]->rq_active.inc(50);  // busiest, but the only one not skipped
  lb.refresh(f.hosts, f.members);
  SkipPorts ctx;
  ctx.ports = {1000, 1002};
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(*lb.choose(&ctx), 1u);
}

TEST(LeastRequestLbTest, AllSkippedStillPicksSomething) {
  SeededRandom random;
  LeastRequestLb lb(random);
  Fixture f({1, 1});
  lb.refresh(f.hosts, f.members);
  SkipPorts ctx;
  ctx.ports = {1000, 1001};
  EXPECT_TRUE(lb.choose(&ctx).has_value());
}

TEST(LeastRequestLbTest, OnlyMembersArePicked) {
  SeededRandom random;
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
  SeededRandom random;
  LeastRequestLb lb(random);
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  Fixture f({1});
  lb.refresh(f.hosts, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
