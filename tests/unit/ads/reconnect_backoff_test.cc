#include "proxy/ads/reconnect_backoff.h"

#include <gtest/gtest.h>

namespace sluice::ads {
namespace {

using std::chrono::milliseconds;

// Returns `v` every time.
class FixedRandom : public util::RandomSource {
 public:
  explicit FixedRandom(uint64_t v) : v_(v) {}
  uint64_t next() override { return v_; }

 private:
  uint64_t v_;
};

TEST(ReconnectBackoff, DoublesFromHalfASecondToThirtySeconds) {
  EXPECT_EQ(reconnectMidpoint(1), milliseconds(500));
  EXPECT_EQ(reconnectMidpoint(2), milliseconds(1000));
  EXPECT_EQ(reconnectMidpoint(3), milliseconds(2000));
  EXPECT_EQ(reconnectMidpoint(7), milliseconds(30000));  // 32 s capped
  EXPECT_EQ(reconnectMidpoint(1000), milliseconds(30000));
}

TEST(ReconnectBackoff, JitterStaysWithinHalfEitherSide) {
  FixedRandom low(0);
  for (uint32_t attempt : {1u, 2u, 5u, 9u, 100u}) {
    const auto mid = reconnectMidpoint(attempt);
    EXPECT_EQ(reconnectDelay(attempt, low), mid / 2) << attempt;
    FixedRandom high(static_cast<uint64_t>(mid.count()) - 1);  // the largest draw below mid
    EXPECT_EQ(reconnectDelay(attempt, high), mid * 3 / 2 - milliseconds(1)) << attempt;
  }
}

TEST(ReconnectBackoff, RealRandomnessSpreadsTheDelays) {
  util::RandomSource& r = util::threadRandomSource();
  milliseconds lo = milliseconds::max(), hi = milliseconds::zero();
  for (int i = 0; i < 200; ++i) {
    const auto d = reconnectDelay(3, r);
    ASSERT_GE(d, milliseconds(1000));
    ASSERT_LT(d, milliseconds(3000));
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  EXPECT_GT(hi - lo, milliseconds(1000));  // not all in lockstep
}

}  // namespace
}  // namespace sluice::ads
