// Loop: cross-thread post, timers on the real clock, deferred deletion.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <memory>
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
  // Shared with the loop thread, which outlives this test if run() never
  // returns: the test then fails instead of hanging, and leaks the state.
  struct State {
    Loop loop;
    std::promise<void> running, returned;
  };
  auto state = std::make_shared<State>();
  auto running = state->running.get_future();
  auto returned = state->returned.get_future();
  std::thread t([state] {
    state->loop.post([state] { state->running.set_value(); });
    state->loop.run();
    state->returned.set_value();
  });
  if (running.wait_for(std::chrono::seconds(5)) != std::future_status::ready) {
    t.detach();
    FAIL() << "the loop never ran a posted callback";
  }
  EXPECT_EQ(returned.wait_for(std::chrono::milliseconds(50)), std::future_status::timeout)
      << "run() returned with nothing telling it to";
  state->loop.exit();
  const bool exited = returned.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  if (!exited) t.detach();
  ASSERT_TRUE(exited) << "run() still running 5 s after exit() from another thread";
  t.join();
}

}  // namespace
}  // namespace sluice::event
