#pragma once
// Timers: a binary min-heap of deadlines driven by the owning loop's epoll
// timeout. Enable, re-arm and disable are O(log n) and allocate nothing, so
// per-connection idle and connect timers are cheap by the thousand.
//
// Single-threaded: a TimerQueue and its Timers belong to one loop thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

namespace sluice::event {

using MonoTime = std::chrono::steady_clock::time_point;
using Duration = std::chrono::milliseconds;

class TimerQueue;

class Timer {
 public:
  // A plain function and its argument: for timers made per request (a
  // stream's idle and duration timers, held in place in the stream), whose
  // construction then builds no std::function.
  using Fn = void (*)(void* arg);

  Timer(TimerQueue& queue, std::function<void()> callback);
  Timer(TimerQueue& queue, Fn fn, void* arg);
  ~Timer();  // disables
  Timer(const Timer&) = delete;
  Timer& operator=(const Timer&) = delete;

  // Fires once, `after` from the queue's current time; re-enabling moves the deadline.
  void enable(Duration after);
  void enableAt(MonoTime deadline);
  void disable();
  bool enabled() const { return armed_; }
  MonoTime deadline() const { return target_; }

 private:
  friend class TimerQueue;
  static constexpr size_t kNotQueued = SIZE_MAX;
  TimerQueue& queue_;
  std::function<void()> callback_;  // empty when fn_ is set
  Fn fn_ = nullptr;
  void* arg_ = nullptr;
  // Re-arming a queued timer later, and disarming one, leave its heap entry
  // where it is (the common case: idle timeouts pushed back on every
  // request); the entry is re-keyed or dropped when it reaches the top.
  MonoTime deadline_{};  // heap key: never later than target_ while armed
  MonoTime target_{};    // when the callback should run
  bool armed_ = false;
  uint64_t seq_ = 0;  // FIFO among equal deadlines
  size_t heap_index_ = kNotQueued;
};

class TimerQueue {
 public:
  MonoTime now() const { return now_; }
  // The loop sets this once per turn (tests set it to simulate time).
  void setNow(MonoTime now) { now_ = now; }
  // Runs every timer whose deadline <= now, earliest first. A callback may
  // enable/disable any timer, including itself; a timer re-armed for a time
  // <= now runs in the next call, never in this one (no starvation).
  size_t runExpired();
  // The earliest armed deadline (drops or re-keys stale heap entries on top).
  std::optional<MonoTime> nextDeadline();
  // Armed timers.
  size_t size() const { return armed_count_; }

 private:
  friend class Timer;
  void insert(Timer* t);
  void remove(Timer* t);
  bool less(size_t a, size_t b) const;
  void swapAt(size_t a, size_t b);
  void siftUp(size_t i);
  void siftDown(size_t i);

  // Moves stale entries off the top: disarmed ones out, pushed-back ones to their target.
  void settleTop();

  MonoTime now_{};
  uint64_t next_seq_ = 0;
  size_t armed_count_ = 0;
  std::vector<Timer*> heap_;
};

}  // namespace sluice::event
