#include "control/kubernetes/discovery_metrics.h"

namespace sluice::control::kubernetes {

DiscoveryMetrics::DiscoveryMetrics(prometheus::Registry& registry)
    : lists_(prometheus::BuildCounter()
                 .Name("sluice_control_kubernetes_lists_total")
                 .Help("Complete lists of a resource from the Kubernetes API server")
                 .Register(registry)),
      watches_(prometheus::BuildCounter()
                   .Name("sluice_control_kubernetes_watches_total")
                   .Help("Watch requests made to the Kubernetes API server")
                   .Register(registry)),
      relists_(prometheus::BuildCounter()
                   .Name("sluice_control_kubernetes_relists_total")
                   .Help("Lists made again because a watch's resourceVersion was gone (410)")
                   .Register(registry)),
      errors_(prometheus::BuildCounter()
                  .Name("sluice_control_kubernetes_errors_total")
                  .Help("Failed requests, bad responses and dropped watches of the Kubernetes API server")
                  .Register(registry)) {}

ResourceMetrics DiscoveryMetrics::forResource(const std::string& resource) {
  const std::map<std::string, std::string> labels{{"resource", resource}};
  return ResourceMetrics{&lists_.Add(labels), &watches_.Add(labels), &relists_.Add(labels), &errors_.Add(labels)};
}

}  // namespace sluice::control::kubernetes
