#include "proxy/event/timer.h"

#include <algorithm>
#include <cassert>

namespace sluice::event {

Timer::Timer(TimerQueue& queue, std::function<void()> callback) : queue_(queue), callback_(std::move(callback)) {}
Timer::Timer(TimerQueue& queue, Fn fn, void* arg) : queue_(queue), fn_(fn), arg_(arg) {}

Timer::~Timer() {
  disable();
  if (heap_index_ != kNotQueued) queue_.drop(this);
}

void Timer::enable(Duration after) { enableAt(queue_.now() + after); }

void Timer::enableAt(MonoTime deadline) {
  if (!armed_) ++queue_.armed_count_;
  armed_ = true;
  target_ = deadline;
  // Pushed back into the future: keep the heap entry, it re-keys when it
  // comes up. (A deadline <= now takes a new place so that it never runs in
  // the runExpired() call that armed it.)
  if (heap_index_ != kNotQueued && deadline >= deadline_ && deadline > queue_.now_) return;
  if (heap_index_ != kNotQueued) queue_.drop(this);
  deadline_ = deadline;
  queue_.insert(this, deadline);
}

void Timer::disable() {
  if (!armed_) return;
  armed_ = false;
  --queue_.armed_count_;
}

void TimerQueue::place(size_t i, const Entry& e) {
  heap_[i] = e;
  if (e.timer) e.timer->heap_index_ = i;
}

void TimerQueue::siftUp(size_t i) {
  const Entry e = heap_[i];
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!less(e, heap_[parent])) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, e);
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
    place(i, heap_[best]);
    i = best;
  }
  place(i, e);
}

void TimerQueue::insert(Timer* t, MonoTime deadline) {
  heap_.push_back(Entry{deadline, next_seq_++, t});
  siftUp(heap_.size() - 1);
}

void TimerQueue::drop(Timer* t) {
  const size_t i = t->heap_index_;
  assert(i < heap_.size() && heap_[i].timer == t);
  heap_[i].timer = nullptr;
  t->heap_index_ = Timer::kNotQueued;
  ++dropped_;
  if (dropped_ > 64 && dropped_ * 2 > heap_.size()) sweep();
}

void TimerQueue::popTop() {
  if (heap_.front().timer) {
    heap_.front().timer->heap_index_ = Timer::kNotQueued;
  } else {
    --dropped_;
  }
  const Entry last = heap_.back();
  heap_.pop_back();
  if (!heap_.empty()) {
    heap_.front() = last;
    siftDown(0);
  }
}

void TimerQueue::sweep() {
  std::erase_if(heap_, [](const Entry& e) { return e.timer == nullptr; });
  dropped_ = 0;
  // std::make_heap builds a max-heap: invert the order for a min-heap.
  std::make_heap(heap_.begin(), heap_.end(), [](const Entry& a, const Entry& b) { return less(b, a); });
  for (size_t i = 0; i < heap_.size(); ++i) heap_[i].timer->heap_index_ = i;
}

size_t TimerQueue::runExpired() {
  // Only timers armed before this call may run in it: a callback re-arming
  // at <= now gets a newer seq and waits for the next turn.
  const uint64_t seq_limit = next_seq_;
  size_t ran = 0;
  while (!heap_.empty()) {
    const Entry top = heap_.front();
    if (top.deadline > now_ || top.seq >= seq_limit) break;
    popTop();
    Timer* t = top.timer;
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
    Timer* t = heap_.front().timer;
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
