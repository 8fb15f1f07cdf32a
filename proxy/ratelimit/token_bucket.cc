#include "proxy/ratelimit/token_bucket.h"

#include <algorithm>

namespace sluice::ratelimit {
namespace {

constexpr int kTokenBits = 24;
constexpr uint64_t kTokenMask = (uint64_t{1} << kTokenBits) - 1;
constexpr uint64_t kMaxEpoch = (uint64_t{1} << (64 - kTokenBits)) - 1;

uint64_t pack(uint64_t epoch, uint32_t tokens) { return (epoch << kTokenBits) | tokens; }
uint64_t epochOf(uint64_t state) { return state >> kTokenBits; }
uint32_t tokensOf(uint64_t state) { return static_cast<uint32_t>(state & kTokenMask); }

}  // namespace

TokenBucketShape::TokenBucketShape(const TokenBucketParams& params, event::MonoTime start)
    : params_(params),
      start_(start),
      interval_ns_(std::max<int64_t>(1, std::chrono::nanoseconds(params.fill_interval).count())) {
  params_.max_tokens = std::clamp<uint32_t>(params_.max_tokens, 1, TokenBucketParams::kMaxTokens);
  params_.tokens_per_fill = std::clamp<uint32_t>(params_.tokens_per_fill, 1, TokenBucketParams::kMaxTokens);
}

uint64_t TokenBucketShape::fullState() const { return pack(0, params_.max_tokens); }

uint64_t TokenBucketShape::epochAt(event::MonoTime now) const {
  // A worker's cached time may predate the config (built on the main thread a
  // moment later): that is epoch 0, the bucket's first interval.
  if (now <= start_) return 0;
  const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now - start_).count();
  return std::min<uint64_t>(static_cast<uint64_t>(ns / interval_ns_), kMaxEpoch);
}

uint32_t TokenBucketShape::refilled(uint64_t epoch, uint32_t tokens, uint64_t now_epoch) const {
  if (now_epoch <= epoch) return tokens;  // same interval, or this caller's clock is behind
  const uint64_t elapsed = now_epoch - epoch;
  // elapsed < 2^40 and tokens_per_fill < 2^24: the product fits in 64 bits.
  const uint64_t total = uint64_t{tokens} + elapsed * params_.tokens_per_fill;
  return static_cast<uint32_t>(std::min<uint64_t>(total, params_.max_tokens));
}

event::Duration TokenBucketShape::untilFill(uint64_t epoch, event::MonoTime now) const {
  const auto next = start_ + std::chrono::nanoseconds(static_cast<int64_t>(epoch + 1) * interval_ns_);
  const auto left = std::chrono::ceil<event::Duration>(next - now);
  return std::max(left, event::Duration(1));
}

TakeResult TokenBucketShape::take(std::atomic<uint64_t>& state, event::MonoTime now) const {
  const uint64_t now_epoch = epochAt(now);
  uint64_t cur = state.load(std::memory_order_relaxed);
  for (;;) {
    // The epoch only moves forward: a caller whose `now` is behind keeps the stored one.
    const uint64_t epoch = std::max(epochOf(cur), now_epoch);
    const uint32_t tokens = refilled(epochOf(cur), tokensOf(cur), now_epoch);
    if (tokens == 0) {
      // Nothing to write: an empty bucket in an unchanged epoch stays as it is
      // (a newer epoch always brings at least one token).
      return {false, 0, untilFill(epoch, now)};
    }
    // Relaxed is enough: the word is the whole state and publishes nothing else;
    // exactness comes from the read-modify-write itself.
    if (state.compare_exchange_weak(cur, pack(epoch, tokens - 1), std::memory_order_relaxed,
                                    std::memory_order_relaxed)) {
      return {true, tokens - 1, untilFill(epoch, now)};
    }
  }
}

bool TokenBucketShape::isFull(const std::atomic<uint64_t>& state, event::MonoTime now) const {
  const uint64_t cur = state.load(std::memory_order_relaxed);
  return refilled(epochOf(cur), tokensOf(cur), epochAt(now)) >= params_.max_tokens;
}

AtomicTokenBucket::AtomicTokenBucket(const TokenBucketParams& params, event::MonoTime start)
    : shape_(params, start), state_(shape_.fullState()) {}

}  // namespace sluice::ratelimit
