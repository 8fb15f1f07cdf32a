#pragma once
// Fully jittered exponential backoff: the delay before retry number `n`
// (1 for the first retry) is uniform in [0, min(max, base x (2^n - 1))].
// Full jitter spreads a crowd of clients that failed together over the whole
// window, so they do not come back in lockstep; the ceiling grows so a
// persistent failure is probed less and less often. Used for request
// retries, and for reconnecting to Redis and the control plane.

#include <chrono>
#include <cstdint>

#include "proxy/util/random.h"

namespace sluice::util {

// Milliseconds; `max` is the cap on the window, not on the base.
std::chrono::milliseconds fullJitterBackoff(uint32_t n, std::chrono::milliseconds base, std::chrono::milliseconds max,
                                            RandomSource& random);

// The upper bound of that window (for tests and logs).
std::chrono::milliseconds backoffCeiling(uint32_t n, std::chrono::milliseconds base, std::chrono::milliseconds max);

}  // namespace sluice::util
