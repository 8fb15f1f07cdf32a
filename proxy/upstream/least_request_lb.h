#pragma once
// Least request by the power of d choices: draw `choice_count` members by
// weighted random and take the one with the fewest active requests on this
// worker (Host::stats->rq_active; no stats counts as 0). Ties go to the
// first drawn, so with no load the shares equal the weights. A pick is
// choice_count draws, O(choice_count * log members), no allocation.

#include "proxy/upstream/random_lb.h"

namespace sluice::upstream {

class LeastRequestLb final : public LoadBalancer {
 public:
  // choice_count 0 is treated as 1 (plain weighted random).
  LeastRequestLb(util::RandomSource& random, uint32_t choice_count = 2)
      : random_(random), choice_count_(choice_count == 0 ? 1 : choice_count) {}
  void refresh(std::span<const Host> hosts, std::span<const uint32_t> members) override;
  std::optional<size_t> choose(const LbContext* ctx) override;

 private:
  util::RandomSource& random_;
  uint32_t choice_count_;
  std::span<const Host> hosts_;
  WeightedSampler sampler_;
};

}  // namespace sluice::upstream
