#pragma once
// Maglev consistent hashing (Eisenbud et al., NSDI 2016): a lookup table of
// prime size M where each member fills slots in its own permutation order
// (offset + j * skip) mod M, taking turns in proportion to its weight. A pick
// is table[key % M]: O(1), no allocation. Adding or removing one of N hosts
// moves about 1/N of keys, a little more than a ring would, in exchange for
// even shares and constant-time lookup.
//
// refresh() rebuilds the table (O(M) plus permutation collisions). A key of
// nullopt picks a random slot; a skipped host is avoided by rehashing the key
// a few times, then by scanning the members.

#include <vector>

#include "proxy/upstream/load_balancer.h"

namespace sluice::upstream {

class MaglevLb final : public LoadBalancer {
 public:
  // A table size that is not prime is raised to the next prime: the
  // permutations only cover every slot when M is prime.
  MaglevLb(util::RandomSource& random, uint64_t table_size = 65537);
  void refresh(std::span<const Host> hosts, std::span<const uint32_t> members) override;
  std::optional<size_t> choose(const LbContext* ctx) override;

  uint64_t tableSize() const { return size_; }

 private:
  util::RandomSource& random_;
  uint64_t size_;
  std::span<const Host> hosts_;
  std::vector<uint32_t> members_;
  std::vector<uint32_t> table_;  // host index per slot; empty when there are no members
};

}  // namespace sluice::upstream
