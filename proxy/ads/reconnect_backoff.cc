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
  const double mid = static_cast<double>(reconnectMidpoint(attempt).count());
  // Not mid x (0.5 + unit): 0.5 + a unit just below 1 rounds to 1.5.
  return std::chrono::milliseconds(static_cast<int64_t>(mid * 0.5 + mid * random.unit()));
}

}  // namespace sluice::ads
