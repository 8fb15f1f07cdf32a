// Ring hash: shares, consistency, minimal remapping, determinism, skips.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "proxy/upstream/ring_hash_lb.h"
#include "proxy/util/hash.h"

namespace sluice::upstream {
namespace {

class SeededRandom : public util::RandomSource {
 public:
  uint64_t next() override { return rng_(); }

 private:
  std::mt19937_64 rng_{1234};
};

std::vector<Host> hosts(const std::vector<uint32_t>& weights, int first = 1) {
  std::vector<Host> out;
  int n = first;
  for (uint32_t w : weights) {
    const std::string name = "10.0.0." + std::to_string(n++) + ":8080";
    out.push_back(Host{*net::Address::parse(name), w, nullptr, name});
  }
  return out;
}

std::vector<uint32_t> all(const std::vector<Host>& hs) {
  std::vector<uint32_t> m;
  for (uint32_t i = 0; i < hs.size(); ++i) m.push_back(i);
  return m;
}

struct Ctx : LbContext {
  std::optional<uint64_t> key;
  std::vector<std::string> skip;
  std::optional<uint64_t> hashKey() const override { return key; }
  bool shouldSkip(const Host& h) const override { return std::find(skip.begin(), skip.end(), h.name) != skip.end(); }
};

std::string pick(LoadBalancer& lb, const std::vector<Host>& hs, uint64_t key) {
  Ctx ctx;
  ctx.key = key;
  return hs[*lb.choose(&ctx)].name;
}

std::vector<uint64_t> randomKeys(size_t n) {
  std::mt19937_64 rng(99);
  std::vector<uint64_t> keys(n);
  for (auto& k : keys) k = rng();
  return keys;
}

TEST(RingHashLbTest, HashIsPinned) {
  // Changing hash64 remaps every key of every ring_hash/maglev cluster and
  // breaks agreement between proxies running different builds.
  EXPECT_EQ(util::hash64(""), 0xf52a15e9a9b5e89bULL);
  EXPECT_EQ(util::hash64("10.0.0.1:8080_0"), 0x4d561d3a12b2bde9ULL);
  EXPECT_EQ(util::mix64(1), 0x5692161d100b05e5ULL);
}

TEST(RingHashLbTest, DistributionFollowsWeights) {
  SeededRandom random;
  // A host's share varies by about 1/sqrt(its points): the default 1024-point
  // minimum gives +-3%, so a finer ring is asked for here.
  RingHashLb lb(random, 16384);
  auto hs = hosts({1, 2, 3, 4});
  auto m = all(hs);
  lb.refresh(hs, m);
  std::map<std::string, int> count;
  for (uint64_t k : randomKeys(100000)) ++count[pick(lb, hs, k)];
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(count[hs[i].name] / 100000.0, (i + 1) / 10.0, 0.02) << i;
  // No key: random picks, same shares.
  std::map<size_t, int> random_count;
  for (int i = 0; i < 100000; ++i) ++random_count[*lb.choose(nullptr)];
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(random_count[i] / 100000.0, (i + 1) / 10.0, 0.02) << i;
}

TEST(RingHashLbTest, RemapOnAddAndRemove) {
  SeededRandom random;
  auto hs = hosts(std::vector<uint32_t>(11, 1));
  std::vector<uint32_t> ten, eleven, nine;
  for (uint32_t i = 0; i < 11; ++i) {
    eleven.push_back(i);
    if (i < 10) ten.push_back(i);
    if (i < 10 && i != 4) nine.push_back(i);
  }
  RingHashLb base(random), added(random), removed(random);
  base.refresh(hs, ten);
  added.refresh(hs, eleven);
  removed.refresh(hs, nine);
  const auto keys = randomKeys(100000);
  size_t moved_add = 0, moved_remove = 0, moved_other = 0;
  for (uint64_t k : keys) {
    const std::string before = pick(base, hs, k);
    if (pick(added, hs, k) != before) ++moved_add;
    const std::string after = pick(removed, hs, k);
    if (after != before) ++moved_remove;
    if (after != before && before != hs[4].name) ++moved_other;
  }
  const double n = 10;
  EXPECT_GT(moved_add / 1e5, 0.5 / (n + 1));
  EXPECT_LT(moved_add / 1e5, 1.6 / (n + 1));
  EXPECT_GT(moved_remove / 1e5, 0.5 / n);
  EXPECT_LT(moved_remove / 1e5, 1.6 / n);
  EXPECT_EQ(moved_other, 0u);  // only the removed host's keys move
  // The surviving hosts keep their points: the ring grows or shrinks by one host's share.
  EXPECT_EQ(base.ringSize(), 1280u);
  EXPECT_EQ(added.ringSize(), 1408u);
  EXPECT_EQ(removed.ringSize(), 1152u);
}

TEST(RingHashLbTest, SameKeySameHost) {
  SeededRandom random;
  RingHashLb lb(random);
  auto hs = hosts({1, 1, 1, 1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  for (uint64_t k : randomKeys(1000)) {
    const std::string first = pick(lb, hs, k);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pick(lb, hs, k), first);
  }
}

TEST(RingHashLbTest, MappingDependsOnlyOnHostNames) {
  // Two workers (or two proxies) with their own host lists, even in another
  // order, map every key to the same host.
  SeededRandom random;
  auto a = hosts({1, 2, 3, 1, 1});
  auto b = a;
  std::reverse(b.begin(), b.end());
  RingHashLb lb_a(random), lb_b(random);
  auto ma = all(a), mb = all(b);
  lb_a.refresh(a, ma);
  lb_b.refresh(b, mb);
  for (uint64_t k : randomKeys(10000)) EXPECT_EQ(pick(lb_a, a, k), pick(lb_b, b, k));
  // Pinned picks: the same in every process and build.
  const std::pair<const char*, const char*> pinned[] = {
      {"user-1", "10.0.0.4:8080"}, {"user-2", "10.0.0.3:8080"}, {"user-4", "10.0.0.1:8080"},
      {"user-7", "10.0.0.2:8080"}, {"user-8", "10.0.0.5:8080"}};
  for (const auto& [user, host] : pinned) EXPECT_EQ(pick(lb_a, a, util::hash64(user)), host) << user;
}

TEST(RingHashLbTest, RingSizeFollowsWeightsWithinBounds) {
  SeededRandom random;
  auto hs = hosts({1, 2, 3, 4});
  auto m = all(hs);
  RingHashLb lb(random, 1024, 8 * 1024 * 1024);
  lb.refresh(hs, m);
  EXPECT_EQ(lb.ringSize(), 128u * 10);  // ceil(1024 / 10) = 103, rounded up to 128 per weight
  RingHashLb capped(random, 1024, 100);
  capped.refresh(hs, m);
  EXPECT_EQ(capped.ringSize(), 100u);  // 10, 20, 30, 40
  RingHashLb tiny(random, 1, 2);
  tiny.refresh(hs, m);
  EXPECT_EQ(tiny.ringSize(), 4u);  // every host keeps one point
}

TEST(RingHashLbTest, SkippedHostsAreAvoidedConsistently) {
  SeededRandom random;
  RingHashLb lb(random);
  auto hs = hosts({1, 1, 1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  for (uint64_t k : randomKeys(1000)) {
    Ctx ctx;
    ctx.key = k;
    ctx.skip = {pick(lb, hs, k)};
    const std::string second = hs[*lb.choose(&ctx)].name;
    EXPECT_NE(second, ctx.skip[0]);
    ctx.skip.push_back(second);
    const std::string third = hs[*lb.choose(&ctx)].name;
    EXPECT_NE(third, ctx.skip[0]);
    EXPECT_NE(third, ctx.skip[1]);
    EXPECT_EQ(hs[*lb.choose(&ctx)].name, third);  // still consistent per key
  }
}

TEST(RingHashLbTest, AllSkippedStillPicksTheKeysHost) {
  SeededRandom random;
  RingHashLb lb(random);
  auto hs = hosts({1, 1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  Ctx ctx;
  ctx.key = 77;
  ctx.skip = {hs[0].name, hs[1].name, hs[2].name};
  auto got = lb.choose(&ctx);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(hs[*got].name, pick(lb, hs, 77));
}

TEST(RingHashLbTest, OnlyMembersArePicked) {
  SeededRandom random;
  RingHashLb lb(random);
  auto hs = hosts({1, 1, 1, 1});
  std::vector<uint32_t> m{1, 2};
  lb.refresh(hs, m);
  Ctx ctx;
  ctx.skip = {hs[1].name};
  for (uint64_t k : randomKeys(1000)) {
    const std::string h = pick(lb, hs, k);
    EXPECT_TRUE(h == hs[1].name || h == hs[2].name);
    ctx.key = k;
    EXPECT_EQ(*lb.choose(&ctx), 2u);  // the walk never lands on a non-member
  }
}

TEST(RingHashLbTest, EmptyMembersHaveNoHost) {
  SeededRandom random;
  RingHashLb lb(random);
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  auto hs = hosts({1});
  lb.refresh(hs, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
