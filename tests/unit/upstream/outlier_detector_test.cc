// Outlier detection and the per-host breaker, on simulated time.
#include <gtest/gtest.h>

#include <vector>

#include "proxy/upstream/outlier_detector.h"

namespace sluice::upstream {
namespace {

using namespace std::chrono_literals;
using Window = OutlierDetector::Window;
using Hosts = std::vector<size_t>;

config::OutlierDetectionConfig config(uint32_t max_ejection_percent = 100) {
  config::OutlierDetectionConfig cfg;
  cfg.base_ejection_time = 30s;
  cfg.max_ejection_time = 300s;
  cfg.max_ejection_percent = max_ejection_percent;
  return cfg;
}

config::OutlierDetectionConfig successRateConfig() {
  auto cfg = config();
  cfg.success_rate.emplace();  // minimum_hosts 5, request_volume 100, stdev_factor 1.9
  return cfg;
}

config::OutlierDetectionConfig failurePercentageConfig(uint32_t max_ejection_percent = 100) {
  auto cfg = config(max_ejection_percent);
  cfg.failure_percentage.emplace();  // threshold 85, minimum_hosts 5, request_volume 50
  return cfg;
}

class OutlierDetectorTest : public ::testing::Test {
 protected:
  // Fails the host's single probe after letting its ejection run out.
  void failProbe(OutlierDetector& od, size_t host) {
    now_ = od.ejectedUntil(host);
    ASSERT_EQ(od.expire(now_), Hosts{host});
    ASSERT_EQ(od.probeResult(host, false, now_), BreakerState::Open);
  }

