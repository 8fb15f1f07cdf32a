#pragma once
// Exponential backoff with jitter: the n-th delay after consecutive
// failures is a random time in [d/2, d], d = initial * 2^(n-1) capped at
// max, so that many watches failing together do not retry together.

#include <chrono>
#include <random>

namespace sluice::control::kubernetes {

class Backoff {
 public:
  Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max);
  std::chrono::milliseconds next();
  void reset() { failures_ = 0; }

 private:
  std::chrono::milliseconds initial_, max_;
  int failures_ = 0;
  std::mt19937_64 rng_;
};

}  // namespace sluice::control::kubernetes
