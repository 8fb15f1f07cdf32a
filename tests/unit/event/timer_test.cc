// Timer queue on simulated time: ordering, cancel, re-arm, and scale.
#include "proxy/event/timer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <vector>

namespace sluice::event {
namespace {

using std::chrono::milliseconds;

class TimerTest : public ::testing::Test {
 protected:
  void advance(milliseconds d) {
    q_.setNow(q_.now() + d);
    q_.runExpired();
  }
  TimerQueue q_;
};

TEST_F(TimerTest, FiresInDeadlineOrderAndFifoOnTies) {
  std::vector<int> fired;
  Timer a(q_, [&] { fired.push_back(1); });
  Timer b(q_, [&] { fired.push_back(2); });
  Timer c(q_, [&] { fired.push_back(3); });
  Timer d(q_, [&] { fired.push_back(4); });
  c.enable(milliseconds(30));
  a.enable(milliseconds(10));
  b.enable(milliseconds(20));
  d.enable(milliseconds(20));  // same deadline as b, armed later
  advance(milliseconds(5));
  EXPECT_TRUE(fired.empty());
  advance(milliseconds(100));
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 4, 3}));
  EXPECT_EQ(q_.size(), 0u);
}

TEST_F(TimerTest, PlainFunctionFormFiresWithItsArgument) {
  int fired = 0;
  Timer t(
      q_, [](void* arg) { ++*static_cast<int*>(arg); }, &fired);
  t.enable(milliseconds(10));
  advance(milliseconds(9));
  EXPECT_EQ(fired, 0);
  advance(milliseconds(1));
  EXPECT_EQ(fired, 1);
  t.enable(milliseconds(5));
  t.disable();
  advance(milliseconds(10));
  EXPECT_EQ(fired, 1);
}

TEST_F(TimerTest, DisabledTimerDoesNotFire) {
  int fired = 0;
  Timer a(q_, [&] { ++fired; });
  a.enable(milliseconds(10));
  EXPECT_TRUE(a.enabled());
  a.disable();
  EXPECT_FALSE(a.enabled());
  advance(milliseconds(20));
  EXPECT_EQ(fired, 0);
}

TEST_F(TimerTest, ReenableMovesDeadline) {
  int fired = 0;
  Timer a(q_, [&] { ++fired; });
  a.enable(milliseconds(10));
  a.enable(milliseconds(50));
  advance(milliseconds(20));
  EXPECT_EQ(fired, 0);
  advance(milliseconds(40));
  EXPECT_EQ(fired, 1);
}

TEST_F(TimerTest, DestroyedTimerLeavesQueue) {
  int fired = 0;
  {
    Timer a(q_, [&] { ++fired; });
    a.enable(milliseconds(10));
    EXPECT_EQ(q_.size(), 1u);
  }
  EXPECT_EQ(q_.size(), 0u);
  advance(milliseconds(20));
  EXPECT_EQ(fired, 0);
}

TEST_F(TimerTest, CallbackCanCancelAnotherDueTimer) {
  int fired_b = 0;
  Timer b(q_, [&] { ++fired_b; });
  Timer a(q_, [&] { b.disable(); });
  a.enable(milliseconds(10));
  b.enable(milliseconds(11));
  advance(milliseconds(20));
  EXPECT_EQ(fired_b, 0);
}

TEST_F(TimerTest, ZeroDelayRearmRunsNextTurnNotThisOne) {
  int fired = 0;
  std::unique_ptr<Timer> a;
  a = std::make_unique<Timer>(q_, [&] {
    ++fired;
    a->enable(milliseconds(0));
  });
  a->enable(milliseconds(0));
  q_.runExpired();
  EXPECT_EQ(fired, 1);  // not an endless loop within one turn
  q_.runExpired();
  EXPECT_EQ(fired, 2);
}

TEST_F(TimerTest, NextDeadlineTracksEarliest) {
  Timer a(q_, [] {});
  Timer b(q_, [] {});
  EXPECT_FALSE(q_.nextDeadline().has_value());
  a.enable(milliseconds(30));
  b.enable(milliseconds(10));
  EXPECT_EQ(*q_.nextDeadline(), q_.now() + milliseconds(10));
  b.disable();
  EXPECT_EQ(*q_.nextDeadline(), q_.now() + milliseconds(30));
}

TEST_F(TimerTest, HundredThousandTimersFireInOrderWithRandomCancels) {
  constexpr int kTimers = 100000;
  std::mt19937 rng(42);
  std::vector<std::unique_ptr<Timer>> timers;
  std::vector<int64_t> fired_deadlines;
  std::vector<bool> cancelled(kTimers, false);
  timers.reserve(kTimers);
  for (int i = 0; i < kTimers; ++i) {
    const int64_t ms = rng() % 10000;
    timers.push_back(std::make_unique<Timer>(q_, [&, ms] { fired_deadlines.push_back(ms); }));
    timers.back()->enable(milliseconds(ms));
  }
  int cancelled_count = 0;
  for (int i = 0; i < kTimers; i += 3) {
    timers[i]->disable();
    cancelled[i] = true;
    ++cancelled_count;
  }
  EXPECT_EQ(q_.size(), static_cast<size_t>(kTimers - cancelled_count));
  advance(milliseconds(10000));
  ASSERT_EQ(fired_deadlines.size(), static_cast<size_t>(kTimers - cancelled_count));
  EXPECT_TRUE(std::is_sorted(fired_deadlines.begin(), fired_deadlines.end()));
}

