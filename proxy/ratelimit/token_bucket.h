#pragma once
// Token buckets that are exact across workers: the whole state of a bucket
// (fill epoch and tokens) is one 64-bit atomic, updated by compare-and-swap,
// so every worker takes from the same budget without a lock.
//
// Refill is lazy. Time is cut into whole fill intervals counted from a start
// time given at construction (the "epoch"); the first take in a later epoch
// adds (elapsed epochs x tokens_per_fill), capped at max_tokens. A bucket
// never reads a clock: callers pass `now` (a worker's cached loop time; tests
// pass simulated time). Workers' cached times differ slightly, so a take with
// a `now` older than the bucket's epoch never moves the epoch back; it takes
// from what is there.
//
// Packing: epoch in the high 40 bits, tokens in the low 24. 40 bits of epoch
// last 34 years at the smallest interval (1 ms), so the epoch never wraps;
// tokens are therefore limited to kMaxTokens (16,777,215) per bucket.
//
// Any thread; no allocation; lock-free (one CAS loop per take).

#include <atomic>
#include <cstdint>

#include "proxy/event/timer.h"

namespace sluice::ratelimit {

struct TokenBucketParams {
  static constexpr uint32_t kMaxTokens = (1u << 24) - 1;
  uint32_t max_tokens = 1;       // 1..kMaxTokens; the bucket starts full
  uint32_t tokens_per_fill = 1;  // 1..kMaxTokens; added per elapsed interval
  event::Duration fill_interval{1000};  // >= 1ms
};

struct TakeResult {
  bool allowed = false;
  uint32_t remaining = 0;  // tokens left after this take
  // Until the next fill adds tokens (0 < reset_after <= fill_interval, rounded up to ms).
  event::Duration reset_after{0};
};

// The immutable part shared by every bucket of one config: sizes, interval
// and the time origin of epochs. Operates on a bucket state word it is given,
// so a table of buckets stores 8 bytes per bucket.
class TokenBucketShape {
 public:
  TokenBucketShape(const TokenBucketParams& params, event::MonoTime start);
  const TokenBucketParams& params() const { return params_; }
  // State word of a full bucket (what a fresh bucket holds).
  uint64_t fullState() const;
  // Takes one token from `state` as of `now`.
  TakeResult take(std::atomic<uint64_t>& state, event::MonoTime now) const;
  // True when `state` would hold max_tokens at `now`: such a bucket is the
  // same as a fresh one.
  bool isFull(const std::atomic<uint64_t>& state, event::MonoTime now) const;

 private:
  uint64_t epochAt(event::MonoTime now) const;
  // Tokens in (epoch, tokens) after refilling up to `now_epoch`.
  uint32_t refilled(uint64_t epoch, uint32_t tokens, uint64_t now_epoch) const;
  event::Duration untilFill(uint64_t epoch, event::MonoTime now) const;

  TokenBucketParams params_;
  event::MonoTime start_;
  int64_t interval_ns_;
};

// One bucket: a shape and its state word. Shared by all workers through the
// config that owns it.
class AtomicTokenBucket {
 public:
  AtomicTokenBucket(const TokenBucketParams& params, event::MonoTime start);
  TakeResult tryTake(event::MonoTime now) { return shape_.take(state_, now); }
  bool isFull(event::MonoTime now) const { return shape_.isFull(state_, now); }
  const TokenBucketParams& params() const { return shape_.params(); }

 private:
  TokenBucketShape shape_;
  std::atomic<uint64_t> state_;
};

}  // namespace sluice::ratelimit
