#include "control/kubernetes/backoff.h"

#include <algorithm>

namespace sluice::control::kubernetes {

Backoff::Backoff(std::chrono::milliseconds initial, std::chrono::milliseconds max)
    : initial_(initial), max_(std::max(max, initial)), rng_(std::random_device{}()) {}

std::chrono::milliseconds Backoff::next() {
  auto d = initial_;
  for (int i = 0; i < failures_ && d < max_; ++i) d *= 2;
  d = std::min(d, max_);
  if (failures_ < 62) ++failures_;
  std::uniform_int_distribution<int64_t> jitter(d.count() / 2, d.count());
  return std::chrono::milliseconds(jitter(rng_));
}

}  // namespace sluice::control::kubernetes
