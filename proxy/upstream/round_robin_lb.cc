#include "proxy/upstream/round_robin_lb.h"

namespace sluice::upstream {

void RoundRobinLb::refresh(std::span<const Host> hosts, std::span<const uint32_t> members) {
  // The old host span may already be gone, so identity is checked against
  // names kept from the last refresh.
  std::vector<int64_t> score(hosts.size(), 0);
  std::vector<bool> member(hosts.size(), false);
  for (uint32_t m : members) member[m] = true;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (member[i] && i < names_.size() && names_[i] == hosts[i].name) score[i] = score_[i];
  }
  score_ = std::move(score);
  names_.clear();
  for (const auto& h : hosts) names_.push_back(h.name);
  hosts_ = hosts;
  members_.assign(members.begin(), members.end());
}

std::optional<size_t> RoundRobinLb::choose(const LbContext* ctx) {
  if (members_.empty()) return std::nullopt;

  // Skipped hosts take no part in this pick (their score does not move), unless all are skipped.
  bool filter = false;
  if (ctx) {
    for (uint32_t m : members_) {
      if (!ctx->shouldSkip(hosts_[m])) {
        filter = true;
        break;
      }
    }
  }

  int64_t total = 0;
  std::optional<size_t> best;
  for (uint32_t m : members_) {
    if (filter && ctx->shouldSkip(hosts_[m])) continue;
    score_[m] += hosts_[m].weight;
    total += hosts_[m].weight;
    if (!best || score_[m] > score_[*best]) best = m;
  }
  score_[*best] -= total;
  return best;
}

}  // namespace sluice::upstream
