#pragma once
// Shared by the token bucket and key table tests: a fixed start time and
// bucket parameters in one call.

#include "proxy/ratelimit/token_bucket.h"

namespace sluice::ratelimit::bucket_test {

inline const event::MonoTime kStart = event::MonoTime(std::chrono::hours(1000));

inline TokenBucketParams params(uint32_t max, uint32_t per_fill, int interval_ms) {
  TokenBucketParams p;
  p.max_tokens = max;
  p.tokens_per_fill = per_fill;
  p.fill_interval = event::Duration(interval_ms);
  return p;
}

}  // namespace sluice::ratelimit::bucket_test
