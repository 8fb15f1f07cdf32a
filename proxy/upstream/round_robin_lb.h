#pragma once
// Smooth weighted round robin: each pick adds every host's weight to its
// running score, takes the highest and subtracts the total. Weights 5,1,1
// give a,a,b,a,c,a,a - spread out, not in bursts.

#include <vector>

#include "proxy/upstream/load_balancer.h"

namespace sluice::upstream {

class RoundRobinLb final : public LoadBalancer {
 public:
  std::optional<size_t> choose(std::span<const Host> hosts, const LbContext* ctx) override;

 private:
  std::vector<int64_t> current_;  // per-host running score
};

}  // namespace sluice::upstream
