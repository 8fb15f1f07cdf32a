#pragma once
// Consistent hashing on a ring of virtual nodes (Karger et al.). Each member
// owns points hash64(name + "_" + i), i < its entry count; a request goes to
// the first point at or after its hash key, walking clockwise past hosts the
// caller skips. A host's points depend only on its name and entry count, so
// adding or removing a host moves only the keys on that host's arcs.
//
// Ring size: the minimum size gives each unit of weight ceil(min / total
// weight) entries, rounded up to a power of two so that count (and every
// surviving host's points) stays the same when a few hosts come or go; if that
// exceeds the maximum, the maximum is shared by weight instead.
//
// refresh() builds the ring (O(R log R)); choose() is a binary search, no
// allocation. A key of nullopt picks a random point.

#include <vector>

#include "proxy/upstream/load_balancer.h"

namespace sluice::upstream {

class RingHashLb final : public LoadBalancer {
 public:
  RingHashLb(util::RandomSource& random, uint64_t minimum_ring_size = 1024,
             uint64_t maximum_ring_size = 8 * 1024 * 1024);
  void refresh(std::span<const Host> hosts, std::span<const uint32_t> members) override;
  std::optional<size_t> choose(const LbContext* ctx) override;

  size_t ringSize() const { return points_.size(); }

 private:
  util::RandomSource& random_;
  uint64_t min_size_;
  uint64_t max_size_;
  std::span<const Host> hosts_;
  size_t member_count_ = 0;
  std::vector<uint64_t> points_;  // sorted ring positions
  std::vector<uint32_t> owner_;   // host index of points_[k]
  // Hosts already checked during one choose(): seen_[host] == epoch_.
  std::vector<uint32_t> seen_;
  uint32_t epoch_ = 0;
};

}  // namespace sluice::upstream
