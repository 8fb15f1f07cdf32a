#pragma once
// Smooth weighted round robin: each pick adds every member's weight to its
// running score, takes the highest and subtracts the total. Weights 5,1,1
// give a,a,b,a,c,a,a - spread out, not in bursts, and exact over a cycle.
// Worker-local like every balancer; choose() is O(members), no allocation.

#include <string>
#include <vector>

#include "proxy/upstream/load_balancer.h"

namespace sluice::upstream {

class RoundRobinLb final : public LoadBalancer {
 public:
  // Keeps the score of every host that is still at the same index with the
  // same name, so a health flap does not restart the cycle.
  void refresh(std::span<const Host> hosts, std::span<const uint32_t> members) override;
  std::optional<size_t> choose(const LbContext* ctx) override;

 private:
  std::span<const Host> hosts_;
  std::vector<uint32_t> members_;
  std::vector<int64_t> score_;     // per index into hosts_
  std::vector<std::string> names_;  // hosts_[i].name when score_[i] was last valid
};

}  // namespace sluice::upstream