  event::MonoTime now_ = event::MonoTime{} + 1000s;
};

TEST_F(OutlierDetectorTest, Consecutive5xxEjects) {
  OutlierDetector od(config(), 4);
  EXPECT_TRUE(od.reportConsecutive(2, EjectCause::Consecutive5xx, now_));
  EXPECT_EQ(od.state(2), BreakerState::Open);
  EXPECT_EQ(od.lastCause(2), EjectCause::Consecutive5xx);
  EXPECT_EQ(od.ejectionsTotal(2), 1u);
  EXPECT_EQ(od.multiplier(2), 1u);
  EXPECT_EQ(od.ejectedUntil(2), now_ + 30s);
  EXPECT_EQ(od.openCount(), 1u);
  EXPECT_EQ(od.state(0), BreakerState::Closed);
  EXPECT_FALSE(od.lastCause(0));

  // Already ejected: a second report changes nothing.
  EXPECT_FALSE(od.reportConsecutive(2, EjectCause::Consecutive5xx, now_ + 1s));
  EXPECT_EQ(od.ejectionsTotal(2), 1u);
  EXPECT_EQ(od.ejectedUntil(2), now_ + 30s);
}

TEST_F(OutlierDetectorTest, ConsecutiveGatewayFailureEjects) {
  OutlierDetector od(config(), 4);
  EXPECT_TRUE(od.reportConsecutive(0, EjectCause::ConsecutiveGatewayFailure, now_));
  EXPECT_EQ(od.state(0), BreakerState::Open);
  EXPECT_EQ(od.lastCause(0), EjectCause::ConsecutiveGatewayFailure);
}

TEST_F(OutlierDetectorTest, ZeroThresholdTurnsConsecutiveDetectorOff) {
  auto cfg = config();
  cfg.consecutive_5xx = 0;
  OutlierDetector od(cfg, 4);
  EXPECT_FALSE(od.reportConsecutive(0, EjectCause::Consecutive5xx, now_));
  EXPECT_TRUE(od.reportConsecutive(0, EjectCause::ConsecutiveGatewayFailure, now_));
}

TEST_F(OutlierDetectorTest, OneHostMayAlwaysBeEjected) {
  OutlierDetector od(config(10), 3);  // 3 * 10% rounds down to 0 hosts
  EXPECT_TRUE(od.reportConsecutive(0, EjectCause::Consecutive5xx, now_));
  EXPECT_FALSE(od.reportConsecutive(1, EjectCause::Consecutive5xx, now_));
  EXPECT_EQ(od.state(1), BreakerState::Closed);

  now_ += 30s;
  od.expire(now_);
  od.probeResult(0, true, now_);
  EXPECT_TRUE(od.reportConsecutive(1, EjectCause::Consecutive5xx, now_));
}

TEST_F(OutlierDetectorTest, ZeroPercentStillEjectsOne) {
  OutlierDetector od(config(0), 10);
  EXPECT_TRUE(od.reportConsecutive(0, EjectCause::Consecutive5xx, now_));
  EXPECT_FALSE(od.reportConsecutive(1, EjectCause::Consecutive5xx, now_));
}

TEST_F(OutlierDetectorTest, TenHostsAtTwentyPercentEjectTwo) {
  OutlierDetector od(config(20), 10);
  EXPECT_TRUE(od.reportConsecutive(0, EjectCause::Consecutive5xx, now_));
  EXPECT_TRUE(od.reportConsecutive(1, EjectCause::ConsecutiveGatewayFailure, now_));
  EXPECT_FALSE(od.reportConsecutive(2, EjectCause::Consecutive5xx, now_));
  EXPECT_EQ(od.openCount(), 2u);
  EXPECT_EQ(od.state(2), BreakerState::Closed);
}

TEST_F(OutlierDetectorTest, HalfOpenHostsCountAgainstTheLimit) {
  OutlierDetector od(config(20), 10);
  od.reportConsecutive(0, EjectCause::Consecutive5xx, now_);
  od.reportConsecutive(1, EjectCause::Consecutive5xx, now_);
  now_ += 30s;
  EXPECT_EQ(od.expire(now_), (Hosts{0, 1}));
  EXPECT_EQ(od.openCount(), 0u);
  // A failed probe re-opens without asking, so half-open hosts hold their slot.
  EXPECT_FALSE(od.reportConsecutive(2, EjectCause::Consecutive5xx, now_));
  od.probeResult(0, true, now_);
  EXPECT_TRUE(od.reportConsecutive(2, EjectCause::Consecutive5xx, now_));
  od.probeResult(1, false, now_);
  EXPECT_EQ(od.openCount(), 2u);
}

TEST_F(OutlierDetectorTest, ExpireMovesToHalfOpenAtEjectionEnd) {
  OutlierDetector od(config(), 2);
  EXPECT_FALSE(od.nextExpiry());
  od.reportConsecutive(1, EjectCause::Consecutive5xx, now_);
  EXPECT_EQ(od.nextExpiry(), now_ + 30s);

  EXPECT_TRUE(od.expire(now_ + 29s).empty());
  EXPECT_EQ(od.state(1), BreakerState::Open);
  EXPECT_EQ(od.expire(now_ + 30s), Hosts{1});
  EXPECT_EQ(od.state(1), BreakerState::HalfOpen);
  EXPECT_EQ(od.openCount(), 0u);
  EXPECT_FALSE(od.nextExpiry());
  EXPECT_TRUE(od.expire(now_ + 60s).empty());
}

TEST_F(OutlierDetectorTest, ProbeSuccessCloses) {
  OutlierDetector od(config(), 2);
  od.reportConsecutive(0, EjectCause::Consecutive5xx, now_);
  now_ += 30s;
  od.expire(now_);
  EXPECT_EQ(od.probeResult(0, true, now_), BreakerState::Closed);
  // Later probe results for the same half-open period are ignored.
  EXPECT_EQ(od.probeResult(0, false, now_), BreakerState::Closed);
  EXPECT_EQ(od.ejectionsTotal(0), 1u);
}

TEST_F(OutlierDetectorTest, ProbeFailureReopensForLonger) {
  OutlierDetector od(config(), 2);
  od.reportConsecutive(0, EjectCause::ConsecutiveGatewayFailure, now_);
  failProbe(od, 0);
  EXPECT_EQ(od.multiplier(0), 2u);
  EXPECT_EQ(od.ejectedUntil(0), now_ + 60s);
  EXPECT_EQ(od.ejectionsTotal(0), 2u);
  EXPECT_EQ(od.lastCause(0), EjectCause::ConsecutiveGatewayFailure);
  EXPECT_EQ(od.openCount(), 1u);
  EXPECT_EQ(od.nextExpiry(), now_ + 60s);
}

TEST_F(OutlierDetectorTest, ProbeResultIgnoredUnlessHalfOpen) {
  OutlierDetector od(config(), 2);
  EXPECT_EQ(od.probeResult(0, false, now_), BreakerState::Closed);
  od.reportConsecutive(1, EjectCause::Consecutive5xx, now_);
  EXPECT_EQ(od.probeResult(1, true, now_), BreakerState::Open);
  EXPECT_EQ(od.probeResult(1, false, now_), BreakerState::Open);
  EXPECT_EQ(od.ejectedUntil(1), now_ + 30s);
}

TEST_F(OutlierDetectorTest, EjectionTimeGrowsWithMultiplierUpToCap) {
  auto cfg = config();
  cfg.max_ejection_time = 100s;
  OutlierDetector od(cfg, 1);
  od.reportConsecutive(0, EjectCause::Consecutive5xx, now_);
  EXPECT_EQ(od.ejectedUntil(0) - now_, 30s);
  failProbe(od, 0);
  EXPECT_EQ(od.ejectedUntil(0) - now_, 60s);
  failProbe(od, 0);
  EXPECT_EQ(od.ejectedUntil(0) - now_, 90s);
  failProbe(od, 0);
  EXPECT_EQ(od.ejectedUntil(0) - now_, 100s);
  EXPECT_EQ(od.multiplier(0), 4u);
  failProbe(od, 0);
  EXPECT_EQ(od.ejectedUntil(0) - now_, 100s);
  EXPECT_EQ(od.multiplier(0), 4u);  // stops growing at the cap
  EXPECT_EQ(od.ejectionsTotal(0), 5u);
}

TEST_F(OutlierDetectorTest, NextExpiryIsTheEarliestOpenHost) {
  OutlierDetector od(config(), 3);
  od.reportConsecutive(0, EjectCause::Consecutive5xx, now_);        // until +30s, then +60s
  od.reportConsecutive(1, EjectCause::Consecutive5xx, now_ + 10s);  // until +40s
  EXPECT_EQ(od.nextExpiry(), now_ + 30s);
  od.expire(now_ + 30s);
  od.probeResult(0, false, now_ + 30s);
  EXPECT_EQ(od.nextExpiry(), now_ + 40s);
  od.expire(now_ + 40s);
  EXPECT_EQ(od.nextExpiry(), now_ + 90s);
}

TEST_F(OutlierDetectorTest, MultiplierDecaysOncePerCleanInterval) {
  OutlierDetector od(config(), 3);
  std::vector<Window> idle(3);
  od.reportConsecutive(0, EjectCause::Consecutive5xx, now_);
  failProbe(od, 0);
  now_ = od.ejectedUntil(0);
  od.expire(now_);
  od.probeResult(0, true, now_);
  EXPECT_EQ(od.multiplier(0), 2u);

  od.evaluate(idle, now_);  // this interval ejected it: no credit
  EXPECT_EQ(od.multiplier(0), 2u);
  od.evaluate(idle, now_ + 10s);
  EXPECT_EQ(od.multiplier(0), 1u);

  // Earned back: the next ejection is short again.
  od.reportConsecutive(0, EjectCause::Consecutive5xx, now_ + 15s);
  EXPECT_EQ(od.multiplier(0), 2u);
  EXPECT_EQ(od.ejectedUntil(0), now_ + 15s + 60s);
  // An ejected host earns nothing while it stays out.
  od.evaluate(idle, now_ + 20s);
  od.evaluate(idle, now_ + 30s);
  EXPECT_EQ(od.multiplier(0), 2u);

  now_ += 75s;
  od.expire(now_);
  od.probeResult(0, true, now_);
  od.evaluate(idle, now_);
  od.evaluate(idle, now_ + 10s);
  EXPECT_EQ(od.multiplier(0), 0u);
  od.evaluate(idle, now_ + 20s);
  EXPECT_EQ(od.multiplier(0), 0u);
}

TEST_F(OutlierDetectorTest, SuccessRateEjectsClearOutlier) {
  OutlierDetector od(successRateConfig(), 6);
  // Rates .99 x4 and .5: mean .892, stdev .196, cut-off .892 - 1.9 * .196 = .52.
  std::vector<Window> w{{1000, 10}, {1000, 10}, {1000, 500}, {1000, 10}, {1000, 10}, {0, 0}};
  EXPECT_EQ(od.evaluate(w, now_), Hosts{2});
  EXPECT_EQ(od.state(2), BreakerState::Open);
  EXPECT_EQ(od.lastCause(2), EjectCause::SuccessRate);
  EXPECT_EQ(od.ejectedUntil(2), now_ + 30s);
  EXPECT_EQ(od.openCount(), 1u);
}

TEST_F(OutlierDetectorTest, SuccessRateNeedsMinimumHosts) {
  OutlierDetector od(successRateConfig(), 4);
  std::vector<Window> w{{1000, 10}, {1000, 10}, {1000, 900}, {1000, 10}};
  EXPECT_TRUE(od.evaluate(w, now_).empty());
}

TEST_F(OutlierDetectorTest, SuccessRateNeedsRequestVolume) {
  OutlierDetector od(successRateConfig(), 6);
  // Only four hosts reach 100 requests: below minimum_hosts.
  std::vector<Window> w{{1000, 10}, {1000, 10}, {99, 99}, {1000, 10}, {1000, 10}, {50, 0}};
  EXPECT_TRUE(od.evaluate(w, now_).empty());
  // With enough qualified hosts, a low-volume host is still never judged.
  w[5] = {100, 1};
  EXPECT_TRUE(od.evaluate(w, now_).empty());
  EXPECT_EQ(od.state(2), BreakerState::Closed);
}

TEST_F(OutlierDetectorTest, SuccessRateEqualRatesEjectNothing) {
  OutlierDetector od(successRateConfig(), 7);
  std::vector<Window> w(7, Window{1000, 100});
  EXPECT_TRUE(od.evaluate(w, now_).empty());
}

TEST_F(OutlierDetectorTest, SuccessRateIgnoresHostsAlreadyOut) {
  OutlierDetector od(successRateConfig(), 6);
  od.reportConsecutive(2, EjectCause::Consecutive5xx, now_);
  std::vector<Window> w{{1000, 10}, {1000, 10}, {1000, 500}, {1000, 10}, {1000, 10}, {1000, 10}};
  EXPECT_TRUE(od.evaluate(w, now_).empty());
  EXPECT_EQ(od.lastCause(2), EjectCause::Consecutive5xx);
  EXPECT_EQ(od.ejectionsTotal(2), 1u);
}

TEST_F(OutlierDetectorTest, FailurePercentageEjectsAtThreshold) {
  OutlierDetector od(failurePercentageConfig(), 5);
  std::vector<Window> w{{100, 85}, {100, 84}, {60, 0}, {60, 0}, {60, 60}};
  EXPECT_EQ(od.evaluate(w, now_), (Hosts{4, 0}));  // worst first
  EXPECT_EQ(od.lastCause(0), EjectCause::FailurePercentage);
  EXPECT_EQ(od.state(1), BreakerState::Closed);
}

TEST_F(OutlierDetectorTest, FailurePercentageNeedsMinimumHostsAndVolume) {
  OutlierDetector od(failurePercentageConfig(), 5);
  std::vector<Window> w{{100, 100}, {100, 0}, {100, 0}, {100, 0}, {49, 0}};
  EXPECT_TRUE(od.evaluate(w, now_).empty());
  w[4] = {50, 0};
  EXPECT_EQ(od.evaluate(w, now_), Hosts{0});
}

TEST_F(OutlierDetectorTest, EvaluateEjectsWorstFirstWithinLimit) {
  auto cfg = failurePercentageConfig(20);
  cfg.failure_percentage->threshold = 50;
  OutlierDetector od(cfg, 10);
  std::vector<Window> w(10, Window{100, 0});
  w[3] = {100, 60};
  w[5] = {100, 95};
  w[7] = {100, 80};
  EXPECT_EQ(od.evaluate(w, now_), (Hosts{5, 7}));
  EXPECT_EQ(od.state(3), BreakerState::Closed);
  EXPECT_EQ(od.openCount(), 2u);
}

TEST_F(OutlierDetectorTest, BothDetectorsEjectAHostOnce) {
  auto cfg = successRateConfig();
  cfg.failure_percentage.emplace();
  OutlierDetector od(cfg, 6);
  std::vector<Window> w{{1000, 10}, {1000, 10}, {1000, 900}, {1000, 10}, {1000, 10}, {1000, 10}};
  EXPECT_EQ(od.evaluate(w, now_), Hosts{2});
  EXPECT_EQ(od.lastCause(2), EjectCause::SuccessRate);
  EXPECT_EQ(od.ejectionsTotal(2), 1u);
}

TEST(OutlierDetectorNamesTest, StatesAndCauses) {
  EXPECT_STREQ(breakerStateName(BreakerState::Closed), "closed");
  EXPECT_STREQ(breakerStateName(BreakerState::Open), "open");
  EXPECT_STREQ(breakerStateName(BreakerState::HalfOpen), "half_open");
  EXPECT_STREQ(ejectCauseName(EjectCause::Consecutive5xx), "consecutive_5xx");
  EXPECT_STREQ(ejectCauseName(EjectCause::ConsecutiveGatewayFailure), "consecutive_gateway_failure");
  EXPECT_STREQ(ejectCauseName(EjectCause::SuccessRate), "success_rate");
  EXPECT_STREQ(ejectCauseName(EjectCause::FailurePercentage), "failure_percentage");
}

}  // namespace
}  // namespace sluice::upstream
