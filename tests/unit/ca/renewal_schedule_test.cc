// The agent's schedule on an injected clock and random source: renewal at
// half of the lifetime ±10%, retries 1 s doubling to 30 s, jittered, never
// zero.
#include "proxy/ca/renewal_schedule.h"

#include <gtest/gtest.h>

namespace sluice::ca {
namespace {

using namespace std::chrono_literals;

// Always the same draw: 0 gives the low end of a range, ~0 the high end.
class FixedRandom final : public util::RandomSource {
 public:
  explicit FixedRandom(uint64_t v) : v_(v) {}
  uint64_t next() override { return v_; }

 private:
  uint64_t v_;
};

constexpr WallTime kIssued{std::chrono::seconds(1'800'000'000)};

TEST(RenewalDelay, HalfOfTheLifetimeWithinTenPercent) {
  const WallTime not_after = kIssued + 24h;
  FixedRandom low(0), mid(8'640'000), high(2 * 8'640'000);  // life/10 = 8,640,000 ms
  EXPECT_EQ(renewalDelay(kIssued, not_after, kIssued, low), Millis(std::chrono::hours(24)) * 4 / 10);
  EXPECT_EQ(renewalDelay(kIssued, not_after, kIssued, mid), Millis(12h));
  EXPECT_EQ(renewalDelay(kIssued, not_after, kIssued, high), Millis(std::chrono::hours(24)) * 6 / 10);
  // Counted from now, not from issue.
  EXPECT_EQ(renewalDelay(kIssued, not_after, kIssued + 2h, mid), Millis(10h));
}

TEST(RenewalDelay, AlwaysInsideTheBoundsForAnyDraw) {
  const WallTime not_after = kIssued + 10s;
  for (uint64_t draw = 0; draw < 5000; draw += 7) {
    FixedRandom r(draw * 2654435761u);
    const Millis d = renewalDelay(kIssued, not_after, kIssued, r);
    EXPECT_GE(d, 4000ms);
    EXPECT_LE(d, 6000ms);
  }
}

TEST(RenewalDelay, OverdueRenewsAtOnce) {
  FixedRandom r(0);
  EXPECT_EQ(renewalDelay(kIssued, kIssued + 10s, kIssued + 9s, r), 0ms);
  EXPECT_EQ(renewalDelay(kIssued, kIssued, kIssued, r), 0ms) << "no lifetime at all";
}

TEST(RetryDelay, ExponentialFromOneSecondToThirtyJittered) {
  FixedRandom low(0), high(~uint64_t{0} / 2);
  struct Case {
    uint32_t failures;
    Millis full;
  } cases[] = {{1, 1000ms}, {2, 2000ms}, {3, 4000ms}, {5, 16000ms}, {6, 30000ms}, {40, 30000ms}};
  for (const auto& c : cases) {
    SCOPED_TRACE(c.failures);
    EXPECT_EQ(retryDelay(c.failures, low), c.full / 2) << "never below half";
    for (uint64_t draw = 1; draw < 2000; draw += 13) {
      FixedRandom r(draw * 0x9E3779B97F4A7C15ull);
      const Millis d = retryDelay(c.failures, r);
      EXPECT_GE(d, c.full / 2);
      EXPECT_LE(d, c.full);
    }
  }
  EXPECT_GE(retryDelay(1, high), 500ms);
  EXPECT_LE(retryDelay(100, high), kRetryCeiling);
}

}  // namespace
}  // namespace sluice::ca
