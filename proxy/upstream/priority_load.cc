#include "proxy/upstream/priority_load.h"

#include <algorithm>
#include <cassert>

namespace sluice::upstream {
namespace {

// Splits 100 in proportion to `weights` (whose sum must be > 0). Flooring
// loses at most one point per level; those points go to the largest weight
// so the result sums to exactly 100 and the favoured level stays favoured.
void apportion(const std::vector<uint64_t>& weights, std::vector<uint32_t>& out) {
  uint64_t sum = 0;
  for (uint64_t w : weights) sum += w;
  assert(sum > 0);
  uint32_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    out[i] = static_cast<uint32_t>(weights[i] * 100 / sum);
    given += out[i];
  }
  const size_t largest = std::max_element(weights.begin(), weights.end()) - weights.begin();
  out[largest] += 100 - given;
}

}  // namespace

PriorityLoad computePriorityLoad(std::span<const LevelHealth> levels, uint32_t overprovisioning_percent,
                                 uint32_t panic_threshold_percent) {
  PriorityLoad load;
  load.percent.assign(levels.size(), 0);

  std::vector<uint64_t> health(levels.size(), 0);
  std::vector<uint64_t> totals(levels.size(), 0);
  uint64_t all_hosts = 0;
  uint64_t normalized_health = 0;
  for (size_t i = 0; i < levels.size(); ++i) {
    const LevelHealth& l = levels[i];
    assert(l.healthy <= l.total);
    totals[i] = l.total;
    all_hosts += l.total;
    if (l.total > 0) {
      health[i] = std::min<uint64_t>(100, uint64_t{l.healthy} * overprovisioning_percent / l.total);
    }
    normalized_health = std::min<uint64_t>(100, normalized_health + health[i]);
  }
  if (all_hosts == 0) return load;

  if (normalized_health == 0 || normalized_health < panic_threshold_percent) {
    load.panic = true;
    apportion(totals, load.percent);
    return load;
  }

  std::vector<uint64_t> filled(levels.size(), 0);
  uint64_t remaining = 100;
  for (size_t i = 0; i < levels.size(); ++i) {
    filled[i] = std::min(remaining, health[i]);
    remaining -= filled[i];
  }
  // Below 100 nothing was capped, so the fills are the healths themselves and
  // scaling them keeps each level's share of the capacity that exists.
  apportion(filled, load.percent);
  return load;
}

size_t pickPriorityLevel(const PriorityLoad& load, uint64_t random) {
  const uint64_t r = random % 100;
  uint64_t cumulative = 0;
  for (size_t i = 0; i < load.percent.size(); ++i) {
    cumulative += load.percent[i];
    if (r < cumulative) return i;
  }
  return 0;
}

}  // namespace sluice::upstream