TEST_F(TimerTest, PushedBackTimerFiresOnlyAtItsNewDeadline) {
  int fired = 0;
  Timer t(q_, [&] { ++fired; });
  t.enable(milliseconds(10));
  for (int i = 0; i < 5; ++i) {
    advance(milliseconds(5));
    t.enable(milliseconds(10));  // pushed back before it was due, as idle timeouts are
  }
  EXPECT_EQ(fired, 0);
  EXPECT_EQ(*q_.nextDeadline(), q_.now() + milliseconds(10));
  advance(milliseconds(9));
  EXPECT_EQ(fired, 0);
  advance(milliseconds(1));
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(t.enabled());
  EXPECT_EQ(q_.size(), 0u);
}

TEST_F(TimerTest, DisarmedQueuedTimerNeverFiresAndCanBeReArmedOrDestroyed) {
  int fired = 0;
  auto t = std::make_unique<Timer>(q_, [&] { ++fired; });
  t->enable(milliseconds(10));
  t->disable();
  EXPECT_EQ(q_.size(), 0u);
  advance(milliseconds(20));
  EXPECT_EQ(fired, 0);
  t->enable(milliseconds(10));
  t->disable();
  t->enable(milliseconds(30));  // re-armed later while its stale entry is queued
  advance(milliseconds(10));
  EXPECT_EQ(fired, 0);
  advance(milliseconds(20));
  EXPECT_EQ(fired, 1);
  t->enable(milliseconds(10));
  t->disable();
  t.reset();  // destroyed while a disarmed entry is queued
  advance(milliseconds(20));
  EXPECT_EQ(fired, 1);
  EXPECT_FALSE(q_.nextDeadline().has_value());
}

TEST_F(TimerTest, PulledForwardTimerFiresAtTheEarlierDeadline) {
  int fired = 0;
  Timer t(q_, [&] { ++fired; });
  t.enable(milliseconds(50));
  t.enable(milliseconds(5));
  advance(milliseconds(5));
  EXPECT_EQ(fired, 1);
  advance(milliseconds(100));
  EXPECT_EQ(fired, 1);
}

// Streams make and destroy timers by the million, most long before their
// deadline: their entries are swept, so the heap stays within a bound of
// the live timers, and what is left still fires in order.
TEST_F(TimerTest, DestroyedTimersDoNotPileUpAndTheRestStillFireInOrder) {
  std::vector<int64_t> fired;
  std::vector<std::unique_ptr<Timer>> live;
  std::mt19937 rng(7);
  for (int round = 0; round < 2000; ++round) {
    for (int i = 0; i < 50; ++i) {
      const int64_t ms = 1000 + rng() % 300000;
      auto t = std::make_unique<Timer>(q_, [&fired, ms] { fired.push_back(ms); });
      t->enable(milliseconds(ms));
      if (i == 0) live.push_back(std::move(t));  // one in 50 lives on; the rest die queued
    }
    ASSERT_LE(q_.heapSize(), 2 * live.size() + 128) << "round " << round;
    // Slots of swept entries are reused, not added to.
    ASSERT_LE(q_.slotCount(), 2 * live.size() + 130) << "round " << round;
  }
  EXPECT_EQ(q_.size(), live.size());
  advance(milliseconds(301000));
  ASSERT_EQ(fired.size(), live.size());
  EXPECT_TRUE(std::is_sorted(fired.begin(), fired.end()));
  EXPECT_EQ(q_.heapSize(), 0u);
}

TEST_F(TimerTest, ACallbackDestroyingManyQueuedTimersLeavesTheRestIntact) {
  std::vector<std::unique_ptr<Timer>> victims;
  int victims_fired = 0;
  for (int i = 0; i < 500; ++i) {
    victims.push_back(std::make_unique<Timer>(q_, [&] { ++victims_fired; }));
    victims.back()->enable(milliseconds(20 + i));
  }
  std::vector<int> order;
  Timer late(q_, [&] { order.push_back(2); });
  late.enable(milliseconds(15));
  Timer killer(q_, [&] {
    order.push_back(1);
    victims.clear();  // sweeps the heap from inside runExpired
  });
  killer.enable(milliseconds(10));
  advance(milliseconds(1000));
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  EXPECT_EQ(victims_fired, 0);
  EXPECT_EQ(q_.size(), 0u);
}

}  // namespace
}  // namespace sluice::event
