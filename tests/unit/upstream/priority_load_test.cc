// Priority load: spill-over, normalization, panic and picking a level.
#include <gtest/gtest.h>

#include <vector>

#include "proxy/upstream/priority_load.h"

namespace sluice::upstream {
namespace {

PriorityLoad compute(std::vector<LevelHealth> levels, uint32_t panic_threshold = 50) {
  return computePriorityLoad(levels, 140, panic_threshold);
}

using Percents = std::vector<uint32_t>;

TEST(PriorityLoadTest, OneLevelOneOfThreeHealthyPanics) {
  auto load = compute({{3, 1}});  // 1 * 140 / 3 = 46 < 50
  EXPECT_TRUE(load.panic);
  EXPECT_EQ(load.percent, (Percents{100}));
}

TEST(PriorityLoadTest, OneLevelTwoOfThreeHealthyTakesEverything) {
  auto load = compute({{3, 2}});  // health 93, scaled up to 100
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.percent, (Percents{100}));
}

TEST(PriorityLoadTest, HealthyFirstLevelTakesAll) {
  auto load = compute({{10, 10}, {10, 10}});
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.percent, (Percents{100, 0}));
}

TEST(PriorityLoadTest, DegradedFirstLevelSpillsOver) {
  auto load = compute({{10, 5}, {10, 10}});
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.percent, (Percents{70, 30}));
}

TEST(PriorityLoadTest, DeadFirstLevelSendsAllToSecond) {
  auto load = compute({{10, 0}, {10, 10}});
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.percent, (Percents{0, 100}));
}

TEST(PriorityLoadTest, TotalHealthBelowHundredIsNormalized) {
  auto load = compute({{10, 2}, {10, 3}});  // 28 + 42 = 70
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.percent, (Percents{40, 60}));
}

TEST(PriorityLoadTest, TotalHealthBelowThresholdPanicsByTotals) {
  auto load = compute({{10, 1}, {10, 1}});  // 14 + 14 = 28
  EXPECT_TRUE(load.panic);
  EXPECT_EQ(load.percent, (Percents{50, 50}));
}

TEST(PriorityLoadTest, PanicSplitFollowsHostCounts) {
  auto load = compute({{30, 1}, {10, 0}});
  EXPECT_TRUE(load.panic);
  EXPECT_EQ(load.percent, (Percents{75, 25}));
}

TEST(PriorityLoadTest, NormalizationLeftoverGoesToLargestShare) {
  // 1*140/3 = 46 and 1*140/4 = 35: 81 total; floors 56 + 43 = 99.
  auto load = compute({{3, 1}, {4, 1}}, 0);
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.percent, (Percents{57, 43}));
}

TEST(PriorityLoadTest, PanicLeftoverGoesToLargestLevel) {
  auto load = compute({{1, 0}, {1, 0}, {1, 0}});
  EXPECT_TRUE(load.panic);
  EXPECT_EQ(load.percent, (Percents{34, 33, 33}));
}

TEST(PriorityLoadTest, ZeroThresholdNeverPanicsWhileSomethingIsHealthy) {
  auto load = compute({{10, 1}, {10, 1}}, 0);
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.percent, (Percents{50, 50}));
}

TEST(PriorityLoadTest, NoHealthyHostPanicsEvenWithZeroThreshold) {
  auto load = compute({{4, 0}, {12, 0}}, 0);
  EXPECT_TRUE(load.panic);
  EXPECT_EQ(load.percent, (Percents{25, 75}));
}

TEST(PriorityLoadTest, HealthTooSmallToRegisterCountsAsNone) {
  auto load = compute({{1000, 1}}, 0);  // 140 / 1000 rounds to 0
  EXPECT_TRUE(load.panic);
  EXPECT_EQ(load.percent, (Percents{100}));
}

TEST(PriorityLoadTest, NoHostsAtAllGivesZeroes) {
  auto load = compute({{0, 0}, {0, 0}});
  EXPECT_FALSE(load.panic);
  EXPECT_EQ(load.percent, (Percents{0, 0}));
  EXPECT_EQ(pickPriorityLevel(load, 42), 0u);
  EXPECT_TRUE(compute({}).percent.empty());
}

TEST(PriorityLoadTest, EmptyLevelBetweenOthersIsSkipped) {
  auto load = compute({{10, 5}, {0, 0}, {10, 10}});
  EXPECT_EQ(load.percent, (Percents{70, 0, 30}));
}

TEST(PriorityLoadTest, PickWalksCumulativePercents) {
  PriorityLoad load{{70, 0, 30}, false};
  EXPECT_EQ(pickPriorityLevel(load, 0), 0u);
  EXPECT_EQ(pickPriorityLevel(load, 69), 0u);
  EXPECT_EQ(pickPriorityLevel(load, 70), 2u);
  EXPECT_EQ(pickPriorityLevel(load, 99), 2u);
  EXPECT_EQ(pickPriorityLevel(load, 100), 0u);  // wraps modulo 100
  EXPECT_EQ(pickPriorityLevel(load, 1070), 2u);
}

TEST(PriorityLoadTest, PickDistributionMatchesPercents) {
  PriorityLoad load{{40, 60, 0}, false};
  std::vector<uint32_t> counts(3, 0);
  for (uint64_t r = 0; r < 10000; ++r) ++counts[pickPriorityLevel(load, r * 7919)];  // 7919 is coprime to 100
  EXPECT_EQ(counts, (std::vector<uint32_t>{4000, 6000, 0}));
}

TEST(PriorityLoadTest, PickNeverChoosesZeroLevel) {
  PriorityLoad load{{0, 100}, false};
  for (uint64_t r = 0; r < 200; ++r) EXPECT_EQ(pickPriorityLevel(load, r), 1u);
}

}  // namespace
}  // namespace sluice::upstream
