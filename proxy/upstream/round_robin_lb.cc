#include "proxy/upstream/round_robin_lb.h"

namespace sluice::upstream {

std::optional<size_t> RoundRobinLb::choose(std::span<const Host> hosts, const LbContext* ctx) {
  if (hosts.empty()) return std::nullopt;
  if (current_.size() != hosts.size()) current_.assign(hosts.size(), 0);

  // Skipped hosts take no part in this pick (their score does not move), unless all are skipped.
  bool any_eligible = false;
  if (ctx) {
    for (const auto& h : hosts) any_eligible = any_eligible || !ctx->shouldSkip(h);
  }
  const bool filter = ctx && any_eligible;

  int64_t total = 0;
  std::optional<size_t> best;
  for (size_t i = 0; i < hosts.size(); ++i) {
    if (filter && ctx->shouldSkip(hosts[i])) continue;
    current_[i] += hosts[i].weight;
    total += hosts[i].weight;
    if (!best || current_[i] > current_[*best]) best = i;
  }
  current_[*best] -= total;
  return best;
}

}  // namespace sluice::upstream
