#pragma once
// The delay before the ADS client opens stream number `attempt` + 1 after
// `attempt` consecutive failures: 0.5 s doubling to a 30 s ceiling, each
// delay scaled by a uniform factor in [0.5, 1.5) so that proxies cut off by
// one control-plane restart do not all come back in the same instant.
// Unlike util::fullJitterBackoff (request retries) the delay never drops to
// zero: a control plane that just refused a stream gets at least a breath.

#include <chrono>
#include <cstdint>

#include "proxy/util/random.h"

namespace sluice::ads {

inline constexpr std::chrono::milliseconds kReconnectBase{500};
inline constexpr std::chrono::milliseconds kReconnectCeiling{30000};

// `attempt` >= 1. Result in [0.5, 1.5) x min(ceiling, base x 2^(attempt-1)),
// in whole milliseconds.
std::chrono::milliseconds reconnectDelay(uint32_t attempt, util::RandomSource& random);

// The unjittered middle of that range (for tests and logs).
std::chrono::milliseconds reconnectMidpoint(uint32_t attempt);

}  // namespace sluice::ads
