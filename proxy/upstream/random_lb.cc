#include "proxy/upstream/random_lb.h"

#include <algorithm>

namespace sluice::upstream {

namespace {
// Redraws before scanning: with few skipped hosts (the usual retry case) one
// or two redraws find a host and keep the pick weighted.
constexpr int kRedraws = 8;
}  // namespace

void WeightedSampler::build(std::span<const Host> hosts, std::span<const uint32_t> members) {
  hosts_ = hosts;
  cumulative_.clear();
  index_.clear();
  uint64_t total = 0;
  for (uint32_t m : members) {
    total += hosts[m].weight;
    cumulative_.push_back(total);
    index_.push_back(m);
  }
}

size_t WeightedSampler::drawOne(util::RandomSource& random) const {
  const uint64_t r = random.below(cumulative_.back());
  const auto it = std::upper_bound(cumulative_.begin(), cumulative_.end(), r);
  return index_[static_cast<size_t>(it - cumulative_.begin())];
}

size_t WeightedSampler::draw(util::RandomSource& random, const LbContext* ctx) const {
  const size_t first = drawOne(random);
  if (!ctx || !ctx->shouldSkip(hosts_[first])) return first;
  for (int i = 0; i < kRedraws; ++i) {
    const size_t h = drawOne(random);
    if (!ctx->shouldSkip(hosts_[h])) return h;
  }
  // Most members are skipped; starting at a random member keeps the scan
  // from always landing on the same one.
  const size_t start = random.below(index_.size());
  for (size_t i = 0; i < index_.size(); ++i) {
    const size_t h = index_[(start + i) % index_.size()];
    if (!ctx->shouldSkip(hosts_[h])) return h;
  }
  return first;
}

void RandomLb::refresh(std::span<const Host> hosts, std::span<const uint32_t> members) {
  sampler_.build(hosts, members);
}

std::optional<size_t> RandomLb::choose(const LbContext* ctx) {
  if (sampler_.empty()) return std::nullopt;
  return sampler_.draw(random_, ctx);
}

}  // namespace sluice::upstream
