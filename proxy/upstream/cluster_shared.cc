#include "proxy/upstream/cluster_shared.h"

#include <algorithm>

namespace sluice::upstream {

const char* routingPriorityName(RoutingPriority p) { return p == RoutingPriority::High ? "high" : "normal"; }

uint32_t retryLimit(const config::CircuitBreakerThresholds& t, const BreakerGroup& g) {
  if (!t.retry_budget) return t.max_retries;
  // `requests` counts every request from routing to its end, pending ones included.
  const int64_t load = g.requests.active();
  const uint64_t budget = static_cast<uint64_t>(load > 0 ? load : 0) * t.retry_budget->budget_percent / 100;
  return static_cast<uint32_t>(std::max<uint64_t>(budget, t.retry_budget->min_retry_concurrency));
}

HostShared& ClusterShared::host(const std::string& address) {
  auto& slot = hosts_[address];
  if (!slot) slot = std::make_unique<HostShared>();
  return *slot;
}

}  // namespace sluice::upstream
