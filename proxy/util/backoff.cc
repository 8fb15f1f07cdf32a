#include "proxy/util/backoff.h"

#include <algorithm>

namespace sluice::util {

std::chrono::milliseconds backoffCeiling(uint32_t n, std::chrono::milliseconds base, std::chrono::milliseconds max) {
  if (n == 0 || base.count() <= 0) return std::chrono::milliseconds(0);
  // 2^n - 1 overflows long before it could matter: past 2^40 the cap wins.
  const uint64_t factor = n >= 40 ? (uint64_t{1} << 40) : (uint64_t{1} << n) - 1;
  const uint64_t b = static_cast<uint64_t>(base.count());
  const uint64_t window = b > (uint64_t{1} << 62) / factor ? UINT64_MAX : b * factor;
  return std::chrono::milliseconds(std::min<uint64_t>(window, static_cast<uint64_t>(std::max<int64_t>(max.count(), 0))));
}

std::chrono::milliseconds fullJitterBackoff(uint32_t n, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                            RandomSource& random) {
  const auto ceiling = backoffCeiling(n, base, max);
  // Inclusive of the ceiling: [0, ceiling].
  return std::chrono::milliseconds(random.below(static_cast<uint64_t>(ceiling.count()) + 1));
}

}  // namespace sluice::util
