#pragma once
// Discovery's metrics, on sluice-control's /metrics, by resource
// ("services", "endpointslices", "pods", "namespaces", "serviceaccounts"):
//   sluice_control_kubernetes_lists_total     complete lists (every page read)
//   sluice_control_kubernetes_watches_total   watch requests made
//   sluice_control_kubernetes_relists_total   lists made again because a watch got 410 Gone
//   sluice_control_kubernetes_errors_total    failed requests, bad responses and dropped watches

#include <string>

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/registry.h>

namespace sluice::control::kubernetes {

struct ResourceMetrics {
  prometheus::Counter* lists;
  prometheus::Counter* watches;
  prometheus::Counter* relists;
  prometheus::Counter* errors;
};

class DiscoveryMetrics {
 public:
  explicit DiscoveryMetrics(prometheus::Registry& registry);
  // Thread-safe; the same counters for the same resource.
  ResourceMetrics forResource(const std::string& resource);

 private:
  prometheus::Family<prometheus::Counter>& lists_;
  prometheus::Family<prometheus::Counter>& watches_;
  prometheus::Family<prometheus::Counter>& relists_;
  prometheus::Family<prometheus::Counter>& errors_;
};

}  // namespace sluice::control::kubernetes
