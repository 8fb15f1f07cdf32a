#include "proxy/ads/reconnect_backoff.h"

#include <algorithm>

namespace sluice::ads {

std::chrono::milliseconds reconnectMidpoint(uint32_t attempt) {
  if (attempt == 0) attempt = 1;
  // 2^6 x 0.5 s already passes the ceiling: no shift can overflow.
  const uint32_t shift = std::min<uint32_t>(attempt - 1, 16);
  return std::min(kReconnectCeiling, kReconnectBase * (int64_t{1} << shift));
}

std::chrono::milliseconds reconnectDelay(uint32_t attempt, util::RandomSource& random) {
  // Whole milliseconds: a floating-point factor just below 1.5 rounds to it.
  const auto mid = static_cast<uint64_t>(reconnectMidpoint(attempt).count());
  return std::chrono::milliseconds(mid / 2 + random.below(mid));
}

}  // namespace sluice::ads
