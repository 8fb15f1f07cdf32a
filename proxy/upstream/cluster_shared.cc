#include "proxy/upstream/cluster_shared.h"

namespace sluice::upstream {

const char* routingPriorityName(RoutingPriority p) { return p == RoutingPriority::High ? "high" : "normal"; }

HostShared& ClusterShared::host(const std::string& address) {
  auto& slot = hosts_[address];
  if (!slot) slot = std::make_unique<HostShared>();
  return *slot;
}

}  // namespace sluice::upstream
