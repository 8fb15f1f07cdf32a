// The retry budget's arithmetic: a share of the active requests with a floor,
// or the static max_retries when the budget is off.
#include <gtest/gtest.h>

#include "proxy/upstream/cluster_shared.h"

namespace sluice::upstream {
namespace {

void hold(Breaker& b, int n) {
  for (int i = 0; i < n; ++i) ASSERT_TRUE(b.tryAcquire(1u << 30));
}

TEST(RetryBudget, FloorBelowFiveTimesTheFloorInFlight) {
  config::CircuitBreakerThresholds t;  // budget on by default: 20%, floor 3
  BreakerGroup g;
  EXPECT_EQ(retryLimit(t, g), 3u);
  hold(g.requests, 10);
  EXPECT_EQ(retryLimit(t, g), 3u);  // 20% of 10 = 2 < 3
  hold(g.requests, 10);
  EXPECT_EQ(retryLimit(t, g), 4u);  // 20% of 20
  hold(g.requests, 480);
  EXPECT_EQ(retryLimit(t, g), 100u);  // 20% of 500
}

TEST(RetryBudget, PendingRequestsAreAlreadyCountedInRequests) {
  config::CircuitBreakerThresholds t;
  BreakerGroup g;
  hold(g.requests, 100);
  hold(g.pending, 100);
  EXPECT_EQ(retryLimit(t, g), 20u);
}

TEST(RetryBudget, PercentAndFloorAreConfigurable) {
  config::CircuitBreakerThresholds t;
  t.retry_budget = config::RetryBudget{50, 0};
  BreakerGroup g;
  EXPECT_EQ(retryLimit(t, g), 0u);  // nothing in flight, no floor: no retry
  hold(g.requests, 7);
  EXPECT_EQ(retryLimit(t, g), 3u);  // rounds down
}

TEST(RetryBudget, WithoutABudgetMaxRetriesIsTheLimit) {
  config::CircuitBreakerThresholds t;
  t.retry_budget.reset();
  t.max_retries = 5;
  BreakerGroup g;
  hold(g.requests, 1000);
  EXPECT_EQ(retryLimit(t, g), 5u);
}

TEST(RetryBudget, SlotsAreTakenAgainstTheCurrentLimit) {
  config::CircuitBreakerThresholds t;
  BreakerGroup g;
  hold(g.requests, 20);  // limit 4
  for (int i = 0; i < 4; ++i) EXPECT_TRUE(g.retries.tryAcquire(retryLimit(t, g)));
  EXPECT_FALSE(g.retries.tryAcquire(retryLimit(t, g)));
  g.retries.release();
  EXPECT_TRUE(g.retries.tryAcquire(retryLimit(t, g)));
}

}  // namespace
}  // namespace sluice::upstream
