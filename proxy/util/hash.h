#pragma once
// Stable 64-bit hashing for consistent load balancing (ring hash points,
// Maglev permutations, request hash keys). The result depends only on the
// input bytes: identical across runs, processes, workers and builds, so every
// worker and every proxy instance maps a key to the same host. Not for hash
// flooding defence or secrets. Any thread; no allocation.

#include <cstdint>
#include <string_view>

namespace sluice::util {

// Bijective 64-bit finalizer: every input bit affects every output bit.
uint64_t mix64(uint64_t x);

// Hash of the bytes of `s`. Changing it remaps every consistent-hash key, so
// tests pin its values.
uint64_t hash64(std::string_view s);

}  // namespace sluice::util
