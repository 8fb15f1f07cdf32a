// Full-jitter exponential backoff: the window per retry, the cap, and that
// draws cover the whole window uniformly.
#include <gtest/gtest.h>

#include <random>

#include "proxy/util/backoff.h"

namespace sluice::util {
namespace {

using std::chrono::milliseconds;

class Seeded : public RandomSource {
 public:
  explicit Seeded(uint64_t seed) : rng_(seed) {}
  uint64_t next() override { return rng_(); }

 private:
  std::mt19937_64 rng_;
};

// Always the same raw value: max picks the top of the window.
class Fixed : public RandomSource {
 public:
  explicit Fixed(uint64_t v) : v_(v) {}
  uint64_t next() override { return v_; }

 private:
  uint64_t v_;
};

TEST(Backoff, CeilingIsBaseTimesTwoToTheNMinusOneCappedAtMax) {
  const milliseconds base(25), max(250);
  EXPECT_EQ(backoffCeiling(0, base, max), milliseconds(0));
  EXPECT_EQ(backoffCeiling(1, base, max), milliseconds(25));
  EXPECT_EQ(backoffCeiling(2, base, max), milliseconds(75));
  EXPECT_EQ(backoffCeiling(3, base, max), milliseconds(175));
  EXPECT_EQ(backoffCeiling(4, base, max), milliseconds(250));  // 375 capped
  EXPECT_EQ(backoffCeiling(100, base, max), milliseconds(250));  // no overflow
  EXPECT_EQ(backoffCeiling(63, milliseconds(1), milliseconds(1'000'000)), milliseconds(1'000'000));
}

TEST(Backoff, DrawsStayInsideTheWindowAndCoverItUniformly) {
  Seeded random(42);
  const milliseconds base(25), max(250);
  for (uint32_t n = 1; n <= 5; ++n) {
    const auto ceiling = backoffCeiling(n, base, max).count();
    constexpr int kDraws = 20000;
    int64_t sum = 0, lo = ceiling, hi = 0;
    int64_t quarters[4] = {};
    for (int i = 0; i < kDraws; ++i) {
      const auto d = fullJitterBackoff(n, base, max, random).count();
      ASSERT_GE(d, 0);
      ASSERT_LE(d, ceiling);
      sum += d;
      lo = std::min(lo, d);
      hi = std::max(hi, d);
      ++quarters[std::min<int64_t>(3, d * 4 / (ceiling + 1))];
    }
    // Uniform over [0, ceiling]: mean ceiling/2, both ends reached, each quarter ~25%.
    EXPECT_NEAR(static_cast<double>(sum) / kDraws, ceiling / 2.0, ceiling * 0.02) << "retry " << n;
    EXPECT_EQ(lo, 0) << "retry " << n;
    EXPECT_EQ(hi, ceiling) << "retry " << n;
    for (auto q : quarters) EXPECT_NEAR(q, kDraws / 4, kDraws * 0.03) << "retry " << n;
  }
}

TEST(Backoff, TheTopOfTheWindowIsReachable) {
  Fixed top(75);  // below(76) of 75 = 75
  EXPECT_EQ(fullJitterBackoff(2, milliseconds(25), milliseconds(250), top), milliseconds(75));
  Fixed zero(0);
  EXPECT_EQ(fullJitterBackoff(3, milliseconds(25), milliseconds(250), zero), milliseconds(0));
}

}  // namespace
}  // namespace sluice::util
