#include "proxy/upstream/ring_hash_lb.h"

#include <algorithm>
#include <bit>
#include <charconv>
#include <string>

#include "proxy/util/hash.h"

namespace sluice::upstream {

RingHashLb::RingHashLb(util::RandomSource& random, uint64_t minimum_ring_size, uint64_t maximum_ring_size)
    : random_(random),
      min_size_(std::min(minimum_ring_size, maximum_ring_size)),
      max_size_(std::max<uint64_t>(maximum_ring_size, 1)) {}

void RingHashLb::refresh(std::span<const Host> hosts, std::span<const uint32_t> members) {
  hosts_ = hosts;
  member_count_ = members.size();
  seen_.assign(hosts.size(), 0);
  epoch_ = 0;
  points_.clear();
  owner_.clear();
  if (members.empty()) return;

  // Sized from every configured host, not just the current members: a host
  // leaving (unhealthy) must only remove its own points, never change how
  // many points the others have, or their keys would move too.
  uint64_t total_weight = 0;
  for (const Host& h : hosts) total_weight += h.weight;
  const uint64_t per_weight = std::bit_ceil(std::max<uint64_t>(1, (min_size_ + total_weight - 1) / total_weight));
  const bool capped = per_weight * total_weight > max_size_;
  const double capped_scale = static_cast<double>(max_size_) / static_cast<double>(total_weight);

  std::vector<std::pair<uint64_t, uint32_t>> ring;
  std::string key;
  for (uint32_t m : members) {
    const Host& h = hosts[m];
    // Every host keeps at least one point, even when the cap is tiny.
    const uint64_t entries = capped ? std::max<uint64_t>(1, static_cast<uint64_t>(h.weight * capped_scale))
                                    : h.weight * per_weight;
    key.assign(h.name);
    key.push_back('_');
    const size_t base = key.size();
    for (uint64_t i = 0; i < entries; ++i) {
      char digits[24];
      const auto end = std::to_chars(digits, digits + sizeof(digits), i).ptr;
      key.resize(base);
      key.append(digits, end);
      ring.emplace_back(util::hash64(key), m);
    }
  }
  // Ties (practically never) break by host index so every worker builds the same ring.
  std::sort(ring.begin(), ring.end());
  points_.reserve(ring.size());
  owner_.reserve(ring.size());
  for (const auto& [point, host] : ring) {
    points_.push_back(point);
    owner_.push_back(host);
  }
}

std::optional<size_t> RingHashLb::choose(const LbContext* ctx) {
  if (points_.empty()) return std::nullopt;
  std::optional<uint64_t> key = ctx ? ctx->hashKey() : std::nullopt;
  const uint64_t k = key ? *key : random_.next();
  size_t pos = static_cast<size_t>(std::lower_bound(points_.begin(), points_.end(), k) - points_.begin());
  if (pos == points_.size()) pos = 0;
  const size_t first = owner_[pos];
  if (!ctx) return first;

  if (++epoch_ == 0) {  // wrapped: old marks could alias the new epoch
    std::fill(seen_.begin(), seen_.end(), 0);
    epoch_ = 1;
  }
  size_t distinct = 0;
  for (size_t step = 0; step < points_.size(); ++step) {
    const uint32_t h = owner_[pos];
    if (seen_[h] != epoch_) {
      seen_[h] = epoch_;
      if (!ctx->shouldSkip(hosts_[h])) return h;
      if (++distinct == member_count_) break;  // every member is skipped
    }
    pos = pos + 1 == points_.size() ? 0 : pos + 1;
  }
  return first;
}

}  // namespace sluice::upstream
