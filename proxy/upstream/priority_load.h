#pragma once
// How a cluster's traffic splits over its endpoint priority levels (Envoy's
// semantics). Pure functions: the main thread recomputes a PriorityLoad
// whenever a level's host or health counts change and publishes it with the
// host set; workers only call pickPriorityLevel on the published value.
//
// Level i's health is min(100, healthy_i * overprovisioning / total_i). Loads
// fill in priority order: level 0 takes up to its health, each next level up
// to its health out of what is left. When the summed health (capped at 100,
// the "normalized total health") is below 100, the loads are scaled up to sum
// to 100, so a degraded cluster still sends everything to healthy levels.
//
// Panic: when the normalized total health is below panic_threshold_percent,
// each level gets load in proportion to its TOTAL host count and the load
// balancer uses all of a level's hosts, healthy or not. A threshold of 0
// disables that, except with no usable health anywhere (no healthy host, or
// too few to register a percent): then the result is always panic, so
// traffic keeps flowing to hosts that may recover rather than to none.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace sluice::upstream {

// Host counts of one priority level; healthy <= total.
struct LevelHealth {
  uint32_t total = 0;
  uint32_t healthy = 0;
};

struct PriorityLoad {
  // Per level, summing to 100; all 0 only when there are no hosts at all.
  std::vector<uint32_t> percent;
  // Balance over all hosts of each level, healthy or not.
  bool panic = false;
};

// `levels` is indexed by priority (0 first). Rounding leftovers go to the
// level with the largest share (the first among equals).
PriorityLoad computePriorityLoad(std::span<const LevelHealth> levels, uint32_t overprovisioning_percent,
                                 uint32_t panic_threshold_percent);

// The level for one pick, given a uniform random value: `random % 100` falls
// into the cumulative percents, so only levels with percent > 0 are chosen.
// Returns 0 when every percent is 0 (no hosts); the caller then has nothing to pick.
size_t pickPriorityLevel(const PriorityLoad& load, uint64_t random);

}  // namespace sluice::upstream
