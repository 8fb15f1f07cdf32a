#pragma once
// Pseudo-random numbers. Not for secrets; for load balancing, jitter,
// sampling, request and trace ids.
//
// Code whose behaviour depends on chance takes a RandomSource& so tests can
// inject a seeded or scripted one; production passes threadRandomSource().

#include <cstdint>

namespace sluice::util {

// Per-thread generator, seeded once per thread from the OS.
uint64_t threadRandom();

class RandomSource {
 public:
  virtual ~RandomSource() = default;
  virtual uint64_t next() = 0;
  // Uniform in [0, bound); 0 when bound is 0.
  uint64_t below(uint64_t bound) { return bound == 0 ? 0 : next() % bound; }
  // Uniform in [0, 1).
  double unit() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
};

// This thread's generator behind the RandomSource interface.
RandomSource& threadRandomSource();

}  // namespace sluice::util
