// Maglev: shares, consistency, small remapping, determinism, skips.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

#include "proxy/upstream/maglev_lb.h"
#include "proxy/util/hash.h"

namespace sluice::upstream {
namespace {

class SeededRandom : public util::RandomSource {
 public:
  uint64_t next() override { return rng_(); }

 private:
  std::mt19937_64 rng_{4321};
};

std::vector<Host> hosts(const std::vector<uint32_t>& weights) {
  std::vector<Host> out;
  int n = 1;
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

TEST(MaglevLbTest, DistributionFollowsWeights) {
  SeededRandom random;
  MaglevLb lb(random);
  auto hs = hosts({1, 2, 3, 4});
  auto m = all(hs);
  lb.refresh(hs, m);
  std::map<std::string, int> count;
  for (uint64_t k : randomKeys(100000)) ++count[pick(lb, hs, k)];
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(count[hs[i].name] / 100000.0, (i + 1) / 10.0, 0.02) << i;
  std::map<size_t, int> random_count;
  for (int i = 0; i < 100000; ++i) ++random_count[*lb.choose(nullptr)];
  for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(random_count[i] / 100000.0, (i + 1) / 10.0, 0.02) << i;
}

TEST(MaglevLbTest, RemapOnAddAndRemove) {
  SeededRandom random;
  auto hs = hosts(std::vector<uint32_t>(11, 1));
  std::vector<uint32_t> ten, eleven, nine;
  for (uint32_t i = 0; i < 11; ++i) {
    eleven.push_back(i);
    if (i < 10) ten.push_back(i);
    if (i < 10 && i != 4) nine.push_back(i);
  }
  MaglevLb base(random), added(random), removed(random);
  base.refresh(hs, ten);
  added.refresh(hs, eleven);
  removed.refresh(hs, nine);
  size_t moved_add = 0, moved_remove = 0, moved_other = 0;
  for (uint64_t k : randomKeys(100000)) {
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
  EXPECT_LT(moved_remove / 1e5, 2 / n);
  // Unlike a ring, Maglev moves a few keys between surviving hosts (0.2% here).
  EXPECT_LT(moved_other / 1e5, 0.01);
}

TEST(MaglevLbTest, SameKeySameHost) {
  SeededRandom random;
  MaglevLb lb(random);
  auto hs = hosts({1, 1, 1, 1, 1});
  auto m = all(hs);
  lb.refresh(hs, m);
  for (uint64_t k : randomKeys(1000)) {
    const std::string first = pick(lb, hs, k);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pick(lb, hs, k), first);
  }
}

TEST(MaglevLbTest, MappingDependsOnlyOnHostNames) {
  // Two workers (or two proxies) with their own host lists, even in another
  // order, map every key to the same host.
  SeededRandom random;
  auto a = hosts({1, 2, 3, 1, 1});
  auto b = a;
  std::reverse(b.begin(), b.end());
  MaglevLb lb_a(random), lb_b(random);
  auto ma = all(a), mb = all(b);
  lb_a.refresh(a, ma);
  lb_b.refresh(b, mb);
  for (uint64_t k : randomKeys(10000)) EXPECT_EQ(pick(lb_a, a, k), pick(lb_b, b, k));
  // Pinned picks: the same in every process and build.
  const std::pair<const char*, const char*> pinned[] = {
      {"user-1", "10.0.0.5:8080"}, {"user-2", "10.0.0.2:8080"}, {"user-6", "10.0.0.1:8080"},
      {"user-7", "10.0.0.3:8080"}};
  for (const auto& [user, host] : pinned) EXPECT_EQ(pick(lb_a, a, util::hash64(user)), host) << user;
}

TEST(MaglevLbTest, TableSizeIsPrime) {
  SeededRandom random;
  EXPECT_EQ(MaglevLb(random).tableSize(), 65537u);
  EXPECT_EQ(MaglevLb(random, 251).tableSize(), 251u);
  EXPECT_EQ(MaglevLb(random, 1000).tableSize(), 1009u);
  EXPECT_EQ(MaglevLb(random, 0).tableSize(), 2u);
  // A small table still gives every host a slot and follows weights.
  MaglevLb lb(random, 101);
  auto hs = hosts({1, 3});
  auto m = all(hs);
  lb.refresh(hs, m);
  std::map<std::string, int> count;
  for (uint64_t k = 0; k < 101; ++k) ++count[pick(lb, hs, k)];
  EXPECT_NEAR(count[hs[0].name], 25, 1);
  EXPECT_NEAR(count[hs[1].name], 76, 1);
}

TEST(MaglevLbTest, SkippedHostsAreAvoided) {
  SeededRandom random;
  MaglevLb lb(random);
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
    ctx.skip.push_back(hs[0].name == ctx.skip[0] || hs[0].name == second ? hs[1].name : hs[0].name);
    // One host left: rehashing rarely finds it, the scan does.
    const std::string last = hs[*lb.choose(&ctx)].name;
    EXPECT_EQ(std::count(ctx.skip.begin(), ctx.skip.end(), last), 0);
    EXPECT_EQ(hs[*lb.choose(&ctx)].name, last);  // still consistent per key
  }
}

TEST(MaglevLbTest, AllSkippedStillPicksTheKeysHost) {
  SeededRandom random;
  MaglevLb lb(random);
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

TEST(MaglevLbTest, OnlyMembersArePicked) {
  SeededRandom random;
  MaglevLb lb(random);
  auto hs = hosts({1, 1, 1, 1});
  std::vector<uint32_t> m{1, 2};
  lb.refresh(hs, m);
  Ctx ctx;
  ctx.skip = {hs[1].name};
  for (uint64_t k : randomKeys(1000)) {
    const std::string h = pick(lb, hs, k);
    EXPECT_TRUE(h == hs[1].name || h == hs[2].name);
    ctx.key = k;
    EXPECT_EQ(*lb.choose(&ctx), 2u);
  }
}

TEST(MaglevLbTest, EmptyMembersHaveNoHost) {
  SeededRandom random;
  MaglevLb lb(random);
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  auto hs = hosts({1});
  lb.refresh(hs, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
