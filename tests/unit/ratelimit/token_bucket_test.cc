// AtomicTokenBucket on simulated time: start full, take down to empty, refill
// per whole interval, cap at max_tokens, never move the epoch back, and stay
// exact with several threads taking at once.
#include "proxy/ratelimit/token_bucket.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "tests/unit/ratelimit/bucket_test_support.h"

namespace sluice::ratelimit {
namespace {

using std::chrono::milliseconds;

using bucket_test::kStart;
using bucket_test::params;

int drain(AtomicTokenBucket& b, event::MonoTime now, int limit = 1000000) {
  int n = 0;
  while (n < limit && b.tryTake(now).allowed) ++n;
  return n;
}

TEST(TokenBucketTest, StartsFullAndTakesDownToEmpty) {
  AtomicTokenBucket b(params(3, 1, 1000), kStart);
  auto r = b.tryTake(kStart);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.remaining, 2u);
  EXPECT_EQ(r.reset_after, milliseconds(1000));
  EXPECT_TRUE(b.tryTake(kStart + milliseconds(10)).allowed);
  r = b.tryTake(kStart + milliseconds(250));
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.remaining, 0u);
  EXPECT_EQ(r.reset_after, milliseconds(750));
  r = b.tryTake(kStart + milliseconds(999));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.remaining, 0u);
  EXPECT_EQ(r.reset_after, milliseconds(1));
}

TEST(TokenBucketTest, RefillsPerWholeIntervalAndCaps) {
  AtomicTokenBucket b(params(10, 4, 100), kStart);
  EXPECT_EQ(drain(b, kStart), 10);
  EXPECT_EQ(drain(b, kStart + milliseconds(99)), 0) << "refilled before the interval ended";
  EXPECT_EQ(drain(b, kStart + milliseconds(100)), 4);
  EXPECT_EQ(drain(b, kStart + milliseconds(150)), 0);
  // Two intervals later: 8 tokens.
  EXPECT_EQ(drain(b, kStart + milliseconds(320)), 8);
  // A long pause refills to max_tokens, never beyond.
  EXPECT_FALSE(b.isFull(kStart + milliseconds(499)));
  EXPECT_TRUE(b.isFull(kStart + milliseconds(600)));
  EXPECT_EQ(drain(b, kStart + std::chrono::hours(5)), 10);
}

TEST(TokenBucketTest, ReportsTimeToNextFillRoundedUp) {
  AtomicTokenBucket b(params(1, 1, 1000), kStart);
  EXPECT_TRUE(b.tryTake(kStart + milliseconds(2400)).allowed);
  auto r = b.tryTake(kStart + milliseconds(2400) + std::chrono::microseconds(500));
  EXPECT_FALSE(r.allowed);
  EXPECT_EQ(r.reset_after, milliseconds(600));  // 599.5 ms, rounded up
}

TEST(TokenBucketTest, TimeBeforeTheStartIsTheFirstInterval) {
  // A worker's cached time may predate the config that built the bucket.
  AtomicTokenBucket b(params(2, 2, 1000), kStart);
  EXPECT_TRUE(b.tryTake(kStart - milliseconds(5)).allowed);
  EXPECT_TRUE(b.tryTake(kStart).allowed);
  EXPECT_FALSE(b.tryTake(kStart - milliseconds(1)).allowed);
  EXPECT_EQ(drain(b, kStart + milliseconds(1000)), 2);
}

TEST(TokenBucketTest, EpochNeverMovesBackwards) {
  AtomicTokenBucket b(params(5, 5, 100), kStart);
  EXPECT_EQ(drain(b, kStart), 5);
  // One worker sees the next interval and refills; another's clock is still
  // in the previous one: it takes from the refill, it does not refill again.
  EXPECT_TRUE(b.tryTake(kStart + milliseconds(100)).allowed);
  EXPECT_EQ(drain(b, kStart + milliseconds(99)), 4);
  EXPECT_EQ(drain(b, kStart + milliseconds(100)), 0) << "the late clock moved the epoch back: refilled twice";
  EXPECT_EQ(drain(b, kStart + milliseconds(150)), 0);
  EXPECT_EQ(drain(b, kStart + milliseconds(200)), 5);
}

TEST(TokenBucketTest, LargestBucketAndLongUptime) {
  AtomicTokenBucket b(params(TokenBucketParams::kMaxTokens, TokenBucketParams::kMaxTokens, 1), kStart);
  auto r = b.tryTake(kStart);
  EXPECT_EQ(r.remaining, TokenBucketParams::kMaxTokens - 1);
  // A year of 1 ms epochs later: still counting forward, refilled to the cap.
  const auto later = kStart + std::chrono::hours(24 * 365);
  r = b.tryTake(later);
  EXPECT_TRUE(r.allowed);
  EXPECT_EQ(r.remaining, TokenBucketParams::kMaxTokens - 1);
  EXPECT_EQ(r.reset_after, milliseconds(1));
}

// Several threads hammer one bucket; the successes are exactly the tokens it had.
TEST(TokenBucketTest, ExactUnderConcurrentTakers) {
  constexpr int kThreads = 4;
  constexpr int kTakesPerThread = 20000;
  constexpr uint32_t kMax = 1000;
  AtomicTokenBucket b(params(kMax, 250, 100), kStart);
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&] {
      int mine = 0;
      for (int i = 0; i < kTakesPerThread; ++i) mine += b.tryTake(kStart + milliseconds(50)).allowed ? 1 : 0;
      ok += mine;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), static_cast<int>(kMax));
}

// Rounds of simulated intervals, threads' clocks skewed around each boundary
// (some still in the previous interval): each round admits exactly one fill.
TEST(TokenBucketTest, ExactAcrossRefillsWithSkewedClocks) {
  constexpr int kThreads = 4;
  constexpr int kRounds = 12;
  constexpr uint32_t kPerFill = 300;
  AtomicTokenBucket b(params(kPerFill, kPerFill, 100), kStart);
  for (int round = 0; round < kRounds; ++round) {
    const auto boundary = kStart + milliseconds(100 * round);
    std::atomic<int> ok{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      threads.emplace_back([&, t] {
        int mine = 0;
        for (int i = 0; i < 5000; ++i) {
          // Thread 0 lags 1-3 ms behind the others (but is never behind in round 0).
          const auto skew = (t == 0 && round > 0) ? milliseconds(1 + i % 3) : milliseconds(i % 7);
          mine += b.tryTake(boundary - (t == 0 && round > 0 ? skew : -skew)).allowed ? 1 : 0;
        }
        ok += mine;
      });
    }
    for (auto& t : threads) t.join();
    ASSERT_EQ(ok.load(), static_cast<int>(kPerFill)) << "round " << round;
  }
}

}  // namespace
}  // namespace sluice::ratelimit
