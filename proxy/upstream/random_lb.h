#pragma once
// Weighted random: each pick lands on a member with probability
// weight / total weight. Cumulative weights are built in refresh(); a pick is
// one random draw and a binary search, no allocation.

#include <vector>

#include "proxy/upstream/load_balancer.h"

namespace sluice::upstream {

// A weighted draw over a member set, with the contract's skip rule. Shared by
// RandomLb and LeastRequestLb (which draws its candidates with it).
class WeightedSampler {
 public:
  void build(std::span<const Host> hosts, std::span<const uint32_t> members);
  bool empty() const { return index_.empty(); }
  size_t size() const { return index_.size(); }
  // Host index drawn by weight. Hosts `ctx` skips are redrawn a few times,
  // then a scan finds any member not skipped; with all skipped, the first
  // draw is returned. Precondition: !empty().
  size_t draw(util::RandomSource& random, const LbContext* ctx) const;

 private:
  size_t drawOne(util::RandomSource& random) const;

  std::span<const Host> hosts_;
  std::vector<uint64_t> cumulative_;  // cumulative_[k] = weights of members 0..k
  std::vector<uint32_t> index_;       // host index of member k
};

class RandomLb final : public LoadBalancer {
 public:
  explicit RandomLb(util::RandomSource& random) : random_(random) {}
  void refresh(std::span<const Host> hosts, std::span<const uint32_t> members) override;
  std::optional<size_t> choose(const LbContext* ctx) override;

 private:
  util::RandomSource& random_;
  WeightedSampler sampler_;
};

}  // namespace sluice::upstream
