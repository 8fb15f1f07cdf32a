// Maglev: shares, consistency, small remapping, determinism, skips.
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "proxy/upstream/maglev_lb.h"
#include "proxy/util/hash.h"
#include "tests/unit/upstream/lb_test_support.h"

namespace sluice::upstream {
namespace {

using namespace lbtest;

TEST(MaglevLbTest, DistributionFollowsWeights) {
  SeededRandom random(4321);
  MaglevLb lb(random);
  auto hs = ipHosts({1, 2, 3, 4});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  EXPECT_TRUE(sharesFollowWeights(countKeyedPicks(lb, randomKeys(100000)), 100000, hs));
  EXPECT_TRUE(sharesFollowWeights(countPicks(lb, 100000), 100000, hs));
}

TEST(MaglevLbTest, RemapOnAddAndRemove) {
  SeededRandom random(4321);
  MaglevLb base(random), added(random), removed(random);
  const Remap r(base, added, removed);
  const double n = 10;
  EXPECT_GT(r.moved_add / 1e5, 0.5 / (n + 1));
  EXPECT_LT(r.moved_add / 1e5, 1.6 / (n + 1));
  EXPECT_GT(r.moved_remove / 1e5, 0.5 / n);
  EXPECT_LT(r.moved_remove / 1e5, 1.6 / n);
  EXPECT_LT(r.moved_remove / 1e5, 2 / n);
  // Unlike a ring, Maglev moves a few keys between surviving hosts (0.2% here).
  EXPECT_LT(r.moved_other / 1e5, 0.01);
}

TEST(MaglevLbTest, SameKeySameHost) {
  SeededRandom random(4321);
  MaglevLb lb(random);
  auto hs = ipHosts({1, 1, 1, 1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  for (uint64_t k : randomKeys(1000)) {
    const std::string first = pick(lb, hs, k);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pick(lb, hs, k), first);
  }
}

TEST(MaglevLbTest, MappingDependsOnlyOnHostNames) {
  // Two workers (or two proxies) with their own host lists, even in another
  // order, map every key to the same host.
  SeededRandom random(4321);
  auto a = ipHosts({1, 2, 3, 1, 1});
  auto b = a;
  std::reverse(b.begin(), b.end());
  MaglevLb lb_a(random), lb_b(random);
  auto ma = allMembers(a), mb = allMembers(b);
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
  SeededRandom random(4321);
  EXPECT_EQ(MaglevLb(random).tableSize(), 65537u);
  EXPECT_EQ(MaglevLb(random, 251).tableSize(), 251u);
  EXPECT_EQ(MaglevLb(random, 1000).tableSize(), 1009u);
  EXPECT_EQ(MaglevLb(random, 0).tableSize(), 2u);
  // A small table still gives every host a slot and follows weights.
  MaglevLb lb(random, 101);
  auto hs = ipHosts({1, 3});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  std::map<std::string, int> count;
  for (uint64_t k = 0; k < 101; ++k) ++count[pick(lb, hs, k)];
  EXPECT_NEAR(count[hs[0].name], 25, 1);
  EXPECT_NEAR(count[hs[1].name], 76, 1);
}

TEST(MaglevLbTest, SkippedHostsAreAvoided) {
  SeededRandom random(4321);
  MaglevLb lb(random);
  auto hs = ipHosts({1, 1, 1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  for (uint64_t k : randomKeys(1000)) {
    HashContext ctx;
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
  SeededRandom random(4321);
  MaglevLb lb(random);
  auto hs = ipHosts({1, 1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  HashContext ctx;
  ctx.key = 77;
  ctx.skip = {hs[0].name, hs[1].name, hs[2].name};
  auto got = lb.choose(&ctx);
  ASSERT_TRUE(got.has_value());
  EXPECT_EQ(hs[*got].name, pick(lb, hs, 77));
}

TEST(MaglevLbTest, OnlyMembersArePicked) {
  SeededRandom random(4321);
  MaglevLb lb(random);
  auto hs = ipHosts({1, 1, 1, 1});
  std::vector<uint32_t> m{1, 2};
  lb.refresh(hs, m);
  HashContext ctx;
  ctx.skip = {hs[1].name};
  for (uint64_t k : randomKeys(1000)) {
    const std::string h = pick(lb, hs, k);
    EXPECT_TRUE(h == hs[1].name || h == hs[2].name);
    ctx.key = k;
    EXPECT_EQ(*lb.choose(&ctx), 2u);
  }
}

TEST(MaglevLbTest, EmptyMembersHaveNoHost) {
  SeededRandom random(4321);
  MaglevLb lb(random);
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  auto hs = ipHosts({1});
  lb.refresh(hs, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
