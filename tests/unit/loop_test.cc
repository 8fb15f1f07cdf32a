// Loop: cross-thread post, timers on the real clock, deferred deletion.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "proxy/event/loop.h"

namespace sluice::event {
namespace {

TEST(LoopTest, PostFromOtherThreadsRunsOnLoopThreadInOrder) {
  Loop loop;
  std::vector<int> seen;
  std::thread::id loop_thread;
  std::thread t([&] {
    loop.post([&] { loop_thread = std::this_thread::get_id(); });
    for (int i = 0; i < 1000; ++i) loop.post([&, i] { seen.push_back(i); });
    loop.post([&] { loop.exit(); });
  });
  loop.run();
  t.join();
  EXPECT_EQ(loop_thread, std::this_thread::get_id());
  ASSERT_EQ(seen.size(), 1000u);
  for (int i = 0; i < 1000; ++i) EXPECT_EQ(seen[i], i);
}

TEST(LoopTest, TimerWakesTheLoop) {
  Loop loop;
  const auto start = std::chrono::steady_clock::now();
  auto t = loop.createTimer([&] { loop.exit(); });
  t->enable(Duration(30));
  loop.run();
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(30));
}

struct Tracked : DeferredDeletable {
  explicit Tracked(bool& flag) : destroyed(flag) {}
  ~Tracked() override { destroyed = true; }
  bool& destroyed;
};

TEST(LoopTest, DeferredDeleteWaitsForTheEndOfTheTurn) {
  Loop loop;
  bool destroyed = false;
  bool alive_after_defer = false;
  loop.post([&] {
    auto obj = std::make_unique<Tracked>(destroyed);
    Tracked* raw = obj.get();
    loop.deferredDelete(std::move(obj));
    alive_after_defer = !raw->destroyed;  // still valid within this turn
  });
  loop.post([&] { loop.exit(); });
  loop.run();
  EXPECT_TRUE(alive_after_defer);
  EXPECT_TRUE(destroyed);
}

TEST(LoopTest, ExitFromAnotherThread) {
  Loop loop;
  std::thread t([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    loop.exit();
  });
  loop.run();  // returns only because of exit()
  t.join();
  SUCCEED();
}

}  // namespace
}  // namespace sluice::event
