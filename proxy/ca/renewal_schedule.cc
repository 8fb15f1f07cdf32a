#include "proxy/ca/renewal_schedule.h"

#include <algorithm>

namespace sluice::ca {

Millis renewalDelay(WallTime not_before, WallTime not_after, WallTime now, util::RandomSource& random) {
  const int64_t life = std::chrono::duration_cast<Millis>(not_after - not_before).count();
  if (life <= 0) return Millis(0);
  // Uniform in [-life/10, +life/10].
  const int64_t span = life / 10;
  const int64_t jitter = static_cast<int64_t>(random.below(static_cast<uint64_t>(2 * span + 1))) - span;
  const WallTime at = not_before + Millis(life / 2 + jitter);
  return std::max(Millis(0), std::chrono::duration_cast<Millis>(at - now));
}

Millis retryDelay(uint32_t failures, util::RandomSource& random) {
  if (failures == 0) failures = 1;
  // 2^5 x 1 s already passes the ceiling: no shift can overflow.
  const uint32_t shift = std::min<uint32_t>(failures - 1, 16);
  const int64_t full = std::min(kRetryCeiling, kRetryBase * (int64_t{1} << shift)).count();
  return Millis(full / 2 + static_cast<int64_t>(random.below(static_cast<uint64_t>(full / 2 + 1))));
}

}  // namespace sluice::ca
