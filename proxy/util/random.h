#pragma once
// Per-thread pseudo-random numbers (seeded once per thread from the OS).
// Not for secrets; for load balancing, sampling, request and trace ids.

#include <cstdint>

namespace sluice::util {

uint64_t threadRandom();

}  // namespace sluice::util
