#pragma once
// Timers: a binary min-heap of deadlines driven by the owning loop's epoll
// timeout. Enable is O(log n), re-arm later and disable O(1), and none
// allocates once the heap has grown, so per-connection idle and connect
// timers and per-stream timers are cheap by the thousand.
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
  static constexpr uint32_t kNotQueued = UINT32_MAX;
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
  uint32_t slot_ = kNotQueued;  // TimerQueue::slots_ index while an entry names this timer
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
  // Heap entries, dropped ones not yet swept included (tests).
  size_t heapSize() const { return heap_.size(); }
  // Slots ever made (tests): the most heap entries there have been at once.
  size_t slotCount() const { return slots_.size(); }

 private:
  friend class Timer;
  // The key lives in the entry, and an entry names its timer through a slot
  // of slots_, not by pointer: moving entries in the heap then touches only
  // the queue's own arrays, never the timers (thousands of per-connection
  // and per-stream objects, mostly cold), which need not learn where their
  // entry went. A slot holds null once its timer has left (destroyed, or
  // re-keyed to an earlier deadline); it is reused once its entry leaves
  // the heap, at the top or in a sweep.
  struct Entry {
    MonoTime deadline;
    uint64_t seq;  // FIFO among equal deadlines
    uint32_t slot;
  };
  void insert(Timer* t, MonoTime deadline);
  // Detaches t from its entry in O(1); the entry leaves at the top or in a sweep.
  void drop(Timer* t);
  void popTop();
  static bool less(const Entry& a, const Entry& b) {
    return a.deadline != b.deadline ? a.deadline < b.deadline : a.seq < b.seq;
  }
  void siftUp(size_t i);
  void siftDown(size_t i);
  // Rebuilds the heap without dropped entries once they are the majority:
  // amortised O(1) per drop, and the heap stays within twice its live size.
  void sweep();

  // Moves stale entries off the top: dropped and disarmed ones out, pushed-back ones to their target.
  void settleTop();

  MonoTime now_{};
  uint64_t next_seq_ = 0;
  size_t armed_count_ = 0;
  size_t dropped_ = 0;
  std::vector<Entry> heap_;
  std::vector<Timer*> slots_;
  std::vector<uint32_t> free_slots_;
};

}  // namespace sluice::event
