// Ring hash: shares, consistency, minimal remapping, determinism, skips.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "proxy/upstream/ring_hash_lb.h"
#include "proxy/util/hash.h"
#include "tests/unit/upstream/lb_test_support.h"

namespace sluice::upstream {
namespace {

using namespace lbtest;

TEST(RingHashLbTest, HashIsPinned) {
  // Changing hash64 remaps every key of every ring_hash/maglev cluster and
  // breaks agreement between proxies running different builds.
  EXPECT_EQ(util::hash64(""), 0xf52a15e9a9b5e89bULL);
  EXPECT_EQ(util::hash64("10.0.0.1:8080_0"), 0x4d561d3a12b2bde9ULL);
  EXPECT_EQ(util::mix64(1), 0x5692161d100b05e5ULL);
}

TEST(RingHashLbTest, DistributionFollowsWeights) {
  SeededRandom random(1234);
  // A host's share varies by about 1/sqrt(its points): the default 1024-point
  // minimum gives +-3%, so a finer ring is asked for here.
  RingHashLb lb(random, 16384);
  auto hs = ipHosts({1, 2, 3, 4});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  EXPECT_TRUE(sharesFollowWeights(countKeyedPicks(lb, randomKeys(100000)), 100000, hs));
  // No key: random picks, same shares.
  EXPECT_TRUE(sharesFollowWeights(countPicks(lb, 100000), 100000, hs));
}

TEST(RingHashLbTest, RemapOnAddAndRemove) {
  SeededRandom random(1234);
  RingHashLb base(random), added(random), removed(random);
  const Remap r(base, added, removed);
  const double n = 10;
  EXPECT_GT(r.moved_add / 1e5, 0.5 / (n + 1));
  EXPECT_LT(r.moved_add / 1e5, 1.6 / (n + 1));
  EXPECT_GT(r.moved_remove / 1e5, 0.5 / n);
  EXPECT_LT(r.moved_remove / 1e5, 1.6 / n);
  EXPECT_EQ(r.moved_other, 0u);  // only the removed host's keys move
  // The surviving hosts keep their points: the ring grows or shrinks by one host's share.
  EXPECT_EQ(base.ringSize(), 1280u);
  EXPECT_EQ(added.ringSize(), 1408u);
  EXPECT_EQ(removed.ringSize(), 1152u);
}

TEST(RingHashLbTest, SameKeySameHost) {
  SeededRandom random(1234);
  RingHashLb lb(random);
  auto hs = ipHosts({1, 1, 1, 1, 1});
  auto m = allMembers(hs);
  lb.refresh(hs, m);
  for (uint64_t k : randomKeys(1000)) {
    const std::string first = pick(lb, hs, k);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(pick(lb, hs, k), first);
  }
}

TEST(RingHashLbTest, MappingDependsOnlyOnHostNames) {
  // Two workers (or two proxies) with their own host lists, even in another
  // order, map every key to the same host.
  SeededRandom random(1234);
  auto a = ipHosts({1, 2, 3, 1, 1});
  auto b = a;
  std::reverse(b.begin(), b.end());
  RingHashLb lb_a(random), lb_b(random);
  auto ma = allMembers(a), mb = allMembers(b);
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
  SeededRandom random(1234);
  auto hs = ipHosts({1, 2, 3, 4});
  auto m = allMembers(hs);
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
  SeededRandom random(1234);
  RingHashLb lb(random);
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
    const std::string third = hs[*lb.choose(&ctx)].name;
    EXPECT_NE(third, ctx.skip[0]);
    EXPECT_NE(third, ctx.skip[1]);
    EXPECT_EQ(hs[*lb.choose(&ctx)].name, third);  // still consistent per key
  }
}

TEST(RingHashLbTest, AllSkippedStillPicksTheKeysHost) {
  SeededRandom random(1234);
  RingHashLb lb(random);
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

TEST(RingHashLbTest, OnlyMembersArePicked) {
  SeededRandom random(1234);
  RingHashLb lb(random);
  auto hs = ipHosts({1, 1, 1, 1});
  std::vector<uint32_t> m{1, 2};
  lb.refresh(hs, m);
  HashContext ctx;
  ctx.skip = {hs[1].name};
  for (uint64_t k : randomKeys(1000)) {
    const std::string h = pick(lb, hs, k);
    EXPECT_TRUE(h == hs[1].name || h == hs[2].name);
    ctx.key = k;
    EXPECT_EQ(*lb.choose(&ctx), 2u);  // the walk never lands on a non-member
  }
}

TEST(RingHashLbTest, EmptyMembersHaveNoHost) {
  SeededRandom random(1234);
  RingHashLb lb(random);
  EXPECT_FALSE(lb.choose(nullptr).has_value());
  auto hs = ipHosts({1});
  lb.refresh(hs, {});
  EXPECT_FALSE(lb.choose(nullptr).has_value());
}

}  // namespace
}  // namespace sluice::upstream
