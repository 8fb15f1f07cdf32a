#include "proxy/event/timer.h"

#include <cassert>

namespace sluice::event {

Timer::Timer(TimerQueue& queue, std::function<void()> callback) : queue_(queue), callback_(std::move(callback)) {}
Timer::Timer(TimerQueue& queue, Fn fn, void* arg) : queue_(queue), fn_(fn), arg_(arg) {}

Timer::~Timer() {
  disable();
  if (heap_index_ != kNotQueued) queue_.remove(this);
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
  if (heap_index_ != kNotQueued) queue_.remove(this);
  deadline_ = deadline;
  seq_ = queue_.next_seq_++;
  queue_.insert(this);
}

void Timer::disable() {
  if (!armed_) return;
  armed_ = false;
  --queue_.armed_count_;
}

bool TimerQueue::less(size_t a, size_t b) const {
  const Timer* x = heap_[a];
  const Timer* y = heap_[b];
  return x->deadline_ != y->deadline_ ? x->deadline_ < y->deadline_ : x->seq_ < y->seq_;
}

void TimerQueue::swapAt(size_t a, size_t b) {
  std::swap(heap_[a], heap_[b]);
  heap_[a]->heap_index_ = a;
  heap_[b]->heap_index_ = b;
}

void TimerQueue::siftUp(size_t i) {
  while (i > 0) {
    const size_t parent = (i - 1) / 2;
    if (!less(i, parent)) break;
    swapAt(i, parent);
    i = parent;
  }
}

void TimerQueue::siftDown(size_t i) {
  for (;;) {
    const size_t l = 2 * i + 1;
    const size_t r = l + 1;
    size_t best = i;
    if (l < heap_.size() && less(l, best)) best = l;
    if (r < heap_.size() && less(r, best)) best = r;
    if (best == i) return;
    swapAt(i, best);
    i = best;
  }
}

void TimerQueue::insert(Timer* t) {
  t->heap_index_ = heap_.size();
  heap_.push_back(t);
  siftUp(t->heap_index_);
}

void TimerQueue::remove(Timer* t) {
  const size_t i = t->heap_index_;
  assert(i < heap_.size() && heap_[i] == t);
  const size_t last = heap_.size() - 1;
  if (i != last) swapAt(i, last);
  heap_.pop_back();
  t->heap_index_ = Timer::kNotQueued;
  if (i < heap_.size()) {
    siftUp(i);
    siftDown(i);
  }
}

size_t TimerQueue::runExpired() {
  // Only timers armed before this call may run in it: a callback re-arming
  // at <= now gets a newer seq and waits for the next turn.
  const uint64_t seq_limit = next_seq_;
  size_t ran = 0;
  while (!heap_.empty()) {
    Timer* t = heap_.front();
    if (t->deadline_ > now_ || t->seq_ >= seq_limit) break;
    remove(t);
    if (!t->armed_) continue;  // disarmed while queued
    if (t->target_ > t->deadline_) {  // pushed back while queued
      t->deadline_ = t->target_;
      t->seq_ = next_seq_++;
      insert(t);
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
    Timer* t = heap_.front();
    if (!t->armed_) {
      remove(t);
    } else if (t->target_ > t->deadline_) {
      remove(t);
      t->deadline_ = t->target_;
      t->seq_ = next_seq_++;
      insert(t);
    } else {
      return;
    }
  }
}

std::optional<MonoTime> TimerQueue::nextDeadline() {
  settleTop();
  if (heap_.empty()) return std::nullopt;
  return heap_.front()->deadline_;
}

}  // namespace sluice::event
