#include "proxy/event/timer.h"

#include <algorithm>
#include <cassert>

namespace sluice::event {

Timer::Timer(TimerQueue& queue, std::function<void()> callback) : queue_(queue), callback_(std::move(callback)) {}
Timer::Timer(TimerQueue& queue, Fn fn, void* arg) : queue_(queue), fn_(fn), arg_(arg) {}

Timer::~Timer() {
  disable();
  if (slot_ != kNotQueued) queue_.drop(this);
}

void Timer::enable(Duration after) { enableAt(queue_.now() + after); }

void Timer::enableAt(MonoTime deadline) {
  if (!armed_) ++queue_.armed_count_;
  armed_ = true;
  target_ = deadline;
  // Pushed back into the future: keep the heap entry, it re-keys when it
  // comes up. (A deadline <= now takes a new place so that it never runs in
  // the runExpired() call that armed it.)
  if (slot_ != kNotQueued && deadline >= deadline_ && deadline > queue_.now_) return;
  if (slot_ != kNotQueued) queue_.drop(this);
  deadline_ = deadline;
  queue_.insert(this, deadline);
}

void Timer::disable() {
  if (!armed_) return;
  armed_ = false;
  --queue_.armed_count_;
}

void TimerQueue::siftUp(size_t i) {
  const Entry e = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!less(e, heap_[parent])) break;
    heap_[i] = heap_[parent];
    i = parent;
  }
  heap_[i] = e;
}

void TimerQueue::siftDown(size_t i) {
  const Entry e = heap_[i];
  const size_t n = heap_.size();
  for (;;) {
    const size_t l = 2 * i + 1;
    if (l >= n) break;
    const size_t r = l + 1;
    const size_t best = (r < n && less(heap_[r], heap_[l])) ? r : l;
    if (!less(heap_[best], e)) break;
    heap_[i] = heap_[best];
    i = best;
  }
  heap_[i] = e;
}

void TimerQueue::insert(Timer* t, MonoTime deadline) {
  uint32_t slot;
  if (free_slots_.empty()) {
    slot = static_cast<uint32_t>(slots_.size());
    slots_.push_back(t);
  } else {
    slot = free_slots_.back();
    free_slots_.pop_back();
    slots_[slot] = t;
  }
  t->slot_ = slot;
  heap_.push_back(Entry{deadline, next_seq_++, slot});
  siftUp(heap_.size() - 1);
}

void TimerQueue::drop(Timer* t) {
  assert(t->slot_ < slots_.size() && slots_[t->slot_] == t);
  slots_[t->slot_] = nullptr;
  t->slot_ = Timer::kNotQueued;
  ++dropped_;
  if (dropped_ > 64 && dropped_ * 2 > heap_.size()) sweep();
}

void TimerQueue::popTop() {
  const uint32_t slot = heap_.front().slot;
  if (Timer* t = slots_[slot]) {
    t->slot_ = Timer::kNotQueued;
    slots_[slot] = nullptr;
  } else {
    --dropped_;
  }
  free_slots_.push_back(slot);
  const Entry last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) {
    heap_.front() = last;
    siftDown(0);
  }
}

void TimerQueue::sweep() {
  std::erase_if(heap_, [this](const Entry& e) {
    if (slots_[e.slot] != nullptr) return false;
    free_slots_.push_back(e.slot);
    return true;
  });
  dropped_ = 0;
  // std::make_heap builds a max-heap: invert the order for a min-heap.
  std::make_heap(heap_.begin(), heap_.end(), [](const Entry& a, const Entry& b) { return less(b, a); });
}

size_t TimerQueue::runExpired() {
  // Only timers armed before this call may run in it: a callback re-arming
  // at <= now gets a newer seq and waits for the next turn.
  const uint64_t seq_limit = next_seq_;
  size_t ran = 0;
  while (!heap_.empty()) {
    const Entry top = heap_.front();
    if (top.deadline > now_ || top.seq >= seq_limit) break;
    Timer* t = slots_[top.slot];
    popTop();
    if (t == nullptr || !t->armed_) continue;  // dropped, or disarmed while queued
    if (t->target_ > t->deadline_) {           // pushed back while queued
      t->deadline_ = t->target_;
      insert(t, t->target_);
      continue;
    }
    t->armed_ = false;
    --armed_count_;
    ++ran;
    // Either may destroy t; touch nothing after.
    if (t->fn_ != nullptr) {
      t->fn_(t->arg_);
    } else {
      t->callback_();
    }
  }
  return ran;
}

void TimerQueue::settleTop() {
  while (!heap_.empty()) {
    Timer* t = slots_[heap_.front().slot];
    if (t == nullptr || !t->armed_) {
      popTop();
    } else if (t->target_ > t->deadline_) {
      popTop();
      t->deadline_ = t->target_;
      insert(t, t->target_);
    } else {
      return;
    }
  }
}

std::optional<MonoTime> TimerQueue::nextDeadline() {
  settleTop();
  if (heap_.empty()) return std::nullopt;
  return heap_.front().deadline;
}

}  // namespace sluice::event
