#include "proxy/upstream/least_request_lb.h"

namespace sluice::upstream {

namespace {
int64_t activeRequests(const Host& h) { return h.stats ? h.stats->rq_active.value() : 0; }
}  // namespace

void LeastRequestLb::refresh(std::span<const Host> hosts, std::span<const uint32_t> members) {
  hosts_ = hosts;
  sampler_.build(hosts, members);
}

std::optional<size_t> LeastRequestLb::choose(const LbContext* ctx) {
  if (sampler_.empty()) return std::nullopt;
  size_t best = sampler_.draw(random_, ctx);
  if (sampler_.size() == 1) return best;
  int64_t best_active = activeRequests(hosts_[best]);
  for (uint32_t i = 1; i < choice_count_; ++i) {
    const size_t h = sampler_.draw(random_, ctx);
    const int64_t active = activeRequests(hosts_[h]);
    if (active < best_active) {
      best = h;
      best_active = active;
    }
  }
  return best;
}

}  // namespace sluice::upstream
